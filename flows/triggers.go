package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"sendbox/events"
	"sendbox/store"
)

// The triggers that do not wait for a customer's message to match:
// a schedule, a period of silence, a tag or attribute change, and the
// Click-to-WhatsApp ad a message comes from.
const (
	// TriggerSchedule starts the flow at a time of day, on some days of the
	// week or on one date, for the contacts with a tag (and, with a date
	// attribute, only those whose date falls on that day).
	TriggerSchedule = "schedule"
	// TriggerSilence starts the flow when the customer has not written for
	// After since their last message, in a conversation still open.
	TriggerSilence = "silence"
	// TriggerTagAdded starts the flow when Tag is added to a contact.
	TriggerTagAdded = "tag_added"
	// TriggerAttributeChanged starts the flow when Attribute is set (to
	// Value, if given).
	TriggerAttributeChanged = "attribute_changed"
	// TriggerAd starts the flow on a message that comes from a
	// Click-to-WhatsApp ad (one of AdIDs, or any).
	TriggerAd = "ad"
)

// referralFields are the {{referral.FIELD}} names an ad trigger fills
// from the message's referral.
var referralFields = []string{"source_id", "source_url", "source_type", "headline", "body", "media_type", "ctwa_clid"}

// weekdays are the names of Days, Monday first.
var weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

const (
	// minSilence bounds a silence from below: shorter is not a silence.
	minSilence = time.Minute
	// maxSilence bounds it from above (the silence timers live as long).
	maxSilence = 90 * 24 * time.Hour
	// maxChain is how many contact changes in a row, each made by a run
	// that a change started, may start a run: a ring of flows that tag
	// one another stops there.
	maxChain = 3
)

// validateMore checks the triggers of this file.
func (t Trigger) validateMore() []Problem {
	var ps []Problem
	bad := func(field, code, msg string) { ps = append(ps, Problem{Field: field, Code: code, Message: msg}) }
	switch t.Type {
	case TriggerSchedule:
		if _, ok := parseClock(t.At); !ok {
			bad("at", "invalid", "a schedule needs its time of day, HH:MM, 24-hour: 09:00")
		}
		for _, d := range t.Days {
			if !slices.Contains(weekdays, strings.ToLower(d)) {
				bad("days", "invalid", fmt.Sprintf("%q is not a day: use mon, tue, wed, thu, fri, sat or sun", d))
			}
		}
		if t.Date != "" {
			if _, err := time.Parse(time.DateOnly, t.Date); err != nil {
				bad("date", "invalid", "a date is YYYY-MM-DD: 2026-12-24")
			}
			if len(t.Days) > 0 {
				bad("days", "unexpected", "a schedule runs on days of the week or on one date, not both")
			}
			if t.DateAttribute != "" {
				bad("date_attribute", "unexpected", "a one-off date and a date attribute do not go together")
			}
		}
		if t.Tag == "" && t.DateAttribute == "" {
			bad("tag", "required", "a schedule needs its audience: the contacts with a tag, or with a date attribute (a birthday)")
		}
		if t.DateAttribute != "" && !attrRE.MatchString(t.DateAttribute) {
			bad("date_attribute", "invalid", "an attribute name is 1 to 64 letters, digits, _ or -")
		}
	case TriggerSilence:
		d, err := ParseDuration(t.After)
		switch {
		case err != nil || d < minSilence:
			bad("after", "invalid", "a silence lasts at least a minute: 4h, 2d")
		case d > maxSilence:
			bad("after", "too_long", "a silence lasts at most 90 days")
		}
	case TriggerTagAdded:
		if strings.TrimSpace(t.Tag) == "" {
			bad("tag", "required", "a tag_added trigger needs the tag")
		}
	case TriggerAttributeChanged:
		if !attrRE.MatchString(t.Attribute) {
			bad("attribute", "invalid", "an attribute_changed trigger needs the attribute's name: 1 to 64 letters, digits, _ or -")
		}
	case TriggerAd:
		for _, id := range t.AdIDs {
			if strings.TrimSpace(id) == "" || len(id) > 64 {
				bad("ad_ids", "invalid", "an ad id is Meta's id of the ad (1 to 64 characters); leave the list empty for any ad")
			}
		}
	}
	return ps
}

// startsAfter is how long after the customer's last message a run the
// trigger starts may begin, at worst: unknown (a day or more) for a
// schedule or a contact change, After for a silence.
func (t Trigger) startsAfter() time.Duration {
	switch t.Type {
	case TriggerSchedule, TriggerTagAdded, TriggerAttributeChanged:
		return Window
	case TriggerSilence:
		d, _ := ParseDuration(t.After)
		return min(d, Window)
	}
	return 0
}

// checkTriggerLoops refuses a flow that makes the change that starts it:
// it would start itself again at once.
func (d *Definition) checkTriggerLoops() []Problem {
	var ps []Problem
	for i, t := range d.Triggers {
		for _, s := range d.Steps {
			if s.Type != StepSet {
				continue
			}
			loop := false
			switch t.Type {
			case TriggerTagAdded:
				loop = s.AddTag != "" && strings.EqualFold(s.AddTag, t.Tag)
			case TriggerAttributeChanged:
				loop = s.Attribute == t.Attribute && s.Value != "" &&
					(t.Value == "" || strings.EqualFold(s.Value, t.Value) || strings.Contains(s.Value, "{{"))
			}
			if loop {
				ps = append(ps, Problem{Trigger: i + 1, Step: s.ID, Code: "starts_itself",
					Message: fmt.Sprintf("step %q makes the change that starts this flow: it would start itself again", s.ID)})
			}
		}
	}
	return ps
}

// key names a trigger by what it says, so that its timers survive a
// publish that leaves it as it was and stop with one that changes it.
func (t Trigger) key() string {
	b, _ := json.Marshal(t)
	h := fnv.New64a()
	h.Write(b)
	return strconv.FormatUint(h.Sum64(), 36)
}

// parseClock reads "HH:MM" (or "HH:MM:SS").
func parseClock(s string) (time.Duration, bool) {
	for _, layout := range []string{"15:04", "15:04:05"} {
		if c, err := time.Parse(layout, s); err == nil {
			return time.Duration(c.Hour())*time.Hour + time.Duration(c.Minute())*time.Minute + time.Duration(c.Second())*time.Second, true
		}
	}
	return 0, false
}

// nextOccurrence is the first time of the schedule at or after from, on a
// day after the date of notOn (zero: any day), in loc; zero when there is
// none (a one-off date gone by).
func (t Trigger) nextOccurrence(from, notOn time.Time, loc *time.Location) time.Time {
	clock, ok := parseClock(t.At)
	if !ok {
		return time.Time{}
	}
	local := from.In(loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	if t.Date != "" {
		d, err := time.ParseInLocation(time.DateOnly, t.Date, loc)
		if err != nil {
			return time.Time{}
		}
		day = d
	}
	skip := ""
	if !notOn.IsZero() {
		skip = notOn.In(loc).Format(time.DateOnly)
	}
	for i := 0; i < 8; i++ {
		d := time.Date(day.Year(), day.Month(), day.Day()+i, 0, 0, 0, 0, loc)
		at := time.Date(d.Year(), d.Month(), d.Day(), int(clock/time.Hour), int(clock%time.Hour/time.Minute),
			int(clock%time.Minute/time.Second), 0, loc)
		if t.Date != "" && i > 0 {
			return time.Time{}
		}
		if at.Before(from) || d.Format(time.DateOnly) <= skip {
			continue
		}
		wd := weekdays[(int(d.Weekday())+6)%7]
		if len(t.Days) == 0 || slices.ContainsFunc(t.Days, func(x string) bool { return strings.EqualFold(x, wd) }) {
			return at
		}
	}
	return time.Time{}
}

// sameDay reports whether value, a date ("1990-03-14", "14/03/1990",
// "14/03"), falls on day's month and day; 29 February falls on the 28th
// in other years.
func sameDay(value string, day time.Time) bool {
	value = strings.TrimSpace(value)
	d, ok := parseDate(value)
	if !ok {
		for _, layout := range []string{"2/1", "2.1", "01-02", "--01-02"} {
			if x, err := time.Parse(layout, value); err == nil {
				d, ok = x, true
				break
			}
		}
	}
	if !ok {
		return false
	}
	if d.Month() == day.Month() && d.Day() == day.Day() {
		return true
	}
	leap := time.Date(day.Year(), time.February, 29, 0, 0, 0, 0, time.UTC).Day() == 29
	return d.Month() == time.February && d.Day() == 29 && !leap && day.Month() == time.February && day.Day() == 28
}

func (e *Engine) location() *time.Location {
	if e.Location != nil {
		if loc := e.Location(); loc != nil {
			return loc
		}
	}
	return time.UTC
}

func (e *Engine) activeFlows() []compiled {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.active
}

// syncSchedules gives each schedule trigger of the active flows the timer
// of its next occurrence, and cancels those of the triggers gone (a flow
// switched off, deleted, or published with another schedule). A trigger
// whose timer is pending keeps it, even if it is late: sendbox was down
// when it came due, and it fires now (on the same day only, see
// FireSchedule).
func (e *Engine) syncSchedules(ctx context.Context, active []compiled) error {
	now := time.Now()
	loc := e.location()
	var want []store.TimerSpec
	for _, c := range active {
		for _, t := range c.def.Triggers {
			if t.Type != TriggerSchedule {
				continue
			}
			at := t.nextOccurrence(now, time.Time{}, loc)
			if at.IsZero() {
				continue
			}
			want = append(want, store.TimerSpec{Owner: c.flow.ID, Token: t.key(), DueAt: at})
		}
	}
	_, _, err := e.Store.SyncTimers(ctx, store.TimerFlowSchedule, want)
	return err
}

// scheduleJob is one occurrence of a schedule trigger: the runs of its
// audience to start, by a worker, out of the scheduler's transaction.
type scheduleJob struct {
	FlowID int64  `json:"flow_id"`
	Key    string `json:"key"`  // the trigger's
	Date   string `json:"date"` // the occurrence's day, YYYY-MM-DD in the business's zone
}

// FireSchedule is the handler of store.TimerFlowSchedule: an occurrence
// of a schedule came due. In the timer's own commit it queues the
// occurrence's job (the audience's runs start outside the scheduler, in
// batches) and sets the timer of the next occurrence; so an occurrence
// fires once, whatever crashes. One missed while sendbox was down fires
// when it is back the same day; a day or more late, it is skipped (a
// "good morning" at night helps no one) and the next is set.
func (e *Engine) FireSchedule(ctx context.Context, tx *store.TimerTx, tm *store.Timer) (bool, error) {
	c, t := e.triggerOf(tm.Owner, TriggerSchedule, tm.Token)
	if c == nil {
		return false, nil // switched off or changed since: syncSchedules set what replaces it
	}
	loc := e.location()
	now := tx.Now()
	if next := t.nextOccurrence(now, tm.DueAt, loc); !next.IsZero() {
		if err := tx.AddTimer(store.TimerSpec{Kind: store.TimerFlowSchedule, Owner: tm.Owner, Token: tm.Token, DueAt: next}); err != nil {
			return false, err
		}
	}
	date := tm.DueAt.In(loc).Format(time.DateOnly)
	if now.In(loc).Format(time.DateOnly) != date {
		e.log().Warn("a scheduled flow came due while sendbox was down, on another day: skipped", slog.String("flow", c.flow.Name),
			slog.Time("due", tm.DueAt))
		return false, nil
	}
	b, err := json.Marshal(scheduleJob{FlowID: c.flow.ID, Key: tm.Token, Date: date})
	if err != nil {
		return false, err
	}
	return true, tx.Job(events.SubjectFlowSchedule, fmt.Sprintf("flow.schedule.%d.%s.%s", c.flow.ID, tm.Token, date), b)
}

// triggerOf finds an active flow's trigger of a type by its key.
func (e *Engine) triggerOf(flowID int64, typ, key string) (*compiled, Trigger) {
	active := e.activeFlows()
	for i := range active {
		if active[i].flow.ID != flowID {
			continue
		}
		for _, t := range active[i].def.Triggers {
			if t.Type == typ && t.key() == key {
				return &active[i], t
			}
		}
	}
	return nil, Trigger{}
}

// audiencePage is how many contacts one read of a schedule's audience
// takes; startParallel how many runs start at once (their commits group).
const (
	audiencePage  = 500
	startParallel = 16
)

// runSchedule starts the runs of one occurrence: every contact of the
// audience, a page at a time, each start keyed by the occurrence and the
// contact, so that a job done again (after a crash) starts no one twice.
// progress is called after each page (the job's "in progress").
func (e *Engine) runSchedule(ctx context.Context, j scheduleJob, progress func()) (int, error) {
	c, t := e.triggerOf(j.FlowID, TriggerSchedule, j.Key)
	if c == nil {
		return 0, nil
	}
	day, err := time.ParseInLocation(time.DateOnly, j.Date, e.location())
	if err != nil {
		return 0, nil
	}
	started := 0
	for after := int64(0); ; {
		page, err := e.Store.Audience(ctx, t.Tag, t.DateAttribute, after, audiencePage)
		if err != nil {
			return started, err
		}
		if len(page) == 0 {
			return started, nil
		}
		after = page[len(page)-1].ContactID
		var ids []int64
		for _, m := range page {
			if t.DateAttribute == "" || sameDay(m.Value, day) {
				ids = append(ids, m.ContactID)
			}
		}
		n, err := e.startMany(ctx, c, ids, func(id int64) string {
			return fmt.Sprintf("schedule:%s:%s:%d", j.Key, j.Date, id)
		}, map[string]string{"date": j.Date})
		started += n
		if err != nil {
			return started, err
		}
		if progress != nil {
			progress()
		}
	}
}

// startMany starts the flow for contacts, startParallel at a time; a
// contact in the flow already, or through a once-only flow, is skipped.
func (e *Engine) startMany(ctx context.Context, c *compiled, contacts []int64, ref func(int64) string, event map[string]string) (int, error) {
	type result struct {
		ok  bool
		err error
	}
	sem := make(chan struct{}, startParallel)
	out := make(chan result, len(contacts))
	for _, id := range contacts {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			_, ok, err := e.start(ctx, c, id, 0, ref(id), event)
			if errors.Is(err, store.ErrRunActive) || errors.Is(err, store.ErrRunOnce) || errors.Is(err, store.ErrNotFound) {
				err = nil
			}
			out <- result{ok, err}
		}()
	}
	n := 0
	var errs []error
	for range contacts {
		r := <-out
		if r.ok {
			n++
		}
		if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	return n, errors.Join(errs...)
}

// silencePayload is a silence timer's: which flow's trigger it is for.
type silencePayload struct {
	FlowID int64  `json:"flow_id"`
	Key    string `json:"key"`
}

// armSilence sets, when a customer writes, the timer of each active
// silence trigger: due After from now, keyed by the message, replacing the
// conversation's earlier ones (the silence they measured is broken).
func (e *Engine) armSilence(ctx context.Context, convID, msgID int64, at time.Time) error {
	var specs []store.TimerSpec
	for _, c := range e.activeFlows() {
		for _, t := range c.def.Triggers {
			if t.Type != TriggerSilence {
				continue
			}
			d, err := ParseDuration(t.After)
			if err != nil {
				continue
			}
			p, _ := json.Marshal(silencePayload{FlowID: c.flow.ID, Key: t.key()})
			specs = append(specs, store.TimerSpec{DueAt: at.Add(d), Payload: p})
		}
	}
	if len(specs) == 0 {
		return nil
	}
	_, err := e.Store.ArmSilence(ctx, convID, msgID, specs)
	return err
}

// FireSilence is the handler of store.TimerFlowSilence: the customer has
// not written since the timer's message. In the timer's transaction it
// checks that the silence still holds (no newer customer message, the
// conversation open, no person on it, no run waiting for the customer)
// and starts the flow, keyed by that message: once per silence.
func (e *Engine) FireSilence(ctx context.Context, tx *store.TimerTx, tm *store.Timer) (bool, error) {
	var p silencePayload
	if err := json.Unmarshal(tm.Payload, &p); err != nil {
		return false, nil
	}
	c, t := e.triggerOf(p.FlowID, TriggerSilence, p.Key)
	if c == nil {
		return false, nil
	}
	msgID, err := strconv.ParseInt(tm.Token, 10, 64)
	if err != nil {
		return false, nil
	}
	contactID, ok, err := tx.StillSilent(tm.Owner, msgID)
	if err != nil || !ok {
		return false, err
	}
	e.mayHaveRuns.Store(true)
	ctx = events.WithActor(ctx, events.Flow(c.flow.ID, c.flow.Name))
	_, started, err := tx.StartRun(store.RunStart{FlowID: c.flow.ID, Version: c.flow.Version, ContactID: contactID,
		ConversationID: tm.Owner, Reentry: c.def.Reentry, Ref: "silence:" + tm.Token, Event: map[string]string{"silence": t.After}},
		e.firstSteps(ctx, c))
	if errors.Is(err, store.ErrRunActive) || errors.Is(err, store.ErrRunOnce) {
		return false, nil
	}
	return started, err
}

// firstSteps is what a start does in its transaction (as start does).
func (e *Engine) firstSteps(ctx context.Context, c *compiled) func(x *store.RunTx, r *store.FlowRun) error {
	return func(x *store.RunTx, r *store.FlowRun) error {
		if err := x.Started(); err != nil {
			return err
		}
		if err := x.Enter(c.def.Steps[0].ID); err != nil {
			return err
		}
		return e.advance(ctx, x, r, &c.def, nil)
	}
}

// ContactChanged starts the flows a change of a contact's tags or
// attributes triggers (ev: a contact.updated or contact.created event;
// key: its id, so that a redelivery starts nothing twice). A change a
// flow's run made never starts that flow again, and a change made by a
// run a change started starts nothing after maxChain such links.
func (e *Engine) ContactChanged(ctx context.Context, ev events.Event, key string) ([]int64, error) {
	added, _ := stringsOf(ev.Data[events.DataTagsAdded])
	attrs := map[string]string{}
	if m, ok := ev.Data[events.DataAttributes].(map[string]any); ok {
		for k, v := range m {
			s, _ := v.(string)
			attrs[k] = s
		}
	}
	if len(added) == 0 && len(attrs) == 0 {
		return nil, nil
	}
	byFlow, chain := int64(0), 0
	if f, ok := ev.Data[events.DataFlow].(float64); ok {
		byFlow = int64(f)
	}
	if id, ok := ev.Data[events.DataRun].(float64); ok {
		if r, err := e.Store.RunByID(ctx, int64(id)); err == nil {
			chain, _ = strconv.Atoi(r.Event[chainKey])
		}
	}
	var started []int64
	for _, c := range e.activeFlows() {
		for _, t := range c.def.Triggers {
			data, why := changeMatch(t, added, attrs)
			if data == nil {
				continue
			}
			if c.flow.ID == byFlow {
				break // its own change
			}
			if chain >= maxChain {
				e.log().Warn("a contact change made by flows starting one another: not starting another", slog.String("flow", c.flow.Name),
					slog.Int64("contact", ev.ContactID), slog.String("trigger", why))
				break
			}
			data[chainKey] = strconv.Itoa(chain + 1)
			r, ok, err := e.start(ctx, &c, ev.ContactID, 0, "change:"+key, data)
			switch {
			case errors.Is(err, store.ErrRunActive), errors.Is(err, store.ErrRunOnce), errors.Is(err, store.ErrNotFound):
			case err != nil:
				return started, fmt.Errorf("flow %s: %w", c.flow.Name, err)
			case ok:
				started = append(started, r.ID)
			}
			break
		}
	}
	return started, nil
}

// chainKey keeps, in a run's event data, how many contact changes in a
// row led to it; no {{event.…}} can name it.
const chainKey = "_chain"

// changeMatch says whether a trigger takes a change, with the run's event
// data ({{event.tag}}, or {{event.attribute}} and {{event.value}}) and why.
func changeMatch(t Trigger, added []string, attrs map[string]string) (map[string]string, string) {
	switch t.Type {
	case TriggerTagAdded:
		for _, tag := range added {
			if strings.EqualFold(tag, strings.TrimSpace(t.Tag)) {
				return map[string]string{"tag": tag}, "tag_added " + strconv.Quote(tag)
			}
		}
	case TriggerAttributeChanged:
		v, ok := attrs[t.Attribute]
		if ok && v != "" && (t.Value == "" || strings.EqualFold(strings.TrimSpace(v), strings.TrimSpace(t.Value))) {
			return map[string]string{"attribute": t.Attribute, "value": v}, "attribute_changed " + t.Attribute
		}
	}
	return nil, ""
}

func stringsOf(v any) ([]string, bool) {
	list, ok := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out, ok
}

// referral is the Click-to-WhatsApp referral a customer message carries,
// as the webhook delivered it (kept in the message's raw JSON).
type referral struct {
	SourceURL  string `json:"source_url"`
	SourceID   string `json:"source_id"`
	SourceType string `json:"source_type"`
	Headline   string `json:"headline"`
	Body       string `json:"body"`
	MediaType  string `json:"media_type"`
	CtwaClid   string `json:"ctwa_clid"`
}

// referralOf reads m's referral; nil when it has none.
func referralOf(m *store.Message) *referral {
	if len(m.Raw) == 0 || !strings.Contains(string(m.Raw), `"referral"`) {
		return nil
	}
	var w struct {
		Referral *referral `json:"referral"`
	}
	if err := json.Unmarshal(m.Raw, &w); err != nil || w.Referral == nil {
		return nil
	}
	return w.Referral
}

// vars are the referral as the run's {{referral.…}} variables.
func (r *referral) vars() map[string]string {
	out := map[string]string{}
	for k, v := range map[string]string{"source_id": r.SourceID, "source_url": r.SourceURL, "source_type": r.SourceType,
		"headline": r.Headline, "body": r.Body, "media_type": r.MediaType, "ctwa_clid": r.CtwaClid} {
		if v != "" {
			out["referral."+k] = v
		}
	}
	return out
}

// matchAd finds the first active flow with an ad trigger that takes m's
// referral. It comes before the other message triggers: a customer who
// tapped an ad is in that ad's flow, whatever the words they send.
func (e *Engine) matchAd(conv *store.Conversation, m *store.Message) (*compiled, string, map[string]string) {
	active := e.activeFlows()
	if len(active) == 0 || personHas(conv) {
		return nil, "", nil
	}
	ref := referralOf(m)
	if ref == nil {
		return nil, "", nil
	}
	for i := range active {
		for _, t := range active[i].def.Triggers {
			if t.Type != TriggerAd {
				continue
			}
			if len(t.AdIDs) == 0 || slices.Contains(t.AdIDs, ref.SourceID) {
				return &active[i], "ad " + strconv.Quote(ref.SourceID), ref.vars()
			}
		}
	}
	return nil, "", nil
}
