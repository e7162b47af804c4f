package campaigns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"sendbox/events"
	"sendbox/guard"
	"sendbox/outbound"
	"sendbox/store"
	"sendbox/whatsapp"
)

// The dispatcher: every running campaign's due recipients are turned into
// queued messages (or skips, or holds), each in one store transaction,
// no faster than the bulk lane drains: at most a few seconds of the
// sender's bulk throughput is queued and not yet accepted by Meta, so a
// campaign of 100,000 never stands as 100,000 jobs between the sender and
// a reply, nor as a relay backlog of one huge transaction.

const (
	// tick is how often the dispatcher looks at the running campaigns
	// when nothing wakes it.
	tick = 250 * time.Millisecond
	// workers dispatch recipients at once: their transactions share group
	// commits.
	workers = 16
	// queuedSeconds of bulk sending is the most the dispatcher keeps queued.
	queuedSeconds = 3
)

// Wake makes the dispatcher look at once (a launch, a resume).
func (s *Service) Wake() {
	s.once.Do(s.init)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Service) init() {
	s.wake = make(chan struct{}, 1)
	s.done = make(chan struct{})
}

// Run dispatches until ctx ends.
func (s *Service) Run(ctx context.Context) {
	s.once.Do(s.init)
	defer close(s.done)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		busy := false
		if err := guard.Do(s.log(), "dispatch campaigns", func() { busy = s.dispatchAll(ctx) }); err != nil {
			busy = false
		}
		if busy {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		}
	}
}

// Done is closed when Run has returned.
func (s *Service) Done() <-chan struct{} {
	s.once.Do(s.init)
	return s.done
}

// window is how many messages the dispatcher keeps queued at most.
func (s *Service) window() int {
	share := s.BulkShare
	if share <= 0 || share > 1 {
		share = 1
	}
	mps := s.MPS
	if mps <= 0 {
		mps = 80
	}
	return max(20, int(float64(mps)*share*queuedSeconds))
}

// dispatchAll makes one pass over the running campaigns; it reports
// whether it dispatched a full batch (more is waiting at once).
func (s *Service) dispatchAll(ctx context.Context) bool {
	cs, err := s.Store.Campaigns(ctx, store.CampaignRunning)
	if err != nil {
		if ctx.Err() == nil {
			s.log().Error("list running campaigns", slog.Any("err", err))
		}
		return false
	}
	if len(cs) == 0 {
		return false
	}
	ids := make([]int64, len(cs))
	for i := range cs {
		ids[i] = cs[i].ID
	}
	inflight, err := s.Store.InFlight(ctx, ids)
	if err != nil {
		return false
	}
	room := s.window() - inflight
	share := 0
	if room > 0 {
		share = max(1, room/len(cs)) // every campaign moves, however many run
	}
	busy := false
	for i := range cs {
		if ctx.Err() != nil {
			return false
		}
		limit := share
		if cs[i].FlowID != 0 {
			// A flow's runs queue their messages themselves, unseen by the
			// window: started at about the bulk throughput, a tick's worth
			// at a time.
			limit = max(1, s.window()/queuedSeconds*int(tick)/int(time.Second))
		}
		n, err := s.dispatchOne(ctx, &cs[i], limit)
		if err != nil {
			if ctx.Err() == nil {
				s.log().Error("dispatch a campaign; will retry", slog.Int64("campaign", cs[i].ID), slog.Any("err", err))
			}
			continue
		}
		busy = busy || cs[i].FlowID == 0 && n > 0 && n >= limit
	}
	return busy
}

// dispatchOne moves one campaign forward: snapshot, template check, A/B
// decision, up to room recipients, done. It returns how many recipients
// it dispatched.
func (s *Service) dispatchOne(ctx context.Context, sc *store.Campaign, room int) (int, error) {
	c, err := decode(sc)
	if err != nil {
		return 0, err
	}
	now := s.now()
	if sc.SnapshotAt.IsZero() {
		where, args, _, err := s.where(ctx, c.AudienceDef)
		if errors.Is(err, errSegmentGone) {
			// Deleted between the launch and the snapshot: nobody to send
			// to until a person chooses (the campaign is paused, not lost).
			reason := "its segment was deleted before the audience was taken"
			if _, err := s.Store.MoveCampaign(ctx, store.CampaignMove{ID: c.ID, From: []string{store.CampaignRunning},
				To: store.CampaignPaused, Reason: reason}); err != nil {
				return 0, err
			}
			s.log().Warn("campaign paused: its segment was deleted", slog.Int64("campaign", c.ID))
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		start := time.Now()
		n, err := s.Store.SnapshotRecipients(ctx, c.ID, where, args, shares(c))
		if err != nil {
			return 0, err
		}
		s.log().Info("campaign audience frozen", slog.Int64("campaign", c.ID), slog.Int("recipients", n),
			slog.Duration("took", time.Since(start)))
	}
	// A template Meta paused or disabled pauses the campaign.
	for _, v := range c.VariantList {
		tp, err := s.Store.TemplateByName(ctx, v.Template, v.Language)
		if err != nil {
			continue // Prepare says why, per recipient
		}
		if st := strings.ToUpper(tp.Status); st == "PAUSED" || st == "DISABLED" {
			reason := fmt.Sprintf("Meta %s the template %s (%s)", strings.ToLower(st), v.Template, v.Language)
			if _, err := s.Store.MoveCampaign(ctx, store.CampaignMove{ID: c.ID, From: []string{store.CampaignRunning},
				To: store.CampaignPaused, Reason: reason}); err != nil {
				return 0, err
			}
			s.log().Warn("campaign paused: its template was paused by Meta", slog.Int64("campaign", c.ID), slog.String("reason", reason))
			if s.Notify != nil {
				go s.Notify(context.WithoutCancel(ctx), sc, reason) // an e-mail must not hold the other campaigns
			}
			return 0, nil
		}
	}
	var allowed []string // nil: any variant
	if len(c.VariantList) > 1 && c.Winner == "" {
		if !c.TestUntil.IsZero() && !now.Before(c.TestUntil) {
			d, err := s.decide(ctx, c)
			if err != nil {
				return 0, err
			}
			c.Winner = d.Winner
		} else {
			for _, v := range c.VariantList {
				allowed = append(allowed, v.Name)
			}
		}
	}
	if room <= 0 {
		return 0, nil
	}
	rs, err := s.Store.DueRecipients(ctx, c.ID, now, allowed, min(room, 500))
	if err != nil {
		return 0, err
	}
	if len(rs) == 0 {
		pending, _, err := s.Store.PendingCount(ctx, c.ID)
		if err != nil || pending > 0 {
			return 0, err
		}
		_, err = s.Store.MoveCampaign(ctx, store.CampaignMove{ID: c.ID, From: []string{store.CampaignRunning}, To: store.CampaignDone})
		if err == nil {
			s.log().Info("campaign dispatched", slog.Int64("campaign", c.ID))
		}
		return 0, err
	}
	b := &batch{c: c, specs: map[string]*tmpl{}}
	if c.FlowID == 0 {
		// The batch's contacts in one read, not one per recipient in
		// Prepare; the transaction that queues checks consent again.
		ids := make([]int64, len(rs))
		for i := range rs {
			ids[i] = rs[i].ContactID
		}
		if b.contacts, err = s.Store.ContactsByID(ctx, ids); err != nil {
			return 0, err
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan *store.Recipient)
	for range min(workers, len(rs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range next {
				if err := s.dispatchRecipient(ctx, b, r, now); err != nil {
					mu.Lock()
					firstErr = errors.Join(firstErr, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range rs {
		next <- &rs[i]
	}
	close(next)
	wg.Wait()
	return len(rs), firstErr
}

// shares are the snapshot's variant buckets, in basis points.
func shares(c *Campaign) []store.VariantShare {
	var out []store.VariantShare
	if len(c.VariantList) == 1 {
		out = append(out, store.VariantShare{Name: c.VariantList[0].Name, Points: 10000 - 100*c.SettingsDef.HoldoutShare})
	} else {
		for _, v := range c.VariantList {
			out = append(out, store.VariantShare{Name: v.Name, Points: 100 * v.Share})
		}
	}
	if c.FlowID != 0 && len(c.VariantList) == 0 {
		out = append(out, store.VariantShare{Name: "flow", Points: 10000 - 100*c.SettingsDef.HoldoutShare})
	}
	if c.SettingsDef.HoldoutShare > 0 {
		out = append(out, store.VariantShare{Name: store.HoldoutVariant, Points: 100 * c.SettingsDef.HoldoutShare})
	}
	return out
}

// batch is what one pass over a campaign reads once.
type batch struct {
	c        *Campaign
	contacts map[int64]*store.Contact // the recipients' contacts; read-only
	mu       sync.Mutex
	specs    map[string]*tmpl
	quiet    *outbound.QuietHours
	fcap     *outbound.FrequencyCap
}

type tmpl struct {
	spec      *whatsapp.TemplateSpec
	marketing bool
	def       map[string]Param // the template's default mapping
	err       error
}

func (b *batch) template(ctx context.Context, s *Service, v *Variant) *tmpl {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := v.Template + "\x00" + v.Language
	if t, ok := b.specs[k]; ok {
		return t
	}
	t := &tmpl{}
	var tp *store.Template
	t.spec, tp, t.err = s.spec(ctx, v.Template, v.Language)
	if t.err == nil {
		t.marketing, t.def = tp.Category == outbound.Marketing, defaults(tp)
	}
	b.specs[k] = t
	return t
}

func (b *batch) frequencyCap(ctx context.Context, s *Service) (outbound.FrequencyCap, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fcap == nil {
		f, err := outbound.LoadFrequencyCap(ctx, s.Store)
		if err != nil {
			return f, err
		}
		b.fcap = &f
	}
	return *b.fcap, nil
}

func (b *batch) quietHours(ctx context.Context, s *Service) (*outbound.QuietHours, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.quiet == nil {
		q, err := outbound.LoadQuietHours(ctx, s.Store, s.loc())
		if err != nil {
			return nil, err
		}
		b.quiet = &q
	}
	return b.quiet, nil
}

// errNotPending rolls back a flow start whose recipient moved meanwhile.
var errNotPending = errors.New("the recipient is no longer pending")

// IdempotencyKey is the key of a recipient's message: one per recipient
// and attempt, so a crash or a redelivery never queues it twice.
func IdempotencyKey(campaignID, recipientID int64, attempt int) string {
	k := "campaign:" + strconv.FormatInt(campaignID, 10) + ":" + strconv.FormatInt(recipientID, 10)
	if attempt > 0 {
		k += ":" + strconv.Itoa(attempt)
	}
	return k
}

// dispatchRecipient decides what to do with one recipient and applies it
// in one store transaction (which checks again that they are pending and
// the campaign running, and the consent and the cap).
func (s *Service) dispatchRecipient(ctx context.Context, b *batch, r *store.Recipient, now time.Time) error {
	c := b.c
	d := store.Dispatch{CampaignID: c.ID, RecipientID: r.ID, ContactID: r.ContactID}
	apply := func() error {
		_, err := s.Store.DispatchRecipient(ctx, d)
		return err
	}
	if c.FlowID != 0 {
		return s.startFlow(ctx, c, r)
	}
	v := c.variantFor(r)
	d.Variant = v.Name
	to := r.WaID
	if to == "" {
		to = r.UserID
	}
	if to == "" {
		d.Skip = "no_number"
		return apply()
	}
	t := b.template(ctx, s, v)
	if t.err != nil {
		return t.err // Meta may approve it, sync may bring it: retried
	}
	if t.marketing {
		if c.SettingsDef.blockPlusOne() && strings.HasPrefix(r.WaID, "1") {
			d.Skip = "plus_one_blocked"
			return apply()
		}
		if c.SettingsDef.quiet() {
			q, err := b.quietHours(ctx, s)
			if err != nil {
				return err
			}
			if hold, expired := quietDecision(*q, now, r.WaID, c.StartedAt, c.SettingsDef.maxHold()); expired || !hold.IsZero() {
				if expired {
					d.Skip = "quiet_hours_expired"
				}
				d.HoldUntil = hold
				return apply()
			}
		}
	}
	var key []byte
	if len(t.spec.URLButtons) > 0 {
		var err error
		if key, err = s.linkKey(ctx); err != nil {
			return err
		}
	}
	vals, ok := values(v, t.spec, t.def, r, key)
	if !ok {
		d.Skip = "missing_variables"
		return apply()
	}
	m, err := t.spec.Message(to, v.Template, v.Language, vals)
	if err != nil {
		d.Skip = "missing_variables"
		var ve *whatsapp.ValidationError
		if errors.As(err, &ve) && ve.Code != "missing_parameter" {
			d.Skip = "invalid_" + ve.Code
		}
		return apply()
	}
	m.BizOpaque = "c" + strconv.FormatInt(c.ID, 10) + "r" + strconv.FormatInt(r.ID, 10)
	// The contact is the batch's; the caps are checked in the transaction
	// that queues (below), so Prepare need not count the sends first.
	in, err := s.Outbound.Prepare(ctx, outbound.Request{Message: *m, Lane: events.LaneBulk,
		IdempotencyKey: IdempotencyKey(c.ID, r.ID, r.Attempt), Contact: b.contacts[r.ContactID], CapInTx: true})
	var ce *outbound.ConsentError
	var ve *whatsapp.ValidationError
	switch {
	case errors.As(err, &ce):
		d.Skip = ce.Code
		return apply()
	case errors.As(err, &ve):
		d.Skip = "invalid_" + ve.Code
		return apply()
	case err != nil:
		return err
	}
	d.Message, d.Marketing = &in, t.marketing
	if t.marketing {
		// The campaign's own cap and the business's, checked again in the
		// transaction that queues (Prepare checked the business's before).
		if c.SettingsDef.CapCount > 0 {
			d.Caps = append(d.Caps, store.MarketingCap{N: c.SettingsDef.CapCount,
				Since: now.Add(-time.Duration(c.SettingsDef.CapDays) * 24 * time.Hour)})
		}
		f, err := b.frequencyCap(ctx, s)
		if err != nil {
			return err
		}
		if f.Count > 0 {
			d.Caps = append(d.Caps, store.MarketingCap{N: f.Count, Since: now.Add(-time.Duration(f.Days) * 24 * time.Hour)})
		}
	}
	return apply()
}

// startFlow starts the campaign's flow for a recipient, the recipient's
// state written in the run's start transaction.
func (s *Service) startFlow(ctx context.Context, c *Campaign, r *store.Recipient) error {
	if s.Flows == nil {
		return errors.New("flows are not available")
	}
	ctx = events.WithActor(ctx, events.Actor{Kind: events.ActorSystem, Name: "campaign " + c.Name})
	ref := "campaign:" + strconv.FormatInt(c.ID, 10) + ":" + strconv.FormatInt(r.ID, 10)
	_, err := s.Flows.StartFor(ctx, c.FlowID, r.ContactID, ref, c.SettingsDef.FlowData, func(x *store.RunTx) error {
		ok, err := x.CampaignRunStarted(c.ID, r.ID)
		if err == nil && !ok {
			return errNotPending
		}
		return err
	})
	switch {
	case errors.Is(err, errNotPending):
		return nil
	case errors.Is(err, store.ErrRunActive):
		return s.Store.SkipRecipient(ctx, c.ID, r.ID, "in_flow_already")
	case errors.Is(err, store.ErrRunOnce):
		return s.Store.SkipRecipient(ctx, c.ID, r.ID, "flow_done_already")
	}
	return err
}

// quietDecision says whether a marketing message may go to waID at now
// under the quiet hours q: at once (zero, false), held until hold (the end
// of the customer's quiet hours), or not at all (expired: that end is
// more than maxHold after the campaign started).
func quietDecision(q outbound.QuietHours, now time.Time, waID string, started time.Time, maxHold time.Duration) (hold time.Time, expired bool) {
	at, ok := q.NextAllowed(now, waID)
	if ok {
		return time.Time{}, false
	}
	if at.After(started.Add(maxHold)) {
		return time.Time{}, true
	}
	return at, false
}

// decide chooses an A/B test's winner from the figures now and gives it
// the recipients that waited.
func (s *Service) decide(ctx context.Context, c *Campaign) (Decision, error) {
	f, err := s.Store.CampaignProgress(ctx, c.ID)
	if err != nil {
		return Decision{}, err
	}
	d := Decide(arms(c, f), c.SettingsDef.ABMinSample, c.SettingsDef.ABFallback)
	if err := s.Store.SetCampaignWinner(ctx, c.ID, d.Winner, d.Note); err != nil {
		return Decision{}, err
	}
	s.log().Info("A/B test decided", slog.Int64("campaign", c.ID), slog.String("winner", d.Winner), slog.String("note", d.Note))
	return d, nil
}
