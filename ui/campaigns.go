package ui

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
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
// template, or A/B variants, or a flow, to a segment), the draft's
// variables and rules, the pre-launch check, the controls, and live
// progress down to each recipient.

type campaignsView struct {
	Rows      []campaignRow
	Templates []store.Template
	Flows     []store.Flow // published: a campaign can start one per recipient
	Segments  []segmentOption
	CanEdit   bool
	CSRF      string
	Error     string
	Name      string
	SegmentID int64
	AB        abForm
}

// segmentOption is a segment as a campaign form offers it, with its live
// count.
type segmentOption struct {
	ID    int64
	Name  string
	Kind  string
	Count int
}

// segmentOptions lists the segments with their counts now.
func (p *Panel) segmentOptions(ctx context.Context) ([]segmentOption, error) {
	segs, err := p.Store.ListSegments(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]segmentOption, 0, len(segs))
	for i := range segs {
		// The segment list's counts, kept a few minutes: a business with
		// many segments over many contacts would wait for every count on
		// each campaign form. The campaign's check counts live.
		c := p.segmentCount(ctx, &segs[i])
		if c.Err {
			return nil, fmt.Errorf("count segment %d", segs[i].ID)
		}
		out = append(out, segmentOption{ID: segs[i].ID, Name: segs[i].Name, Kind: segs[i].Kind, Count: c.N})
	}
	return out, nil
}

// abForm is the A/B part of a campaign form: the variants (the first is
// the campaign's template), their shares, how the winner is chosen, the
// hold-out.
type abForm struct {
	Rows      []abRow
	Metric    string
	Hours     int
	MinSample int
	Fallback  string
	Holdout   int
}

// abRow is one variant of the form: its name, template ("name|language",
// "" for none) and share.
type abRow struct {
	Index    int
	Name     string
	Template string
	Share    int
}

// abView is what the campaign_ab partial shows: the form, the templates
// a variant may send, how the first variant is named, and whether the
// campaign starts a flow (then only the hold-out applies).
type abView struct {
	F         abForm
	Templates []store.Template
	First     string
	Flow      bool
	Open      bool
	Metrics   []string
}

func (f abForm) view(templates []store.Template, first string, flow bool) abView {
	v := abView{F: f, Templates: templates, First: first, Flow: flow,
		Metrics: []string{campaigns.MetricReply, campaigns.MetricClick, campaigns.MetricConversion}}
	for _, r := range f.Rows {
		v.Open = v.Open || r.Index > 0 && r.Template != ""
	}
	return v
}

// ABView is the A/B part of the new campaign form.
func (v *campaignsView) ABView(first string) abView { return v.AB.view(v.Templates, first, false) }

// ABView is the A/B part of a draft's form.
func (v *campaignView) ABView() abView {
	first := v.Variant.Template
	if first != "" {
		first += " (" + v.Variant.Language + ")"
	}
	return v.ABForm.view(v.Templates, first, v.C.FlowID != 0)
}

// abVariants is how many variants the form offers.
const abVariants = 3

// newABForm fills the A/B part from a campaign's variants and settings.
func newABForm(vs []campaigns.Variant, st campaigns.Settings) abForm {
	f := abForm{Metric: st.ABMetric, Hours: st.ABHours, MinSample: st.ABMinSample, Fallback: st.ABFallback, Holdout: st.HoldoutShare}
	for i := range abVariants {
		row := abRow{Index: i, Name: string(rune('A' + i))}
		if i < len(vs) {
			row.Name, row.Template, row.Share = vs[i].Name, vs[i].Template+"|"+vs[i].Language, vs[i].Share
		}
		f.Rows = append(f.Rows, row)
	}
	if f.Metric == "" {
		f.Metric = campaigns.MetricReply
	}
	if f.Hours == 0 {
		f.Hours = 4
	}
	if f.MinSample == 0 {
		f.MinSample = 100
	}
	if f.Fallback == "" {
		f.Fallback = campaigns.FallbackHigher
	}
	return f
}

// abInput reads the A/B part of a campaign form into in, first being the
// campaign's template (variant A, with its variables) and old the
// variants it had (their variables are kept). With no other variant it
// sends first alone.
func abInput(r *http.Request, in *campaigns.Input, first campaigns.Variant, old []campaigns.Variant) {
	num := func(k string) int { n, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue(k))); return n }
	in.Settings.HoldoutShare = num("holdout_share")
	if first.Name == "" {
		first.Name = "A"
	}
	first.Share = num("ab_share.0")
	vs := []campaigns.Variant{first}
	for i := 1; i < abVariants; i++ {
		k := strconv.Itoa(i)
		tpl := r.PostFormValue("ab_template." + k)
		if tpl == "" {
			continue
		}
		v := campaigns.Variant{Name: strings.TrimSpace(r.PostFormValue("ab_name." + k)), Share: num("ab_share." + k)}
		if v.Name == "" {
			v.Name = string(rune('A' + i))
		}
		v.Template, v.Language, _ = strings.Cut(tpl, "|")
		for _, o := range old {
			if o.Name == v.Name && o.Template == v.Template && o.Language == v.Language {
				v.Params = o.Params
			}
		}
		vs = append(vs, v)
	}
	if len(vs) == 1 {
		in.Template, in.Language, in.Params = first.Template, first.Language, first.Params
		return
	}
	in.Template, in.Language, in.Params, in.Variants = "", "", nil, vs
	in.Settings.ABMetric, in.Settings.ABFallback = r.PostFormValue("ab_metric"), r.PostFormValue("ab_fallback")
	in.Settings.ABHours, in.Settings.ABMinSample = num("ab_hours"), num("ab_min_sample")
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
	if v.Segments, err = p.segmentOptions(ctx); err != nil {
		p.internal(w, r, err)
		return
	}
	if v.AB.Rows == nil {
		v.AB = newABForm(nil, campaigns.Settings{})
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
	seg, _ := strconv.ParseInt(r.URL.Query().Get("segment"), 10, 64)
	p.campaignsPage(w, r, http.StatusOK, &campaignsView{SegmentID: seg})
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

// handleCampaignCreate makes a draft from the name, a template (and
// maybe A/B variants) or a flow, and a segment, and opens it to map the
// variables.
func (p *Panel) handleCampaignCreate(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("name")
	seg, _ := strconv.ParseInt(r.PostFormValue("segment_id"), 10, 64)
	in := campaigns.Input{Name: name, SegmentID: seg}
	// What it sends: "template:name|language" or "flow:id".
	what := r.PostFormValue("send")
	if id, ok := strings.CutPrefix(what, "flow:"); ok {
		in.FlowID, _ = strconv.ParseInt(id, 10, 64)
		in.Settings.HoldoutShare, _ = strconv.Atoi(strings.TrimSpace(r.PostFormValue("holdout_share")))
		if r.PostFormValue("ab_template.1") != "" || r.PostFormValue("ab_template.2") != "" {
			in.Variants = []campaigns.Variant{{Name: "B"}} // refused: a flow has no variants
		}
	} else {
		first := campaigns.Variant{Name: "A"}
		first.Template, first.Language, _ = strings.Cut(strings.TrimPrefix(what, "template:"), "|")
		abInput(r, &in, first, nil)
	}
	c, err := p.Campaigns.Create(r.Context(), in)
	if msg, ok := campaignMessage(err); ok {
		v := &campaignsView{Error: msg, Name: name, SegmentID: seg}
		v.AB = newABForm(in.Variants, in.Settings)
		p.campaignsPage(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, campaignURL(c.ID), http.StatusSeeOther)
}

type campaignView struct {
	C         *store.Campaign
	Variant   campaigns.Variant
	Segment   *store.Segment // nil: deleted
	Segments  []segmentOption
	ABForm    abForm
	Templates []store.Template
	Settings  campaigns.Settings
	Vars      []campaignVar
	Check     *campaigns.Check
	F         *store.CampaignFunnel
	Rs        []store.Recipient
	State     string // the recipients' filter
	States    []string
	CanEdit   bool
	CSRF      string
	Error     string
	Zone      string
	Quiet     bool
	PlusOne   bool
	IsDraft   bool
	AB        bool // several variants: an A/B test
	NVariants int
	Sources   []string // where a variable's value comes from
	LinkBase  string   // the link a template needs for tracked links: <public address>/r/{{1}}
	Flash     string
	An        *analyticsView // the analytics section, once launched
}

type campaignVar struct {
	Name string
	// Button is the link button's text for the end of its link ("" for
	// the header's and body's variables), Link its approved link.
	Button, Link string
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
	if seg, err := p.Store.SegmentByID(ctx, aud.SegmentID); err == nil {
		v.Segment = seg
	}
	v.AB, v.NVariants = len(vs) > 1, len(vs)
	v.ABForm = newABForm(vs, v.Settings)
	v.Sources = []string{campaigns.SourceText, campaigns.SourceName, campaigns.SourceFirstName, campaigns.SourcePhone, campaigns.SourceAttribute,
		campaigns.SourceTrackedLink}
	v.LinkBase = p.Campaigns.TrackedLinkTemplate()
	v.Quiet = v.Settings.QuietHours == nil || *v.Settings.QuietHours
	v.PlusOne = v.Settings.BlockPlusOne == nil || *v.Settings.BlockPlusOne
	if len(vs) > 0 {
		v.Variant = vs[0]
		if tp, err := p.Store.TemplateByName(ctx, v.Variant.Template, v.Variant.Language); err == nil {
			if spec, err := whatsapp.ParseTemplate(tp.Components); err == nil {
				for _, prm := range spec.Params {
					v.Vars = append(v.Vars, campaignVar{Name: prm.Name, Param: v.Variant.Params[prm.Name]})
				}
				for _, i := range spec.URLButtons {
					name := whatsapp.ButtonVariable(i)
					v.Vars = append(v.Vars, campaignVar{Name: name, Button: spec.Buttons[i], Link: spec.URLs[i],
						Param: v.Variant.Params[name]})
				}
			}
		}
	}
	if v.IsDraft && v.CanEdit {
		if v.Segments, err = p.segmentOptions(ctx); err != nil {
			p.internal(w, r, err)
			return
		}
		if v.Templates, err = p.Store.ListTemplates(ctx, true); err != nil {
			p.internal(w, r, err)
			return
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

// handleCampaignSave rewrites a draft from the form: name, segment, each
// variable's source, value and fallback, the A/B variants and the rules.
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
	seg, _ := strconv.ParseInt(r.PostFormValue("segment_id"), 10, 64)
	in := campaigns.Input{Name: r.PostFormValue("name"), SegmentID: seg, Settings: st}
	if c.FlowID != 0 {
		in.FlowID = c.FlowID
		in.Settings.HoldoutShare, _ = strconv.Atoi(strings.TrimSpace(r.PostFormValue("holdout_share")))
	} else if len(vs) > 0 {
		// The form shows every variable of the first variant's template:
		// it says all of its mapping.
		first := vs[0]
		first.Params = map[string]campaigns.Param{}
		for _, name := range r.PostForm["var"] {
			prm := campaigns.Param{Source: r.PostFormValue("source." + name), Fallback: strings.TrimSpace(r.PostFormValue("fallback." + name))}
			val := strings.TrimSpace(r.PostFormValue("value." + name))
			if prm.Source == campaigns.SourceAttribute {
				prm.Key = val
			} else if prm.Source == campaigns.SourceText || prm.Source == campaigns.SourceTrackedLink {
				prm.Value = val
			}
			if prm.Source != "" {
				first.Params[name] = prm
			}
		}
		abInput(r, &in, first, vs)
	}
	on, plus := r.PostFormValue("quiet_hours") == "on", r.PostFormValue("block_plus_one") == "on"
	in.Settings.QuietHours, in.Settings.BlockPlusOne = &on, &plus
	num := func(k string) int { n, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue(k))); return n }
	in.Settings.CapCount, in.Settings.CapDays = num("cap_count"), num("cap_days")
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
