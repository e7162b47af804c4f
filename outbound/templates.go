package outbound

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"sendbox/store"
	"sendbox/whatsapp"
)

// SyncTemplates fetches the message templates from Graph into the store.
func SyncTemplates(ctx context.Context, st *store.Store, graph *whatsapp.Client) (int, error) {
	asOf := time.Now()
	list, err := graph.ListTemplates(ctx)
	if err != nil {
		return 0, err
	}
	out := make([]store.Template, 0, len(list))
	for _, t := range list {
		reason := t.RejectedReason
		if reason == "NONE" {
			reason = ""
		}
		out = append(out, store.Template{Name: t.Name, Language: t.Language, Category: t.Category, Status: t.Status,
			Components: t.Components, MetaID: t.ID, ParameterFormat: t.ParameterFormat, Quality: t.QualityScore.Score, Reason: reason})
	}
	return len(out), st.ReplaceTemplatesAsOf(ctx, out, asOf)
}

// Marketing is the template category that needs the customer's consent.
const Marketing = "MARKETING"

// Utility is the category of order updates, reminders and the like.
const Utility = "UTILITY"

// TemplateSyncError means a template missing from sendbox's list could not
// be looked up at Meta: the send may work once Graph answers again.
type TemplateSyncError struct{ Err error }

func (e *TemplateSyncError) Error() string {
	return "the template is not in sendbox's list and fetching the list from Meta failed: " + e.Err.Error()
}

// Unwrap returns the Graph error.
func (e *TemplateSyncError) Unwrap() error { return e.Err }

// templateSyncGap spaces the syncs a send of an unknown template triggers:
// a burst of sends naming a template Meta does not have asks Graph once.
const templateSyncGap = 10 * time.Second

// templateSync is the Service's on-demand template sync.
type templateSync struct {
	mu   sync.Mutex // held during a sync: concurrent callers wait for it
	last time.Time
	err  error
}

// template returns the synced template a send names. One missing from the
// table triggers a sync from Graph (a template approved since the last
// one); still missing, it is a *whatsapp.ValidationError "unknown_template".
func (s *Service) template(ctx context.Context, tp *whatsapp.Template) (*store.Template, error) {
	t, err := s.Store.TemplateByName(ctx, tp.Name, tp.Language.Code)
	// Unknown, or not approved when sendbox last looked: Meta may know it,
	// or have approved it, since. Ask (at most once per templateSyncGap).
	if errors.Is(err, store.ErrNotFound) || err == nil && !approved(t) {
		if serr := s.syncTemplates(ctx); serr != nil {
			switch {
			case err == nil: // keep what sendbox knew
			case errors.Is(serr, whatsapp.ErrNotConfigured):
				return nil, &whatsapp.ValidationError{Field: "template.name", Code: "unknown_template",
					Message: fmt.Sprintf("sendbox does not know the template %s (%s) and cannot fetch the list from Meta: set SENDBOX_WA_WABA_ID, the WhatsApp Business Account id",
						tp.Name, tp.Language.Code)}
			default:
				return nil, &TemplateSyncError{Err: serr}
			}
		} else if t, err = s.Store.TemplateByName(ctx, tp.Name, tp.Language.Code); errors.Is(err, store.ErrNotFound) {
			return nil, &whatsapp.ValidationError{Field: "template.name", Code: "unknown_template",
				Message: fmt.Sprintf("the WhatsApp Business Account has no template %s in language %s: check the name and the exact language code (en and en_US are different translations), and that Meta approved it",
					tp.Name, tp.Language.Code)}
		}
	}
	if err != nil {
		return nil, err
	}
	if !approved(t) {
		return nil, &whatsapp.ValidationError{Field: "template.name", Code: "template_not_approved",
			Message: fmt.Sprintf("the template %s (%s) is %s at Meta, not approved: it can be sent once Meta approves it",
				tp.Name, tp.Language.Code, t.Status)}
	}
	return t, nil
}

// approved: Meta approved the template (a row synced before statuses
// were kept has none: it was listed as usable).
func approved(t *store.Template) bool {
	return t.Status == "" || strings.EqualFold(t.Status, "APPROVED")
}

// RefreshTemplates syncs the templates from Graph unless a sync ran in the
// last few seconds (whose outcome it then returns): for a reader that did
// not find a template in sendbox's list and wants Meta's word before
// saying it is missing.
func (s *Service) RefreshTemplates(ctx context.Context) error { return s.syncTemplates(ctx) }

// syncTemplates syncs the templates unless another call did in the last
// templateSyncGap, whose outcome it then returns.
func (s *Service) syncTemplates(ctx context.Context) error {
	s.sync.mu.Lock()
	defer s.sync.mu.Unlock()
	if !s.sync.last.IsZero() && time.Since(s.sync.last) < templateSyncGap {
		return s.sync.err
	}
	if s.Graph == nil {
		return fmt.Errorf("%w: no Graph client", whatsapp.ErrNotConfigured)
	}
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, err := SyncTemplates(sctx, s.Store, s.Graph)
	if ctx.Err() != nil {
		return err // the caller gave up: not an answer from Graph to remember
	}
	s.sync.last, s.sync.err = time.Now(), err
	return err
}

// CheckTemplate says whether sendbox can send the template name in lang
// with params body parameters: it must be approved (synced from Meta, or
// fetched now) and take that many. A flow checks its template steps with
// it when published.
func (s *Service) CheckTemplate(ctx context.Context, name, lang string, params int) error {
	tp := &whatsapp.Template{Name: name, Language: whatsapp.TemplateLanguage{Code: lang}}
	t, err := s.template(ctx, tp)
	if err != nil {
		return err
	}
	spec, err := whatsapp.ParseTemplate(t.Components)
	if err != nil {
		return fmt.Errorf("template %s/%s: %w", t.Name, t.Language, err)
	}
	if params > 0 {
		c := whatsapp.TemplateComponent{Type: "body"}
		for range params {
			c.Parameters = append(c.Parameters, whatsapp.TemplateParameter{Type: "text", Text: "x"})
		}
		tp.Components = []whatsapp.TemplateComponent{c}
	}
	return spec.CheckParams(tp)
}

// IsMarketing reports whether the template name in lang is a marketing
// one, as Meta categorised it (fetched from Graph if sendbox does not know
// it yet). An unknown template is an error, as it is to Prepare.
func (s *Service) IsMarketing(ctx context.Context, name, lang string) (bool, error) {
	t, err := s.template(ctx, &whatsapp.Template{Name: name, Language: whatsapp.TemplateLanguage{Code: lang}})
	if err != nil {
		return false, err
	}
	return t.Category == Marketing, nil
}
