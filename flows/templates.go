package flows

import (
	"context"
	"time"

	"sendbox/templates"
)

// MissingTemplate is a template a flow's send steps name that Meta has
// not approved for the account: what to submit in WhatsApp Manager before
// the flow can be published.
type MissingTemplate struct {
	Name     string   `json:"name"`
	Language string   `json:"language"`
	Steps    []string `json:"steps"` // the send steps that use it
	// Status is "missing" when the account has no such template in that
	// language, else Meta's status of it (PENDING, REJECTED, PAUSED…).
	Status string `json:"status"`
	// Suggested is the wording to submit, from sendbox's catalogue (the
	// one the sandbox approves); nil when the catalogue has none for this
	// name in this language.
	Suggested *templates.Template `json:"suggested"`
	// Sample is the suggested body with its example values filled in.
	Sample    string `json:"sample,omitempty"`
	SubmitURL string `json:"submit_url"`
}

// TemplateMissing is the Status of a template the account does not have.
const TemplateMissing = "missing"

// refreshWait bounds how long a reader of the missing templates waits for
// Graph when a template is not in sendbox's list: the editor redraws on
// every change, and the list synced at boot and hourly still answers.
const refreshWait = 5 * time.Second

// MissingTemplates lists, in step order and once each, the templates of
// d's send steps that are not approved on the account, with the wording
// to submit. It reads the templates synced from Meta; one not among them
// asks Graph for the list again first (at most every few seconds), so a
// template approved since the last sync is not reported missing.
func (e *Engine) MissingTemplates(ctx context.Context, d *Definition) ([]MissingTemplate, error) {
	out := []MissingTemplate{}
	if d == nil {
		return out, nil
	}
	type key [2]string // name, language
	var keys []key
	steps := map[key][]string{}
	for _, s := range d.Steps {
		if s.Type != StepSend || s.Template == nil || s.Template.Name == "" {
			continue
		}
		k := key{s.Template.Name, s.Template.Language}
		if steps[k] == nil {
			keys = append(keys, k)
		}
		steps[k] = append(steps[k], s.ID)
	}
	if len(keys) == 0 {
		return out, nil
	}
	synced := map[key]string{} // → status
	read := func() error {
		list, err := e.Store.ListTemplates(ctx, false)
		for _, t := range list {
			synced[key{t.Name, t.Language}] = t.Status
		}
		return err
	}
	if err := read(); err != nil {
		return nil, err
	}
	for _, k := range keys {
		if _, ok := synced[k]; !ok && e.Outbound != nil {
			rctx, cancel := context.WithTimeout(ctx, refreshWait)
			err := e.Outbound.RefreshTemplates(rctx)
			cancel()
			if err == nil {
				if err := read(); err != nil {
					return nil, err
				}
			}
			break
		}
	}
	for _, k := range keys {
		status, ok := synced[k]
		if status == "APPROVED" {
			continue
		}
		if !ok {
			status = TemplateMissing
		}
		m := MissingTemplate{Name: k[0], Language: k[1], Steps: steps[k], Status: status, SubmitURL: templates.ManagerURL}
		if t, ok := templates.Find(k[0], k[1]); ok {
			m.Suggested, m.Sample = &t, t.Sample()
		}
		out = append(out, m)
	}
	return out, nil
}
