// Package campaigns sends a template (or several variants of one, or a
// flow) to an audience: the audience is frozen into one recipient row per
// contact, and each recipient goes from pending to exactly one terminal
// state (sent and its progress, failed, skipped with a reason, or
// cancelled). Sending goes through outbound's checks and the sender's bulk
// lane, each recipient's message queued in the same store transaction as
// its state, under an idempotency key of its own.
package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"sendbox/flows"
	"sendbox/outbound"
	"sendbox/store"
	"sendbox/whatsapp"
)

// Variant is one version of the message: a template with how each of its
// variables is filled. Share is its percentage of the audience while an
// A/B test runs (ignored with one variant, which gets everyone).
type Variant struct {
	Name     string           `json:"name"`
	Template string           `json:"template"`
	Language string           `json:"language"`
	Share    int              `json:"share,omitempty"`
	Params   map[string]Param `json:"params,omitempty"`
}

// Param fills one template variable for a recipient: from a fixed text,
// the contact's name or first name, or one of their attributes; Fallback
// is used when the contact has none ("" : the recipient is skipped as
// missing_variables).
type Param struct {
	Source   string `json:"source"` // text, name, first_name, attribute
	Key      string `json:"key,omitempty"`
	Value    string `json:"value,omitempty"`
	Fallback string `json:"fallback,omitempty"`
}

// Param sources.
const (
	SourceText      = "text"
	SourceName      = "name"
	SourceFirstName = "first_name"
	SourceAttribute = "attribute"
	SourcePhone     = "phone"
	// SourceTrackedLink fills a link button's {{1}} with a tracked link
	// to Value (links.go).
	SourceTrackedLink = "tracked_link"
)

// defaults are the template's own variable mapping (set on the Templates
// page), used for the variables a campaign does not map itself.
func defaults(tp *store.Template) map[string]Param {
	out := map[string]Param{}
	for k, v := range tp.VariableMap {
		p := Param{Source: v.From, Value: v.Value, Fallback: v.Fallback}
		if key, ok := strings.CutPrefix(v.From, "attribute:"); ok {
			p.Source, p.Key = SourceAttribute, key
		}
		out[k] = p
	}
	return out
}

// param is how a variant fills a variable: its own mapping, else the
// template's default.
func (v *Variant) param(name string, def map[string]Param) (Param, bool) {
	if p, ok := v.Params[name]; ok {
		return p, true
	}
	p, ok := def[name]
	return p, ok
}

// Audience is who a campaign goes to: a segment's members when the
// audience is frozen into recipients (a frozen segment's members, a
// dynamic segment's rule evaluated then). A tag is a segment rule
// (tag has ...): there is no other audience.
type Audience struct {
	SegmentID int64 `json:"segment_id"`
}

// Settings are a campaign's rules.
type Settings struct {
	// QuietHours holds marketing templates during the business's quiet
	// hours in each recipient's zone (default on); a recipient held longer
	// than MaxHoldHours after the launch is skipped (quiet_hours_expired).
	QuietHours   *bool `json:"quiet_hours,omitempty"`
	MaxHoldHours int   `json:"max_hold_hours,omitempty"` // default 24
	// At most CapCount marketing templates per contact in CapDays days,
	// counting every marketing template queued to them (campaigns, flows,
	// the API); 0: no cap.
	CapCount int `json:"cap_count,omitempty"`
	CapDays  int `json:"cap_days,omitempty"`
	// BlockPlusOne skips +1 numbers for marketing templates, which Meta
	// does not deliver to today (default on).
	BlockPlusOne *bool `json:"block_plus_one,omitempty"`
	// ReplyRouting is inbox (replies go the usual way) or flow (a reply
	// within 72 hours starts ReplyFlowID).
	ReplyRouting string `json:"reply_routing,omitempty"`
	ReplyFlowID  int64  `json:"reply_flow_id,omitempty"`
	// A/B test: with several variants, each gets its Share; after ABHours
	// the one with the best ABMetric rate (reply, click, conversion) wins
	// by a two-proportion z-test at 95 % with at least ABMinSample sent
	// per variant, and the rest of the audience gets it. Inconclusive,
	// ABFallback applies: "higher" (default, the higher observed rate,
	// labelled not significant) or a variant's name.
	ABMetric    string `json:"ab_metric,omitempty"`
	ABHours     int    `json:"ab_hours,omitempty"`
	ABMinSample int    `json:"ab_min_sample,omitempty"`
	ABFallback  string `json:"ab_fallback,omitempty"`
	// HoldoutShare is the percentage of the audience kept out as a
	// control group (skipped: holdout).
	HoldoutShare int `json:"holdout_share,omitempty"`
	// ConversionEvent is the business event (POST /api/v1/events name,
	// such as order.created) that converts a recipient it comes from
	// within ConversionHours of the send (default 72).
	ConversionEvent string `json:"conversion_event,omitempty"`
	ConversionHours int    `json:"conversion_hours,omitempty"`
	// FlowData is what a campaign's flow reads as {{event.*}} in each run
	// (a product, a link), as an event would give it.
	FlowData map[string]string `json:"flow_data,omitempty"`
}

func (s Settings) quiet() bool        { return s.QuietHours == nil || *s.QuietHours }
func (s Settings) blockPlusOne() bool { return s.BlockPlusOne == nil || *s.BlockPlusOne }
func (s Settings) maxHold() time.Duration {
	if s.MaxHoldHours <= 0 {
		return 24 * time.Hour
	}
	return time.Duration(s.MaxHoldHours) * time.Hour
}

// Campaign is a campaign as the API shows it.
type Campaign struct {
	store.Campaign
	VariantList []Variant `json:"-"`
	AudienceDef Audience  `json:"-"`
	SettingsDef Settings  `json:"-"`
}

// Input is a campaign to create or edit. A single template is Template +
// Language + Params; several are Variants; FlowID starts a flow instead.
type Input struct {
	Name     string           `json:"name"`
	Template string           `json:"template,omitempty"`
	Language string           `json:"language,omitempty"`
	Params   map[string]Param `json:"params,omitempty"`
	Variants []Variant        `json:"variants,omitempty"`
	FlowID   int64            `json:"flow_id,omitempty"`
	// SegmentID is the audience; Audience.SegmentID says the same (the
	// stored form) and is read when SegmentID is 0.
	SegmentID int64    `json:"segment_id,omitempty"`
	Audience  Audience `json:"audience"`
	Settings  Settings `json:"settings"`
}

// InputError refuses a command: a stable code and a message in plain words.
type InputError struct {
	Field, Code, Message string
}

func (e *InputError) Error() string { return e.Message }

func bad(field, code, format string, a ...any) error {
	return &InputError{Field: field, Code: code, Message: fmt.Sprintf(format, a...)}
}

// Service holds the campaign commands and the dispatcher.
type Service struct {
	Store    *store.Store
	Outbound *outbound.Service
	Flows    *flows.Engine
	// Location is the business's zone (quiet hours, scheduled times).
	Location func() *time.Location
	// MPS and BulkShare are the sender's: the dispatcher keeps about
	// three seconds of bulk sending queued, no more.
	MPS       int
	BulkShare float64
	// Notify tells the owner that a campaign paused by itself (a template
	// paused by Meta); nil: logged only.
	Notify func(ctx context.Context, c *store.Campaign, reason string)
	Log    *slog.Logger
	Now    func() time.Time
	// BaseURL is the address customers reach sendbox on, for tracked
	// links (links.go); Sandbox says its customers are the simulator's,
	// who reach a local address too.
	BaseURL func() string
	Sandbox bool

	keyMu sync.Mutex
	key   []byte // the tracked links' signing key, once read
	wake  chan struct{}
	once  sync.Once
	done  chan struct{}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Service) loc() *time.Location {
	if s.Location != nil {
		if l := s.Location(); l != nil {
			return l
		}
	}
	return time.UTC
}

// normalize checks an Input and returns the row to store.
func (s *Service) normalize(ctx context.Context, in Input) (*store.Campaign, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return nil, bad("name", "name_required", "give the campaign a name")
	}
	if len(in.Name) > 200 {
		return nil, bad("name", "name_too_long", "the name is longer than 200 characters")
	}
	vs := in.Variants
	if in.Template != "" {
		if len(vs) > 0 {
			return nil, bad("variants", "template_and_variants", "give either a template or variants, not both")
		}
		vs = []Variant{{Name: "A", Template: in.Template, Language: in.Language, Params: in.Params}}
	}
	if in.FlowID != 0 && len(vs) > 0 {
		return nil, bad("flow_id", "flow_and_template", "a campaign sends a template or starts a flow, not both")
	}
	if in.FlowID == 0 && len(vs) == 0 {
		return nil, bad("template", "template_required", "choose a template to send (or a flow to start)")
	}
	if in.FlowID != 0 {
		if _, err := s.Store.FlowByID(ctx, in.FlowID); errors.Is(err, store.ErrNotFound) {
			return nil, bad("flow_id", "unknown_flow", "there is no flow %d", in.FlowID)
		} else if err != nil {
			return nil, err
		}
	}
	names := map[string]bool{}
	total := 0
	for i := range vs {
		v := &vs[i]
		if v.Name == "" {
			v.Name = string(rune('A' + i))
		}
		if names[v.Name] || v.Name == store.HoldoutVariant {
			return nil, bad("variants", "duplicate_variant", "two variants are called %q", v.Name)
		}
		names[v.Name] = true
		if v.Template == "" || v.Language == "" {
			return nil, bad("variants", "template_required", "variant %s needs a template name and language", v.Name)
		}
		for k, p := range v.Params {
			switch p.Source {
			case SourceText:
				if strings.TrimSpace(p.Value) == "" {
					return nil, bad("params."+k, "empty_value", "the variable %s has no text", k)
				}
			case SourceName, SourceFirstName, SourcePhone:
			case SourceAttribute:
				if p.Key == "" {
					return nil, bad("params."+k, "attribute_required", "the variable %s reads an attribute: name it in key", k)
				}
			case SourceTrackedLink:
				if _, ok := buttonIndex(k); !ok {
					return nil, bad("params."+k, "invalid_source", "only a link button's end (button_<index>) can be a tracked link, not %s", k)
				}
				if u, err := url.Parse(strings.TrimSpace(p.Value)); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
					return nil, bad("params."+k, "invalid_url", "the tracked link %s leads nowhere: its value must be a web address (https://…)", k)
				}
			default:
				return nil, bad("params."+k, "invalid_source", "the variable %s: source is text, name, first_name, phone, attribute or tracked_link, not %q", k, p.Source)
			}
		}
		if v.Share < 0 || v.Share > 100 {
			return nil, bad("variants", "invalid_share", "variant %s: a share is a percentage, 0 to 100", v.Name)
		}
		total += v.Share
	}
	st := in.Settings
	if len(vs) > 1 {
		if total+st.HoldoutShare > 100 {
			return nil, bad("variants", "shares_over_100", "the variants' shares and the hold-out add up to more than 100 %%")
		}
		for _, v := range vs {
			if v.Share == 0 {
				return nil, bad("variants", "share_required", "variant %s needs its share of the audience for the test", v.Name)
			}
		}
		switch st.ABMetric {
		case "":
			st.ABMetric = MetricReply
		case MetricReply, MetricClick, MetricConversion:
		default:
			return nil, bad("settings.ab_metric", "invalid_metric", "the winner is chosen by reply, click or conversion rate")
		}
		if st.ABHours <= 0 {
			st.ABHours = 4
		}
		if st.ABMinSample <= 0 {
			st.ABMinSample = 100
		}
		if st.ABFallback != "" && st.ABFallback != FallbackHigher && !names[st.ABFallback] {
			return nil, bad("settings.ab_fallback", "invalid_fallback", "the fallback is \"higher\" or a variant's name")
		}
	}
	if st.HoldoutShare < 0 || st.HoldoutShare > 50 {
		return nil, bad("settings.holdout_share", "invalid_holdout", "the hold-out is 0 to 50 %% of the audience")
	}
	if (st.CapCount > 0) != (st.CapDays > 0) || st.CapCount < 0 || st.CapDays < 0 || st.CapDays > 365 {
		return nil, bad("settings.cap_count", "invalid_cap", "a frequency cap is a number of messages (cap_count) in a number of days (cap_days, at most 365)")
	}
	if st.MaxHoldHours < 0 || st.MaxHoldHours > 24*14 {
		return nil, bad("settings.max_hold_hours", "invalid_max_hold", "a recipient can be held 0 to 336 hours")
	}
	switch st.ReplyRouting {
	case "", "inbox":
		st.ReplyRouting = "inbox"
	case "flow":
		if st.ReplyFlowID == 0 {
			return nil, bad("settings.reply_flow_id", "flow_required", "replies go to a flow: choose which")
		}
	default:
		return nil, bad("settings.reply_routing", "invalid_routing", "replies go to the inbox or a flow")
	}
	if st.ConversionHours < 0 || st.ConversionHours > 24*90 {
		return nil, bad("settings.conversion_hours", "invalid_window", "a conversion window is 1 to 2160 hours")
	}
	if st.ReplyRouting == "flow" {
		if _, err := s.Store.FlowByID(ctx, st.ReplyFlowID); errors.Is(err, store.ErrNotFound) {
			return nil, bad("settings.reply_flow_id", "unknown_flow", "there is no flow %d", st.ReplyFlowID)
		} else if err != nil {
			return nil, err
		}
	}
	if in.SegmentID == 0 {
		in.SegmentID = in.Audience.SegmentID
	}
	switch {
	case in.SegmentID == 0:
		return nil, bad("segment_id", "audience_required", "choose who the campaign goes to: segment_id, a segment (GET /api/v1/segments)")
	case in.SegmentID < 0:
		return nil, bad("segment_id", "unknown_segment", "segment_id is a segment's id")
	}
	if _, err := s.Store.SegmentByID(ctx, in.SegmentID); errors.Is(err, store.ErrNotFound) {
		return nil, bad("segment_id", "unknown_segment", "there is no segment %d (it may have been deleted)", in.SegmentID)
	} else if err != nil {
		return nil, err
	}
	in.Audience = Audience{SegmentID: in.SegmentID}
	c := &store.Campaign{Name: in.Name, FlowID: in.FlowID}
	if len(vs) > 0 {
		c.TemplateName, c.TemplateLanguage = vs[0].Template, vs[0].Language
	}
	var err error
	if c.Variants, err = json.Marshal(vs); err != nil {
		return nil, err
	}
	c.Audience, _ = json.Marshal(in.Audience)
	c.Settings, _ = json.Marshal(st)
	return c, nil
}

// decode reads a stored campaign's definition.
func decode(c *store.Campaign) (*Campaign, error) {
	out := &Campaign{Campaign: *c}
	if err := json.Unmarshal(c.Variants, &out.VariantList); err != nil {
		return nil, fmt.Errorf("campaign %d variants: %w", c.ID, err)
	}
	if err := json.Unmarshal(c.Audience, &out.AudienceDef); err != nil {
		return nil, fmt.Errorf("campaign %d audience: %w", c.ID, err)
	}
	if err := json.Unmarshal(c.Settings, &out.SettingsDef); err != nil {
		return nil, fmt.Errorf("campaign %d settings: %w", c.ID, err)
	}
	return out, nil
}

// variantFor is the variant a recipient gets: their own, else (the rest
// after an A/B test) the winner, else the first.
func (c *Campaign) variantFor(r *store.Recipient) *Variant {
	name := r.Variant
	if name == "" {
		name = c.Winner
	}
	for i := range c.VariantList {
		if c.VariantList[i].Name == name {
			return &c.VariantList[i]
		}
	}
	return &c.VariantList[0]
}

// Create writes a draft campaign.
func (s *Service) Create(ctx context.Context, in Input) (*store.Campaign, error) {
	c, err := s.normalize(ctx, in)
	if err != nil {
		return nil, err
	}
	out, err := s.Store.CreateCampaign(ctx, c)
	if errors.Is(err, store.ErrSegmentMissing) {
		return nil, bad("segment_id", "unknown_segment", "there is no segment %d (it was deleted)", in.SegmentID)
	}
	return out, err
}

// Update rewrites a draft campaign.
func (s *Service) Update(ctx context.Context, id int64, in Input) (*store.Campaign, error) {
	c, err := s.normalize(ctx, in)
	if err != nil {
		return nil, err
	}
	c.ID = id
	out, err := s.Store.UpdateCampaign(ctx, c)
	if errors.Is(err, store.ErrCampaignState) {
		return nil, bad("state", "not_draft", "only a draft can be edited")
	}
	if errors.Is(err, store.ErrSegmentMissing) {
		return nil, bad("segment_id", "unknown_segment", "there is no segment %d (it was deleted)", in.SegmentID)
	}
	return out, err
}

// Delete deletes a campaign that is not under way.
func (s *Service) Delete(ctx context.Context, id int64) error {
	err := s.Store.DeleteCampaign(ctx, id)
	if errors.Is(err, store.ErrCampaignState) {
		return bad("state", "under_way", "a scheduled, running or paused campaign cannot be deleted: cancel it first")
	}
	return err
}

// errSegmentGone: the campaign's segment was deleted after the campaign
// was made.
var errSegmentGone = errors.New("the campaign's segment was deleted")

// where is the audience's WHERE clause over contacts c, now: a frozen
// segment's members, a dynamic segment's rule evaluated at this time.
// It returns the segment too (nil with errSegmentGone).
func (s *Service) where(ctx context.Context, a Audience) (string, []any, *store.Segment, error) {
	if a.SegmentID == 0 {
		return "", nil, nil, bad("segment_id", "audience_required", "the campaign has no segment")
	}
	seg, err := s.Store.SegmentByID(ctx, a.SegmentID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, nil, errSegmentGone
	}
	if err != nil {
		return "", nil, nil, err
	}
	w, args, err := s.Store.SegmentAudience(seg)
	if err != nil {
		return "", nil, nil, fmt.Errorf("segment %d: %w", seg.ID, err)
	}
	return w, args, seg, nil
}

func (s *Service) move(ctx context.Context, m store.CampaignMove, what string) (*store.Campaign, error) {
	c, err := s.Store.MoveCampaign(ctx, m)
	if errors.Is(err, store.ErrCampaignState) {
		state := ""
		if c != nil {
			state = c.State
		}
		return nil, bad("state", "invalid_state", "a %s campaign cannot be %s", state, what)
	}
	return c, err
}

// Launch starts a draft or scheduled campaign now, once the pre-launch
// check finds nothing that stops it.
func (s *Service) Launch(ctx context.Context, id int64) (*store.Campaign, error) {
	c, err := s.ready(ctx, id)
	if err != nil {
		return nil, err
	}
	out, err := s.move(ctx, store.CampaignMove{ID: id, From: []string{store.CampaignDraft, store.CampaignScheduled},
		To: store.CampaignRunning, TestUntil: testUntil(c, s.now())}, "launched")
	s.Wake()
	return out, err
}

// Schedule sets a draft campaign to launch at a time (a durable timer).
func (s *Service) Schedule(ctx context.Context, id int64, at time.Time) (*store.Campaign, error) {
	if !at.After(s.now()) {
		return nil, bad("scheduled_at", "in_the_past", "choose a time in the future")
	}
	if _, err := s.ready(ctx, id); err != nil {
		return nil, err
	}
	return s.move(ctx, store.CampaignMove{ID: id, From: []string{store.CampaignDraft, store.CampaignScheduled},
		To: store.CampaignScheduled, ScheduledAt: at}, "scheduled")
}

// Pause stops dispatching; messages already queued still go.
func (s *Service) Pause(ctx context.Context, id int64) (*store.Campaign, error) {
	return s.move(ctx, store.CampaignMove{ID: id, From: []string{store.CampaignRunning}, To: store.CampaignPaused,
		Reason: "paused by a person"}, "paused")
}

// Resume dispatches a paused campaign again.
func (s *Service) Resume(ctx context.Context, id int64) (*store.Campaign, error) {
	out, err := s.move(ctx, store.CampaignMove{ID: id, From: []string{store.CampaignPaused}, To: store.CampaignRunning}, "resumed")
	s.Wake()
	return out, err
}

// Unschedule puts a scheduled campaign back to draft.
func (s *Service) Unschedule(ctx context.Context, id int64) (*store.Campaign, error) {
	return s.move(ctx, store.CampaignMove{ID: id, From: []string{store.CampaignScheduled}, To: store.CampaignDraft}, "unscheduled")
}

// Cancel ends a campaign: its pending recipients are cancelled (in
// batches); messages already queued still go.
func (s *Service) Cancel(ctx context.Context, id int64) (*store.Campaign, error) {
	c, err := s.move(ctx, store.CampaignMove{ID: id, From: []string{store.CampaignDraft, store.CampaignScheduled,
		store.CampaignRunning, store.CampaignPaused}, To: store.CampaignCancelled}, "cancelled")
	if err != nil {
		return nil, err
	}
	for {
		n, err := s.Store.CancelPendingRecipients(ctx, id, 2000)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return c, nil
		}
	}
}

// Retry puts the failed recipients back to pending (each with a new
// attempt) and runs the campaign again. It returns how many.
func (s *Service) Retry(ctx context.Context, id int64) (int, error) {
	c, err := s.Store.CampaignByID(ctx, id)
	if err != nil {
		return 0, err
	}
	if c.State != store.CampaignDone && c.State != store.CampaignRunning && c.State != store.CampaignPaused {
		return 0, bad("state", "invalid_state", "a %s campaign has nothing to retry", c.State)
	}
	n, err := s.Store.RetryFailedRecipients(ctx, id)
	if err != nil || n == 0 {
		return n, err
	}
	if c.State == store.CampaignDone {
		if _, err := s.move(ctx, store.CampaignMove{ID: id, From: []string{store.CampaignDone}, To: store.CampaignRunning}, "retried"); err != nil {
			return 0, err
		}
	}
	s.Wake()
	return n, nil
}

// DecideNow ends a running A/B test early: the winner is chosen from the
// figures so far (by the same test and fallback) and the rest of the
// audience gets it.
func (s *Service) DecideNow(ctx context.Context, id int64) (*store.Campaign, error) {
	sc, err := s.Store.CampaignByID(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := decode(sc)
	if err != nil {
		return nil, err
	}
	switch {
	case len(c.VariantList) < 2:
		return nil, bad("variants", "no_test", "the campaign has one variant: there is nothing to decide")
	case c.Winner != "":
		return nil, bad("winner", "decided", "the test is decided already: %s", c.Winner)
	case sc.State != store.CampaignRunning && sc.State != store.CampaignPaused:
		return nil, bad("state", "invalid_state", "a %s campaign has no test under way", sc.State)
	}
	if _, err := s.decide(ctx, c); err != nil {
		return nil, err
	}
	s.Wake()
	return s.Store.CampaignByID(ctx, id)
}

// testUntil is when an A/B test decides: ABHours after the launch.
func testUntil(c *Campaign, now time.Time) time.Time {
	if len(c.VariantList) < 2 {
		return time.Time{}
	}
	return now.Add(time.Duration(c.SettingsDef.ABHours) * time.Hour)
}

// FireLaunch is the scheduler's handler of a scheduled launch.
func (s *Service) FireLaunch(ctx context.Context, tx *store.TimerTx, tm *store.Timer) (bool, error) {
	ok, err := tx.FireCampaignLaunch(tm, func(sc *store.Campaign) time.Time {
		c, err := decode(sc)
		if err != nil {
			return time.Time{}
		}
		return testUntil(c, tx.Now())
	})
	if ok {
		defer s.Wake()
	}
	return ok, err
}

// Check is the pre-launch check: what stops the launch (Problems) and
// what will happen to part of the audience (counts by reason).
type Check struct {
	// Segment is the audience's segment (its id, name and kind), nil when
	// it was deleted; Audience its live count, now.
	Segment  *CheckSegment  `json:"segment"`
	Audience int            `json:"audience"`
	Problems []Problem      `json:"problems"`
	Counts   map[string]int `json:"counts"`
	// Cost is the estimate by the rate card (see Estimate).
	Cost *Cost `json:"cost,omitempty"`
}

// CheckSegment names the segment a check counted.
type CheckSegment struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// Problem is one thing that stops a launch.
type Problem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Check runs the pre-launch check of a campaign.
func (s *Service) Check(ctx context.Context, id int64) (*Check, error) {
	sc, err := s.Store.CampaignByID(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := decode(sc)
	if err != nil {
		return nil, err
	}
	out := &Check{Problems: []Problem{}, Counts: map[string]int{}}
	where, args, seg, err := s.where(ctx, c.AudienceDef)
	if errors.Is(err, errSegmentGone) {
		out.Problems = append(out.Problems, Problem{Code: "segment_deleted",
			Message: fmt.Sprintf("the campaign's segment (%d) was deleted: choose another", c.AudienceDef.SegmentID)})
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	out.Segment = &CheckSegment{ID: seg.ID, Name: seg.Name, Kind: seg.Kind}
	var attrs []string
	needName := false
	marketing := false
	for _, v := range c.VariantList {
		// Known to Meta and approved (synced now if sendbox has not seen it).
		if _, err := s.Outbound.IsMarketing(ctx, v.Template, v.Language); err != nil {
			var ve *whatsapp.ValidationError
			if !errors.As(err, &ve) {
				return nil, err
			}
			out.Problems = append(out.Problems, Problem{Code: ve.Code, Message: fmt.Sprintf("variant %s: %s", v.Name, ve.Message)})
			continue
		}
		spec, tp, err := s.spec(ctx, v.Template, v.Language)
		if err != nil {
			out.Problems = append(out.Problems, Problem{Code: "template_unreadable", Message: err.Error()})
			continue
		}
		marketing = marketing || tp.Category == outbound.Marketing
		def := defaults(tp)
		for _, name := range spec.Variables() {
			pm, ok := v.param(name, def)
			what := "{{" + name + "}}"
			if i, isButton := buttonIndex(name); isButton {
				what = fmt.Sprintf("link button %q", spec.Buttons[i])
			}
			switch {
			case !ok:
				out.Problems = append(out.Problems, Problem{Code: "unmapped_variable",
					Message: fmt.Sprintf("variant %s: the template's %s is not mapped to a value", v.Name, what)})
			case pm.Source == SourceTrackedLink:
				i, isButton := buttonIndex(name)
				err := errors.New("only a link button's end can be a tracked link")
				if isButton {
					err = checkTrackedLink(pm.Value, spec.URLs, i, s.baseURL(), s.Sandbox)
				}
				if err != nil {
					out.Problems = append(out.Problems, Problem{Code: "invalid_tracked_link",
						Message: fmt.Sprintf("variant %s: %s", v.Name, err)})
				}
			case pm.Fallback != "" || pm.Source == SourceText || pm.Source == SourcePhone:
			case pm.Source == SourceAttribute:
				attrs = append(attrs, pm.Key)
			default:
				needName = true
			}
		}
	}
	var caps []store.MarketingCap
	if marketing {
		now := s.now()
		if c.SettingsDef.CapCount > 0 {
			caps = append(caps, store.MarketingCap{N: c.SettingsDef.CapCount, Since: now.Add(-time.Duration(c.SettingsDef.CapDays) * 24 * time.Hour)})
		}
		f, err := outbound.LoadFrequencyCap(ctx, s.Store)
		if err != nil {
			return nil, err
		}
		if f.Count > 0 {
			caps = append(caps, store.MarketingCap{N: f.Count, Since: now.Add(-time.Duration(f.Days) * 24 * time.Hour)})
		}
	}
	counts, err := s.Store.AudienceCheck(ctx, where, args, attrs, needName, caps)
	if err != nil {
		return nil, err
	}
	out.Audience = counts["total"]
	delete(counts, "total")
	if !marketing {
		delete(counts, "plus_one")
		delete(counts, "consent_unknown")
	} else if allow, err := outbound.AllowUnknownConsent(ctx, s.Store); err == nil && allow {
		delete(counts, "consent_unknown")
	}
	if !c.SettingsDef.blockPlusOne() {
		delete(counts, "plus_one")
	}
	out.Counts = counts
	if out.Audience == 0 {
		out.Problems = append(out.Problems, Problem{Code: "empty_audience", Message: fmt.Sprintf("the segment %q has no contacts now", seg.Name)})
	}
	// A template sendbox does not know is a problem above, not an estimate.
	if out.Cost, err = s.Estimate(ctx, c); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if c.FlowID != 0 {
		f, err := s.Store.FlowByID(ctx, c.FlowID)
		if err != nil {
			out.Problems = append(out.Problems, Problem{Code: "unknown_flow", Message: "the campaign's flow no longer exists"})
		} else if f.Version == 0 {
			out.Problems = append(out.Problems, Problem{Code: "flow_not_published", Message: fmt.Sprintf("the flow %q has never been published", f.Name)})
		}
	}
	return out, nil
}

// ready checks a campaign before a launch or a schedule.
func (s *Service) ready(ctx context.Context, id int64) (*Campaign, error) {
	sc, err := s.Store.CampaignByID(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := decode(sc)
	if err != nil {
		return nil, err
	}
	if sc.State != store.CampaignDraft && sc.State != store.CampaignScheduled {
		return nil, bad("state", "invalid_state", "a %s campaign cannot be launched", sc.State)
	}
	ck, err := s.Check(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(ck.Problems) > 0 {
		msgs := make([]string, len(ck.Problems))
		for i, p := range ck.Problems {
			msgs[i] = p.Message
		}
		return nil, &InputError{Field: "campaign", Code: ck.Problems[0].Code, Message: strings.Join(msgs, "; ")}
	}
	return c, nil
}

// spec reads a template's variables.
func (s *Service) spec(ctx context.Context, name, lang string) (*whatsapp.TemplateSpec, *store.Template, error) {
	tp, err := s.Store.TemplateByName(ctx, name, lang)
	if err != nil {
		return nil, nil, fmt.Errorf("template %s (%s): %w", name, lang, err)
	}
	spec, err := whatsapp.ParseTemplate(tp.Components)
	if err != nil {
		return nil, nil, fmt.Errorf("template %s (%s): %w", name, lang, err)
	}
	return spec, tp, nil
}

// values fills a variant's variables for a recipient (the variant's
// mapping, else the template's default, def), link buttons' included
// (key signs tracked links); ok is false when one has no value and no
// fallback.
func values(v *Variant, spec *whatsapp.TemplateSpec, def map[string]Param, r *store.Recipient, key []byte) (map[string]string, bool) {
	names := spec.Variables()
	out := make(map[string]string, len(names))
	for _, name := range names {
		pm, _ := v.param(name, def)
		val := ""
		switch pm.Source {
		case SourceTrackedLink:
			if i, ok := buttonIndex(name); ok && len(key) > 0 {
				val = linkToken(key, r.ID, i)
			}
		case SourcePhone:
			if r.WaID != "" {
				val = "+" + r.WaID
			}
		case SourceText:
			val = pm.Value
		case SourceName:
			val = strings.TrimSpace(r.Name)
		case SourceFirstName:
			val, _, _ = strings.Cut(strings.TrimSpace(r.Name), " ")
		case SourceAttribute:
			val = strings.TrimSpace(r.Attributes[pm.Key])
		}
		if val == "" {
			val = pm.Fallback
		}
		if strings.TrimSpace(val) == "" {
			return nil, false
		}
		out[name] = val
	}
	return out, true
}

// buttonIndex reads the button of a link button's variable name.
func buttonIndex(name string) (int, bool) {
	n, ok := strings.CutPrefix(name, "button_")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(n)
	return i, err == nil
}
