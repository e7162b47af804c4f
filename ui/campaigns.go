package ui

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"sendbox/accounts"
	"sendbox/business"
	"sendbox/campaigns"
	"sendbox/store"
	"sendbox/whatsapp"
)

// The campaigns: the list with each one's figures, a new campaign (a
// template to the contacts with a tag), the draft's variables and rules,
// the pre-launch check, the controls, and live progress down to each
// recipient. A/B variants are set through the API for now.

type campaignsView struct {
	Rows      []campaignRow
	Templates []store.Template
	Flows     []store.Flow // published: a campaign can start one per recipient
	CanEdit   bool
	CSRF      string
	Error     string
	Name, Tag string
}

type campaignRow struct {
	store.Campaign
	F *store.CampaignFunnel
}

func (p *Panel) campaignsPage(w http.ResponseWriter, r *http.Request, status int, v *campaignsView) {
	ctx := r.Context()
	s := sessionFrom(r)
	v.CanEdit, v.CSRF = accounts.Can(s.User.Role, accounts.Admin), s.CSRF
	cs, err := p.Store.Campaigns(ctx)
	if err != nil {
		p.internal(w, r, err)
		return
	}
	for _, c := range cs {
		f, err := p.Store.CampaignProgress(ctx, c.ID)
		if err != nil {
			p.internal(w, r, err)
			return
		}
		v.Rows = append(v.Rows, campaignRow{Campaign: c, F: f})
	}
	if v.Templates, err = p.Store.ListTemplates(ctx, true); err != nil {
		p.internal(w, r, err)
		return
	}
	fs, err := p.Store.Flows(ctx)
	if err != nil {
		p.internal(w, r, err)
		return
	}
	for _, f := range fs {
		if f.Version > 0 {
			v.Flows = append(v.Flows, f)
		}
	}
	p.page(w, r, status, "campaigns", &view{Title: p.T("campaigns.title"), Nav: "campaigns", Data: v})
}

func (p *Panel) handleCampaigns(w http.ResponseWriter, r *http.Request) {
	p.campaignsPage(w, r, http.StatusOK, &campaignsView{})
}

func campaignURL(id int64) string { return "/campaigns/" + strconv.FormatInt(id, 10) }

// campaignMessage words a refusal of a campaign command, or reports that
// err is not one.
func campaignMessage(err error) (string, bool) {
	var ie *campaigns.InputError
	if errors.As(err, &ie) {
		return sentence(ie.Message), true
	}
	return "", false
}

// handleCampaignCreate makes a draft from the name, a template and a tag,
// and opens it to map the variables.
func (p *Panel) handleCampaignCreate(w http.ResponseWriter, r *http.Request) {
	name, tag := r.PostFormValue("name"), r.PostFormValue("tag")
	in := campaigns.Input{Name: name, Audience: campaigns.Audience{Tag: tag}}
	// What it sends: "template:name|language" or "flow:id".
	what := r.PostFormValue("send")
	if id, ok := strings.CutPrefix(what, "flow:"); ok {
		in.FlowID, _ = strconv.ParseInt(id, 10, 64)
	} else {
		in.Template, in.Language, _ = strings.Cut(strings.TrimPrefix(what, "template:"), "|")
	}
	c, err := p.Campaigns.Create(r.Context(), in)
	if msg, ok := campaignMessage(err); ok {
		p.campaignsPage(w, r, http.StatusUnprocessableEntity, &campaignsView{Error: msg, Name: name, Tag: tag})
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, campaignURL(c.ID), http.StatusSeeOther)
}

type campaignView struct {
	C        *store.Campaign
	Variant  campaigns.Variant
	Tag      string
	Settings campaigns.Settings
	Vars     []campaignVar
	Check    *campaigns.Check
	F        *store.CampaignFunnel
	Rs       []store.Recipient
	State    string // the recipients' filter
	States   []string
	CanEdit  bool
	CSRF     string
	Error    string
	Zone     string
	Quiet    bool
	PlusOne  bool
	IsDraft  bool
	AB       bool     // several variants: an A/B test
	Sources  []string // where a variable's value comes from
	Flash    string
	An       *analyticsView // the analytics section, once launched
}

type campaignVar struct {
	Name string
	campaigns.Param
}

func (p *Panel) campaignPage(w http.ResponseWriter, r *http.Request, status int, id int64, v *campaignView) {
	ctx := r.Context()
	s := sessionFrom(r)
	v.CanEdit, v.CSRF = accounts.Can(s.User.Role, accounts.Admin), s.CSRF
	c, err := p.Store.CampaignByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		p.notFound(w, r)
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	v.C, v.IsDraft = c, c.State == store.CampaignDraft
	var vs []campaigns.Variant
	json.Unmarshal(c.Variants, &vs)
	var aud campaigns.Audience
	json.Unmarshal(c.Audience, &aud)
	json.Unmarshal(c.Settings, &v.Settings)
	v.Tag = aud.Tag
	v.AB = len(vs) > 1
	v.Sources = []string{campaigns.SourceText, campaigns.SourceName, campaigns.SourceFirstName, campaigns.SourcePhone, campaigns.SourceAttribute}
	v.Quiet = v.Settings.QuietHours == nil || *v.Settings.QuietHours
	v.PlusOne = v.Settings.BlockPlusOne == nil || *v.Settings.BlockPlusOne
	if len(vs) > 0 {
		v.Variant = vs[0]
		if tp, err := p.Store.TemplateByName(ctx, v.Variant.Template, v.Variant.Language); err == nil {
			if spec, err := whatsapp.ParseTemplate(tp.Components); err == nil {
				for _, prm := range spec.Params {
					v.Vars = append(v.Vars, campaignVar{Name: prm.Name, Param: v.Variant.Params[prm.Name]})
				}
			}
		}
	}
	if v.IsDraft || c.State == store.CampaignScheduled {
		if v.Check, err = p.Campaigns.Check(ctx, id); err != nil {
			p.internal(w, r, err)
			return
		}
	}
	if v.F, err = p.Store.CampaignProgress(ctx, id); err != nil {
		p.internal(w, r, err)
		return
	}
	if !v.IsDraft {
		if v.An, err = p.campaignAnalytics(ctx, id); err != nil {
			p.internal(w, r, err)
			return
		}
	}
	v.State = r.URL.Query().Get("state")
	if v.Rs, err = p.Store.CampaignRecipients(ctx, id, store.RecipientFilter{State: v.State, Limit: 200}); err != nil {
		p.internal(w, r, err)
		return
	}
	v.States = []string{store.RecipientPending, store.RecipientQueued, store.RecipientSent, store.RecipientDelivered, store.RecipientRead,
		store.RecipientReplied, store.RecipientConverted, store.RecipientFailed, store.RecipientSkipped, store.RecipientCancelled}
	if prof, err := business.Load(ctx, p.Store); err == nil {
		v.Zone = prof.Location().String()
	}
	p.page(w, r, status, "campaign", &view{Title: c.Name, Nav: "campaigns", Data: v})
}

func (p *Panel) handleCampaign(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.notFound(w, r)
		return
	}
	p.campaignPage(w, r, http.StatusOK, id, &campaignView{Flash: r.URL.Query().Get("ok")})
}

// handleCampaignProgress is the live part of the page, polled while the
// campaign runs.
func (p *Panel) handleCampaignProgress(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.notFound(w, r)
		return
	}
	c, err := p.Store.CampaignByID(r.Context(), id)
	if err != nil {
		p.notFound(w, r)
		return
	}
	f, err := p.Store.CampaignProgress(r.Context(), id)
	if err != nil {
		p.internal(w, r, err)
		return
	}
	p.fragment(w, r, "campaign", "progress", &campaignView{C: c, F: f})
}

// handleCampaignSave rewrites a draft from the form: name, tag, each
// variable's source, value and fallback, and the rules.
func (p *Panel) handleCampaignSave(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.notFound(w, r)
		return
	}
	c, err := p.Store.CampaignByID(r.Context(), id)
	if err != nil {
		p.notFound(w, r)
		return
	}
	var vs []campaigns.Variant
	json.Unmarshal(c.Variants, &vs)
	var st campaigns.Settings
	json.Unmarshal(c.Settings, &st)
	in := campaigns.Input{Name: r.PostFormValue("name"), Audience: campaigns.Audience{Tag: r.PostFormValue("tag")}, Settings: st}
	if len(vs) == 1 {
		in.Template, in.Language, in.Params = vs[0].Template, vs[0].Language, map[string]campaigns.Param{}
		for _, name := range r.PostForm["var"] {
			prm := campaigns.Param{Source: r.PostFormValue("source." + name), Fallback: strings.TrimSpace(r.PostFormValue("fallback." + name))}
			val := strings.TrimSpace(r.PostFormValue("value." + name))
			if prm.Source == campaigns.SourceAttribute {
				prm.Key = val
			} else if prm.Source == campaigns.SourceText {
				prm.Value = val
			}
			if prm.Source != "" {
				in.Params[name] = prm
			}
		}
	} else {
		in.Variants, in.FlowID = vs, c.FlowID
	}
	on, plus := r.PostFormValue("quiet_hours") == "on", r.PostFormValue("block_plus_one") == "on"
	in.Settings.QuietHours, in.Settings.BlockPlusOne = &on, &plus
	num := func(k string) int { n, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue(k))); return n }
	in.Settings.CapCount, in.Settings.CapDays, in.Settings.HoldoutShare = num("cap_count"), num("cap_days"), num("holdout_share")
	if _, err := p.Campaigns.Update(r.Context(), id, in); err != nil {
		if msg, ok := campaignMessage(err); ok {
			p.campaignPage(w, r, http.StatusUnprocessableEntity, id, &campaignView{Error: msg})
			return
		}
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, campaignURL(id)+"?ok=saved", http.StatusSeeOther)
}

// handleCampaignAction runs a control: launch, schedule, pause, resume,
// cancel, retry, decide, unschedule, delete.
func (p *Panel) handleCampaignAction(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.notFound(w, r)
		return
	}
	ctx := r.Context()
	action := r.PathValue("action")
	switch action {
	case "launch":
		_, err = p.Campaigns.Launch(ctx, id)
	case "schedule":
		loc := time.UTC
		if prof, perr := business.Load(ctx, p.Store); perr == nil {
			loc = prof.Location()
		}
		at, perr := time.ParseInLocation("2006-01-02T15:04", r.PostFormValue("at"), loc)
		if perr != nil {
			p.campaignPage(w, r, http.StatusUnprocessableEntity, id, &campaignView{Error: p.T("campaigns.bad_time")})
			return
		}
		_, err = p.Campaigns.Schedule(ctx, id, at)
	case "unschedule":
		_, err = p.Campaigns.Unschedule(ctx, id)
	case "pause":
		_, err = p.Campaigns.Pause(ctx, id)
	case "resume":
		_, err = p.Campaigns.Resume(ctx, id)
	case "cancel":
		_, err = p.Campaigns.Cancel(ctx, id)
	case "retry":
		_, err = p.Campaigns.Retry(ctx, id)
	case "decide":
		_, err = p.Campaigns.DecideNow(ctx, id)
	case "delete":
		if err = p.Campaigns.Delete(ctx, id); err == nil {
			http.Redirect(w, r, "/campaigns", http.StatusSeeOther)
			return
		}
	default:
		p.notFound(w, r)
		return
	}
	if msg, ok := campaignMessage(err); ok {
		p.campaignPage(w, r, http.StatusUnprocessableEntity, id, &campaignView{Error: msg})
		return
	}
	if errors.Is(err, store.ErrNotFound) {
		p.notFound(w, r)
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, campaignURL(id)+"?ok="+action, http.StatusSeeOther)
}

// handleCampaignCSV exports the recipients for Excel.
func (p *Panel) handleCampaignCSV(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.notFound(w, r)
		return
	}
	if _, err := p.Store.CampaignByID(r.Context(), id); err != nil {
		p.notFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="campaign-`+strconv.FormatInt(id, 10)+`-recipients.csv"`)
	w.Write([]byte("\xef\xbb\xbf"))
	cw := csv.NewWriter(w)
	cw.Write([]string{"wa_id", "name", "state", "variant", "reason", "error_code", "sent_at", "delivered_at", "read_at", "replied_at"})
	f := store.RecipientFilter{Limit: 1000, State: r.URL.Query().Get("state")}
	for {
		rs, err := p.Store.CampaignRecipients(r.Context(), id, f)
		if err != nil || len(rs) == 0 {
			break
		}
		for _, x := range rs {
			code := ""
			if x.ErrorCode != 0 {
				code = strconv.Itoa(x.ErrorCode)
			}
			ts := func(t time.Time) string {
				if t.IsZero() {
					return ""
				}
				return t.UTC().Format(time.RFC3339)
			}
			cw.Write([]string{x.WaID, x.Name, x.State, x.Variant, x.Reason, code, ts(x.SentAt), ts(x.DeliveredAt), ts(x.ReadAt), ts(x.RepliedAt)})
		}
		f.After = rs[len(rs)-1].ID
	}
	cw.Flush()
}

func (p *Panel) notFound(w http.ResponseWriter, r *http.Request) {
	p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
}
