package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Campaigns: a campaign, and one row per recipient from the snapshot of
// its audience to a terminal state. The rules (who is skipped, when a
// held recipient goes, the A/B winner) are campaigns/'s; the store keeps
// the rows and moves a recipient, its message and the contact's marketing
// count in one transaction.

// Campaign states.
const (
	CampaignDraft     = "draft"
	CampaignScheduled = "scheduled"
	CampaignRunning   = "running"
	CampaignPaused    = "paused"
	CampaignDone      = "done"
	CampaignCancelled = "cancelled"
)

// Recipient states. pending and queued (the message is queued, Meta has
// not accepted it yet) are the only ones that are not terminal; sent,
// delivered, read, replied and converted are one terminal state that
// progresses.
const (
	RecipientPending   = "pending"
	RecipientQueued    = "queued"
	RecipientSent      = "sent"
	RecipientDelivered = "delivered"
	RecipientRead      = "read"
	RecipientReplied   = "replied"
	RecipientConverted = "converted"
	RecipientFailed    = "failed"
	RecipientSkipped   = "skipped"
	RecipientCancelled = "cancelled"
)

// TimerCampaignLaunch launches a scheduled campaign (owner: the campaign;
// token: its scheduled_at in unix ms).
const TimerCampaignLaunch = "campaign.launch"

const schemaV20 = `
CREATE TABLE campaigns (
	id                INTEGER PRIMARY KEY,
	name              TEXT NOT NULL,
	state             TEXT NOT NULL DEFAULT 'draft'
	                  CHECK (state IN ('draft','scheduled','running','paused','done','cancelled')),
	template_name     TEXT NOT NULL DEFAULT '',
	template_language TEXT NOT NULL DEFAULT '',
	flow_id           INTEGER,             -- a flow started per recipient instead of a template
	variants          TEXT NOT NULL DEFAULT '[]', -- JSON, campaigns.Variant
	audience          TEXT NOT NULL DEFAULT '{}', -- JSON, campaigns.Audience
	settings          TEXT NOT NULL DEFAULT '{}', -- JSON, campaigns.Settings
	scheduled_at      INTEGER,             -- unix ms
	snapshot_at       INTEGER,             -- when the audience was frozen
	started_at        INTEGER,
	finished_at       INTEGER,
	test_until        INTEGER,             -- A/B: the winner is chosen then
	winner            TEXT NOT NULL DEFAULT '',
	winner_note       TEXT NOT NULL DEFAULT '',
	paused_reason     TEXT NOT NULL DEFAULT '',
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL
);
CREATE TABLE campaign_recipients (
	id           INTEGER PRIMARY KEY,
	campaign_id  INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
	contact_id   INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
	wa_id        TEXT,
	state        TEXT NOT NULL DEFAULT 'pending',
	variant      TEXT NOT NULL DEFAULT '',  -- '' while an A/B test decides
	message_id   INTEGER,
	run_id       INTEGER,
	reason       TEXT NOT NULL DEFAULT '',
	error_code   INTEGER,
	attempt      INTEGER NOT NULL DEFAULT 0,
	due_at       INTEGER NOT NULL DEFAULT 0, -- held (quiet hours) until
	sent_at      INTEGER,
	delivered_at INTEGER,
	read_at      INTEGER,
	replied_at   INTEGER,
	clicked_at   INTEGER,
	converted_at INTEGER,
	UNIQUE (campaign_id, contact_id)
);
CREATE INDEX campaign_recipients_state ON campaign_recipients(campaign_id, state, due_at);
CREATE INDEX campaign_recipients_message ON campaign_recipients(message_id) WHERE message_id IS NOT NULL;
CREATE INDEX campaign_recipients_contact ON campaign_recipients(contact_id, sent_at) WHERE sent_at IS NOT NULL;
CREATE TABLE marketing_sends (
	contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
	at         INTEGER NOT NULL,
	message_id INTEGER NOT NULL,
	PRIMARY KEY (contact_id, at, message_id)
) WITHOUT ROWID;
`

// Campaign is a campaign's row; campaigns/ decodes the JSON fields.
type Campaign struct {
	ID               int64           `json:"id"`
	Name             string          `json:"name"`
	State            string          `json:"state"`
	TemplateName     string          `json:"template_name,omitempty"`
	TemplateLanguage string          `json:"template_language,omitempty"`
	FlowID           int64           `json:"flow_id,omitempty"`
	Variants         json.RawMessage `json:"variants"`
	Audience         json.RawMessage `json:"audience"`
	Settings         json.RawMessage `json:"settings"`
	ScheduledAt      time.Time       `json:"scheduled_at,omitzero"`
	SnapshotAt       time.Time       `json:"snapshot_at,omitzero"`
	StartedAt        time.Time       `json:"started_at,omitzero"`
	FinishedAt       time.Time       `json:"finished_at,omitzero"`
	TestUntil        time.Time       `json:"test_until,omitzero"`
	Winner           string          `json:"winner,omitempty"`
	WinnerNote       string          `json:"winner_note,omitempty"`
	PausedReason     string          `json:"paused_reason,omitempty"`
	CreatedAt        time.Time       `json:"created_at"`
	UpdatedAt        time.Time       `json:"updated_at"`
}

const campaignCols = `id, name, state, template_name, template_language, COALESCE(flow_id, 0), variants, audience, settings,
	scheduled_at, snapshot_at, started_at, finished_at, test_until, winner, winner_note, paused_reason, created_at, updated_at`

func scanCampaign(sc interface{ Scan(...any) error }) (*Campaign, error) {
	var c Campaign
	var vars, aud, set string
	var sched, snap, started, finished, test sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.Name, &c.State, &c.TemplateName, &c.TemplateLanguage, &c.FlowID, &vars, &aud, &set,
		&sched, &snap, &started, &finished, &test, &c.Winner, &c.WinnerNote, &c.PausedReason, &created, &updated); err != nil {
		return nil, err
	}
	c.Variants, c.Audience, c.Settings = json.RawMessage(vars), json.RawMessage(aud), json.RawMessage(set)
	c.ScheduledAt, c.SnapshotAt, c.StartedAt, c.FinishedAt, c.TestUntil = fromMS(sched), fromMS(snap), fromMS(started), fromMS(finished), fromMS(test)
	c.CreatedAt, c.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &c, nil
}

// CreateCampaign writes a draft campaign.
func (s *Store) CreateCampaign(ctx context.Context, c *Campaign) (*Campaign, error) {
	var out *Campaign
	err := s.update(ctx, func(t *wtx) error {
		if err := t.segmentExists(c.Audience); err != nil {
			return err
		}
		var id int64
		if err := t.queryRow(`INSERT INTO campaigns (name, template_name, template_language, flow_id, variants, audience, settings,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, c.Name, c.TemplateName, c.TemplateLanguage,
			nullID(c.FlowID), jsonOr(c.Variants, "[]"), jsonOr(c.Audience, "{}"), jsonOr(c.Settings, "{}"),
			t.now.UnixMilli(), t.now.UnixMilli()).Scan(&id); err != nil {
			return err
		}
		var err error
		out, err = scanCampaign(t.queryRow("SELECT "+campaignCols+" FROM campaigns WHERE id = ?", id))
		return err
	})
	return out, err
}

// ErrCampaignState refuses a change the campaign's state does not allow.
var ErrCampaignState = errors.New("the campaign's state does not allow this")

// UpdateCampaign rewrites a draft's definition.
func (s *Store) UpdateCampaign(ctx context.Context, c *Campaign) (*Campaign, error) {
	var out *Campaign
	err := s.update(ctx, func(t *wtx) error {
		if err := t.segmentExists(c.Audience); err != nil {
			return err
		}
		r, err := t.exec(`UPDATE campaigns SET name = ?, template_name = ?, template_language = ?, flow_id = ?, variants = ?,
			audience = ?, settings = ?, updated_at = ? WHERE id = ? AND state = 'draft'`, c.Name, c.TemplateName, c.TemplateLanguage,
			nullID(c.FlowID), jsonOr(c.Variants, "[]"), jsonOr(c.Audience, "{}"), jsonOr(c.Settings, "{}"), t.now.UnixMilli(), c.ID)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			if _, err := t.campaign(c.ID); err != nil {
				return err
			}
			return ErrCampaignState
		}
		out, err = t.campaign(c.ID)
		return err
	})
	return out, err
}

// ErrSegmentMissing refuses a campaign whose segment does not exist: it
// was deleted between the form and the save.
var ErrSegmentMissing = errors.New("the campaign's segment does not exist")

// segmentExists checks, in the transaction that writes a campaign, that
// its audience's segment exists, so that a segment deleted at the same
// moment (DeleteSegment refuses a segment a campaign uses, in its own
// transaction) cannot leave a campaign without one.
func (t *wtx) segmentExists(audience json.RawMessage) error {
	var a struct {
		SegmentID int64 `json:"segment_id"`
	}
	if json.Unmarshal(audience, &a) != nil || a.SegmentID == 0 {
		return nil
	}
	var one int
	err := t.queryRow("SELECT 1 FROM segments WHERE id = ?", a.SegmentID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrSegmentMissing
	}
	return err
}

func (t *wtx) campaign(id int64) (*Campaign, error) {
	c, err := scanCampaign(t.queryRow("SELECT "+campaignCols+" FROM campaigns WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return c, err
}

// CampaignByID reads one campaign.
func (s *Store) CampaignByID(ctx context.Context, id int64) (*Campaign, error) {
	c, err := scanCampaign(s.r.QueryRowContext(ctx, "SELECT "+campaignCols+" FROM campaigns WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return c, err
}

// Campaigns lists the campaigns, newest first; states filters when given.
func (s *Store) Campaigns(ctx context.Context, states ...string) ([]Campaign, error) {
	q := "SELECT " + campaignCols + " FROM campaigns"
	var args []any
	if len(states) > 0 {
		q += " WHERE state IN (" + strings.TrimSuffix(strings.Repeat("?,", len(states)), ",") + ")"
		for _, st := range states {
			args = append(args, st)
		}
	}
	rows, err := s.r.QueryContext(ctx, q+" ORDER BY id DESC", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Campaign{}
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// DeleteCampaign deletes a campaign that is not running, with its recipients.
func (s *Store) DeleteCampaign(ctx context.Context, id int64) error {
	return s.update(ctx, func(t *wtx) error {
		c, err := t.campaign(id)
		if err != nil {
			return err
		}
		if c.State == CampaignRunning || c.State == CampaignPaused || c.State == CampaignScheduled {
			return ErrCampaignState
		}
		if _, err := t.exec("DELETE FROM campaign_recipients WHERE campaign_id = ?", id); err != nil {
			return err
		}
		_, err = t.exec("DELETE FROM campaigns WHERE id = ?", id)
		return err
	})
}

// CampaignMove is a change of a campaign's state: from one of From to To,
// with the columns it sets.
type CampaignMove struct {
	ID          int64
	From        []string
	To          string
	ScheduledAt time.Time // To scheduled: a launch timer is set for then
	TestUntil   time.Time // To running, first launch: the A/B decision time
	Reason      string    // To paused: why
	// fromTimer: the launch timer itself moves it (it must not cancel
	// itself, which the scheduler then records as fired).
	fromTimer bool
}

// MoveCampaign changes a campaign's state if it is in one of m.From; a
// scheduled launch sets its timer in the same transaction, a cancel
// cancels the pending recipients and the timer.
func (s *Store) MoveCampaign(ctx context.Context, m CampaignMove) (*Campaign, error) {
	var out *Campaign
	err := s.update(ctx, func(t *wtx) error {
		var err error
		out, err = t.moveCampaign(m)
		return err
	})
	return out, err
}

func (t *wtx) moveCampaign(m CampaignMove) (*Campaign, error) {
	c, err := t.campaign(m.ID)
	if err != nil {
		return nil, err
	}
	ok := false
	for _, f := range m.From {
		ok = ok || f == c.State
	}
	if !ok {
		return c, fmt.Errorf("%w: it is %s", ErrCampaignState, c.State)
	}
	now := t.now.UnixMilli()
	switch m.To {
	case CampaignScheduled:
		if _, err := t.exec("UPDATE campaigns SET state = 'scheduled', scheduled_at = ?, updated_at = ? WHERE id = ?",
			m.ScheduledAt.UnixMilli(), now, m.ID); err != nil {
			return nil, err
		}
		if err := t.cancelTimers(TimerCampaignLaunch, m.ID); err != nil {
			return nil, err
		}
		if _, err := t.addTimer(TimerSpec{Kind: TimerCampaignLaunch, Owner: m.ID,
			Token: strconv.FormatInt(m.ScheduledAt.UnixMilli(), 10), DueAt: m.ScheduledAt}); err != nil {
			return nil, err
		}
	case CampaignRunning:
		if _, err := t.exec(`UPDATE campaigns SET state = 'running', paused_reason = '', started_at = COALESCE(started_at, ?1),
			test_until = COALESCE(test_until, ?2), finished_at = NULL, updated_at = ?1 WHERE id = ?3`, now, ms(m.TestUntil), m.ID); err != nil {
			return nil, err
		}
		if !m.fromTimer {
			if err := t.cancelTimers(TimerCampaignLaunch, m.ID); err != nil {
				return nil, err
			}
		}
	case CampaignPaused:
		if _, err := t.exec("UPDATE campaigns SET state = 'paused', paused_reason = ?, updated_at = ? WHERE id = ?",
			m.Reason, now, m.ID); err != nil {
			return nil, err
		}
	case CampaignCancelled, CampaignDone:
		if _, err := t.exec("UPDATE campaigns SET state = ?, finished_at = ?, updated_at = ? WHERE id = ?", m.To, now, now, m.ID); err != nil {
			return nil, err
		}
		if err := t.cancelTimers(TimerCampaignLaunch, m.ID); err != nil {
			return nil, err
		}
	case CampaignDraft:
		if _, err := t.exec("UPDATE campaigns SET state = 'draft', scheduled_at = NULL, updated_at = ? WHERE id = ?", now, m.ID); err != nil {
			return nil, err
		}
		if err := t.cancelTimers(TimerCampaignLaunch, m.ID); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown campaign state %q", m.To)
	}
	return t.campaign(m.ID)
}

// CancelPendingRecipients marks up to limit pending recipients of a
// cancelled campaign cancelled, and returns how many: called in batches,
// so that a large audience never holds the writer for long.
func (s *Store) CancelPendingRecipients(ctx context.Context, campaignID int64, limit int) (int, error) {
	var n int64
	err := s.update(ctx, func(t *wtx) error {
		r, err := t.exec(`UPDATE campaign_recipients SET state = 'cancelled', reason = 'campaign_cancelled'
			WHERE id IN (SELECT id FROM campaign_recipients WHERE campaign_id = ? AND state = 'pending' LIMIT ?)`, campaignID, limit)
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		return nil
	})
	return int(n), err
}

// RetryFailedRecipients puts the failed recipients of a campaign back to
// pending, each with a new attempt (so a new idempotency key), and
// returns how many. An unconfirmed one is not retried: Meta may have it.
func (s *Store) RetryFailedRecipients(ctx context.Context, campaignID int64) (int, error) {
	var n int64
	err := s.update(ctx, func(t *wtx) error {
		r, err := t.exec(`UPDATE campaign_recipients SET state = 'pending', reason = '', error_code = NULL, message_id = NULL,
			attempt = attempt + 1, due_at = 0 WHERE campaign_id = ? AND state = 'failed' AND reason != 'unconfirmed'`, campaignID)
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		return nil
	})
	return int(n), err
}

// FireCampaignLaunch launches a scheduled campaign in the timer's
// transaction, if it is still scheduled for the timer's time.
func (x *TimerTx) FireCampaignLaunch(tm *Timer, testUntil func(*Campaign) time.Time) (bool, error) {
	c, err := x.t.campaign(tm.Owner)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if c.State != CampaignScheduled || strconv.FormatInt(c.ScheduledAt.UnixMilli(), 10) != tm.Token {
		return false, nil
	}
	_, err = x.t.moveCampaign(CampaignMove{ID: c.ID, From: []string{CampaignScheduled}, To: CampaignRunning, TestUntil: testUntil(c),
		fromTimer: true})
	return err == nil, err
}

// VariantShare is a variant's share of the audience in basis points
// (1/10,000); the recipients past the shares wait for the winner (”).
type VariantShare struct {
	Name   string
	Points int
}

// HoldoutVariant marks the hold-out group: skipped, reason "holdout".
const HoldoutVariant = "holdout"

// snapshotChunk is how many contacts one snapshot transaction adds: a few
// milliseconds each, so the writer is never held for long.
const snapshotChunk = 1000

// snapshotTx, when set (tests), hears how long each snapshot transaction took.
var snapshotTx func(time.Duration)

// SnapshotRecipients freezes the audience (where, args: a WHERE over
// contacts c) into the campaign's recipients. The audience is read once, in
// one read transaction beside the writer, so it is the audience of one
// instant; its contacts are then added in short write transactions of
// snapshotChunk each. (Evaluating the rule per range of ids instead runs its
// subqueries, such as a tag's members, once per range: 100 times the work
// for 100,000 contacts.) Each contact falls into a variant by a hash of its
// id and the campaign's, so that a re-run puts it in the same one; a contact
// already a recipient is not added twice. It returns the recipients.
func (s *Store) SnapshotRecipients(ctx context.Context, campaignID int64, where string, args []any, shares []VariantShare) (int, error) {
	ids, err := s.audienceIDs(ctx, where, args)
	if err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	// bucket: 0..9999, stable per contact and campaign.
	bucket := "((c.id * 2654435761 + ?) % 10000)"
	variant := "CASE"
	var vargs []any
	lo := 0
	for _, v := range shares {
		variant += " WHEN " + bucket + " < ? THEN ?"
		lo += v.Points
		vargs = append(vargs, campaignID*40503, lo, v.Name)
	}
	variant += " ELSE '' END"
	if len(shares) == 0 {
		variant = "''"
	}
	q := `INSERT OR IGNORE INTO campaign_recipients (campaign_id, contact_id, wa_id, state, variant, reason)
		SELECT ?, c.id, c.wa_id, CASE v WHEN '` + HoldoutVariant + `' THEN 'skipped' ELSE 'pending' END, v,
			CASE v WHEN '` + HoldoutVariant + `' THEN 'holdout' ELSE '' END
		FROM (SELECT c.*, ` + variant + ` AS v FROM contacts c WHERE c.id IN (SELECT value FROM json_each(?))) c`
	var list []byte
	for i := 0; i < len(ids); i += snapshotChunk {
		list = append(list[:0], '[')
		for k, id := range ids[i:min(i+snapshotChunk, len(ids))] {
			if k > 0 {
				list = append(list, ',')
			}
			list = strconv.AppendInt(list, id, 10)
		}
		list = append(list, ']')
		a := append([]any{campaignID}, vargs...)
		a = append(a, string(list))
		start := time.Now()
		if err := s.update(ctx, func(t *wtx) error {
			_, err := t.tx.ExecContext(t.ctx, q, a...)
			return err
		}); err != nil {
			return 0, fmt.Errorf("snapshot: %w", err)
		}
		if snapshotTx != nil {
			snapshotTx(time.Since(start))
		}
	}
	if err := s.update(ctx, func(t *wtx) error {
		_, err := t.exec("UPDATE campaigns SET snapshot_at = COALESCE(snapshot_at, ?1), updated_at = ?1 WHERE id = ?2",
			t.now.UnixMilli(), campaignID)
		return err
	}); err != nil {
		return 0, err
	}
	var n int
	err = s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = ?", campaignID).Scan(&n)
	return n, err
}

// AudienceCount counts the contacts of an audience (a WHERE over contacts c).
func (s *Store) AudienceCount(ctx context.Context, where string, args []any) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM contacts c WHERE "+where, args...).Scan(&n)
	return n, err
}

// audienceIDs lists the contacts of an audience (a WHERE over contacts c),
// in id order.
func (s *Store) audienceIDs(ctx context.Context, where string, args []any) ([]int64, error) {
	return s.ids(ctx, "SELECT c.id FROM contacts c WHERE ("+where+") ORDER BY c.id", args...)
}

// ids runs a query over the readers whose rows are one integer each.
func (s *Store) ids(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// AudienceCheck counts, in an audience, the contacts a campaign cannot
// reach or cannot fill: by reason. attrs are the attributes a template's
// variables read without a fallback; needName says one reads the name
// without a fallback; caps are the frequency caps that apply (capped: at
// one of them now).
func (s *Store) AudienceCheck(ctx context.Context, where string, args []any, attrs []string, needName bool, caps []MarketingCap) (map[string]int, error) {
	capped := "0"
	var a []any
	for _, c := range caps {
		capped += " OR (SELECT COUNT(*) FROM marketing_sends m WHERE m.contact_id = c.id AND m.at > ?) >= ?"
		a = append(a, c.Since.UnixMilli(), c.N)
	}
	sel := `SELECT COUNT(*),
		COALESCE(SUM(c.consent = 'opted_out'), 0),
		COALESCE(SUM(c.consent = 'unknown'), 0),
		COALESCE(SUM(c.wa_id LIKE '1%'), 0),
		COALESCE(SUM(c.wa_id IS NULL AND c.user_id IS NULL), 0),
		COALESCE(SUM(` + capped + `), 0),
		COALESCE(SUM(`
	var missing []string
	if needName {
		missing = append(missing, "TRIM(c.name) = ''")
	}
	for _, k := range attrs {
		missing = append(missing, `TRIM(COALESCE(json_extract(c.attributes, '$."' || ? || '"'), '')) = ''`)
		a = append(a, k)
	}
	if len(missing) == 0 {
		missing = []string{"0"}
	}
	sel += strings.Join(missing, " OR ") + "), 0) FROM contacts c WHERE " + where
	var total, out, unknown, plusOne, noAddr, capN, miss int
	if err := s.r.QueryRowContext(ctx, sel, append(a, args...)...).Scan(&total, &out, &unknown, &plusOne, &noAddr, &capN, &miss); err != nil {
		return nil, err
	}
	return map[string]int{"total": total, "opted_out": out, "consent_unknown": unknown, "plus_one": plusOne,
		"no_number": noAddr, "capped": capN, "missing_variables": miss}, nil
}

// Recipient is one row of a campaign's recipients, with the contact's
// name and attributes for its variables.
type Recipient struct {
	ID          int64             `json:"id"`
	CampaignID  int64             `json:"campaign_id"`
	ContactID   int64             `json:"contact_id"`
	WaID        string            `json:"wa_id,omitempty"`
	UserID      string            `json:"user_id,omitempty"`
	Name        string            `json:"name"`
	Attributes  map[string]string `json:"-"`
	State       string            `json:"state"`
	Variant     string            `json:"variant,omitempty"`
	MessageID   int64             `json:"message_id,omitempty"`
	RunID       int64             `json:"run_id,omitempty"`
	Reason      string            `json:"reason,omitempty"`
	ErrorCode   int               `json:"error_code,omitempty"`
	Attempt     int               `json:"attempt,omitempty"`
	DueAt       time.Time         `json:"due_at,omitzero"`
	SentAt      time.Time         `json:"sent_at,omitzero"`
	DeliveredAt time.Time         `json:"delivered_at,omitzero"`
	ReadAt      time.Time         `json:"read_at,omitzero"`
	RepliedAt   time.Time         `json:"replied_at,omitzero"`
	ClickedAt   time.Time         `json:"clicked_at,omitzero"`
	ConvertedAt time.Time         `json:"converted_at,omitzero"`
}

const recipientCols = `r.id, r.campaign_id, r.contact_id, COALESCE(c.wa_id, ''), COALESCE(c.user_id, ''), c.name, c.attributes,
	r.state, r.variant, COALESCE(r.message_id, 0), COALESCE(r.run_id, 0), r.reason, COALESCE(r.error_code, 0), r.attempt, r.due_at,
	r.sent_at, r.delivered_at, r.read_at, r.replied_at, r.clicked_at, r.converted_at`

func scanRecipient(sc interface{ Scan(...any) error }) (*Recipient, error) {
	var r Recipient
	var attrs string
	var due int64
	var sent, deliv, read, replied, clicked, conv sql.NullInt64
	if err := sc.Scan(&r.ID, &r.CampaignID, &r.ContactID, &r.WaID, &r.UserID, &r.Name, &attrs, &r.State, &r.Variant,
		&r.MessageID, &r.RunID, &r.Reason, &r.ErrorCode, &r.Attempt, &due, &sent, &deliv, &read, &replied, &clicked, &conv); err != nil {
		return nil, err
	}
	json.Unmarshal([]byte(attrs), &r.Attributes)
	if due > 0 {
		r.DueAt = time.UnixMilli(due).UTC()
	}
	r.SentAt, r.DeliveredAt, r.ReadAt, r.RepliedAt, r.ClickedAt, r.ConvertedAt = fromMS(sent), fromMS(deliv), fromMS(read),
		fromMS(replied), fromMS(clicked), fromMS(conv)
	return &r, nil
}

// RecipientByID returns one campaign recipient.
func (s *Store) RecipientByID(ctx context.Context, id int64) (*Recipient, error) {
	r, err := scanRecipient(s.r.QueryRowContext(ctx, "SELECT "+recipientCols+` FROM campaign_recipients r
		JOIN contacts c ON c.id = r.contact_id WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return r, err
}

// RecordClick marks a recipient clicked (once: the first click's time
// stays) when one of their tracked links was opened after their message
// went. It reports whether this was their first click.
func (s *Store) RecordClick(ctx context.Context, recipientID int64, at time.Time) (bool, error) {
	var n int64
	err := s.update(ctx, func(t *wtx) error {
		r, err := t.exec(`UPDATE campaign_recipients SET clicked_at = ? WHERE id = ? AND clicked_at IS NULL AND sent_at IS NOT NULL`,
			at.UnixMilli(), recipientID)
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	return n > 0, err
}

// DueRecipients returns up to limit pending recipients of a campaign
// whose time has come, in id order; variants limits them to those
// variants (nil: any).
func (s *Store) DueRecipients(ctx context.Context, campaignID int64, now time.Time, variants []string, limit int) ([]Recipient, error) {
	q := "SELECT " + recipientCols + ` FROM campaign_recipients r JOIN contacts c ON c.id = r.contact_id
		WHERE r.campaign_id = ? AND r.state = 'pending' AND r.due_at <= ?`
	args := []any{campaignID, now.UnixMilli()}
	if variants != nil {
		if len(variants) == 0 {
			return nil, nil
		}
		q += " AND r.variant IN (" + strings.TrimSuffix(strings.Repeat("?,", len(variants)), ",") + ")"
		for _, v := range variants {
			args = append(args, v)
		}
	}
	return s.recipients(ctx, q+" ORDER BY r.due_at, r.id LIMIT ?", append(args, limit)...)
}

// RecipientFilter selects a campaign's recipients for the list.
type RecipientFilter struct {
	State, Variant, Reason string
	After                  int64 // recipient id cursor
	Limit                  int
}

// CampaignRecipients lists a campaign's recipients in id order.
func (s *Store) CampaignRecipients(ctx context.Context, campaignID int64, f RecipientFilter) ([]Recipient, error) {
	q := "SELECT " + recipientCols + ` FROM campaign_recipients r JOIN contacts c ON c.id = r.contact_id
		WHERE r.campaign_id = ? AND r.id > ?`
	args := []any{campaignID, f.After}
	if f.State != "" {
		q += " AND r.state = ?"
		args = append(args, f.State)
	}
	if f.Variant != "" {
		q += " AND r.variant = ?"
		args = append(args, f.Variant)
	}
	if f.Reason != "" {
		q += " AND r.reason = ?"
		args = append(args, f.Reason)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	return s.recipients(ctx, q+" ORDER BY r.id LIMIT ?", append(args, f.Limit)...)
}

// recipients runs a query over recipientCols and scans its rows.
func (s *Store) recipients(ctx context.Context, q string, args ...any) ([]Recipient, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Recipient{}
	for rows.Next() {
		r, err := scanRecipient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// CampaignFunnel is a campaign's progress: recipients by state, the
// funnel (each stage counts the recipients that reached it), skips by
// reason and failures by Meta's code, and per variant.
type CampaignFunnel struct {
	Targeted  int                      `json:"targeted"`
	ByState   map[string]int           `json:"by_state"`
	Sent      int                      `json:"sent"`
	Delivered int                      `json:"delivered"`
	Read      int                      `json:"read"`
	Replied   int                      `json:"replied"`
	Clicked   int                      `json:"clicked"`
	Converted int                      `json:"converted"`
	OptedOut  int                      `json:"opted_out"` // opted out within 72 hours of the send: attributed to the campaign
	Skipped   map[string]int           `json:"skipped"`
	Failed    map[string]int           `json:"failed"` // by Meta's error code ("0": refused by sendbox)
	Variants  map[string]*VariantCount `json:"variants"`
}

// VariantCount is one variant's figures, for the A/B decision.
type VariantCount struct {
	Targeted  int `json:"targeted"`
	Sent      int `json:"sent"`
	Delivered int `json:"delivered"`
	Read      int `json:"read"`
	Replied   int `json:"replied"`
	Clicked   int `json:"clicked"`
	Converted int `json:"converted"`
}

// AttributionWindow is how long after a send a reply or an opt-out counts
// for the campaign.
const AttributionWindow = 72 * time.Hour

// CampaignProgress counts a campaign's recipients.
func (s *Store) CampaignProgress(ctx context.Context, id int64) (*CampaignFunnel, error) {
	f := &CampaignFunnel{ByState: map[string]int{}, Skipped: map[string]int{}, Failed: map[string]int{}, Variants: map[string]*VariantCount{}}
	rows, err := s.r.QueryContext(ctx, `SELECT state, variant, reason, COALESCE(error_code, 0), COUNT(*), COUNT(sent_at), COUNT(delivered_at),
		COUNT(read_at), COUNT(replied_at), COUNT(clicked_at), COUNT(converted_at)
		FROM campaign_recipients WHERE campaign_id = ? GROUP BY state, variant, reason, error_code`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var state, variant, reason string
		var code, n int
		var v VariantCount
		if err := rows.Scan(&state, &variant, &reason, &code, &n, &v.Sent, &v.Delivered, &v.Read, &v.Replied, &v.Clicked, &v.Converted); err != nil {
			return nil, err
		}
		f.Targeted += n
		f.ByState[state] += n
		f.Sent += v.Sent
		f.Delivered += v.Delivered
		f.Read += v.Read
		f.Replied += v.Replied
		f.Clicked += v.Clicked
		f.Converted += v.Converted
		switch state {
		case RecipientSkipped:
			f.Skipped[reason] += n
		case RecipientFailed:
			f.Failed[strconv.Itoa(code)] += n
		}
		if variant != "" {
			vc := f.Variants[variant]
			if vc == nil {
				vc = &VariantCount{}
				f.Variants[variant] = vc
			}
			vc.Targeted += n
			vc.Sent += v.Sent
			vc.Delivered += v.Delivered
			vc.Read += v.Read
			vc.Replied += v.Replied
			vc.Clicked += v.Clicked
			vc.Converted += v.Converted
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Opt-outs the ledger attributed to the campaign (attributeOptOut).
	err = s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaign_recipients
		WHERE campaign_id = ? AND opted_out_at IS NOT NULL`, id).Scan(&f.OptedOut)
	return f, err
}

// InFlight counts the recipients whose message is queued and not yet
// accepted by Meta, over all campaigns: what the bulk lane has still to
// drain.
func (s *Store) InFlight(ctx context.Context, campaignIDs []int64) (int, error) {
	n := 0
	for _, id := range campaignIDs {
		var k int
		if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = ? AND state = 'queued'", id).Scan(&k); err != nil {
			return 0, err
		}
		n += k
	}
	return n, nil
}

// PendingCount counts a campaign's pending recipients (any due time) and
// those of them in the variants given (” : waiting for the winner).
func (s *Store) PendingCount(ctx context.Context, id int64) (pending, queued int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(state = 'queued'), 0)
		FROM campaign_recipients WHERE campaign_id = ? AND state IN ('pending', 'queued')`, id).Scan(&pending, &queued)
	return pending, queued, err
}

// SetCampaignWinner records an A/B test's winner and gives it the
// recipients that waited for it.
func (s *Store) SetCampaignWinner(ctx context.Context, id int64, winner, note string) error {
	return s.update(ctx, func(t *wtx) error {
		r, err := t.exec("UPDATE campaigns SET winner = ?, winner_note = ?, updated_at = ? WHERE id = ? AND winner = ''",
			winner, note, t.now.UnixMilli(), id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return nil
		}
		_, err = t.exec("UPDATE campaign_recipients SET variant = ? WHERE campaign_id = ? AND variant = '' AND state = 'pending'", winner, id)
		return err
	})
}

// Dispatch is what the campaign does with one pending recipient, applied
// in one transaction if the recipient is still pending and the campaign
// still running: skip it (Skip, a reason), hold it until HoldUntil, or
// queue Message (with the marketing checks made again inside the
// transaction: consent, Meta's hold, and each of Caps).
type Dispatch struct {
	CampaignID  int64
	RecipientID int64
	ContactID   int64
	Variant     string
	Skip        string
	HoldUntil   time.Time
	Message     *OutboundInput
	Marketing   bool
	Caps        []MarketingCap
	// Flow starts a run instead of a message (StartRun's move is the
	// caller's); see DispatchRun.
}

// MarketingCap is a frequency cap: fewer than N marketing templates
// queued to the contact since Since.
type MarketingCap struct {
	N     int
	Since time.Time
}

// DispatchOutcome says what became of a Dispatch.
type DispatchOutcome struct {
	State     string // the recipient's state after; "" if it was not pending (nothing done)
	Reason    string
	MessageID int64
}

// DispatchRecipient applies d; see Dispatch. Calls share group commits.
func (s *Store) DispatchRecipient(ctx context.Context, d Dispatch) (DispatchOutcome, error) {
	var out DispatchOutcome
	err := s.grouped(ctx, func(t *wtx) error {
		var err error
		out, err = t.dispatch(d)
		return err
	})
	return out, err
}

func (t *wtx) dispatch(d Dispatch) (DispatchOutcome, error) {
	var state, cstate string
	switch err := t.queryRow(`SELECT r.state, c.state FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id
		WHERE r.id = ? AND r.campaign_id = ?`, d.RecipientID, d.CampaignID).Scan(&state, &cstate); {
	case errors.Is(err, sql.ErrNoRows):
		return DispatchOutcome{}, nil
	case err != nil:
		return DispatchOutcome{}, err
	}
	if state != RecipientPending || cstate != CampaignRunning {
		return DispatchOutcome{}, nil
	}
	skip := func(reason string) (DispatchOutcome, error) {
		_, err := t.exec("UPDATE campaign_recipients SET state = 'skipped', reason = ?, variant = COALESCE(NULLIF(?, ''), variant) WHERE id = ?",
			reason, d.Variant, d.RecipientID)
		return DispatchOutcome{State: RecipientSkipped, Reason: reason}, err
	}
	if d.Skip != "" {
		return skip(d.Skip)
	}
	if !d.HoldUntil.IsZero() {
		_, err := t.exec("UPDATE campaign_recipients SET due_at = ? WHERE id = ?", d.HoldUntil.UnixMilli(), d.RecipientID)
		return DispatchOutcome{State: RecipientPending, Reason: "held"}, err
	}
	if d.Message == nil {
		return DispatchOutcome{}, errors.New("dispatch: nothing to send")
	}
	if d.Marketing {
		var consent string
		var hold sql.NullInt64
		if err := t.queryRow("SELECT consent, marketing_hold_until FROM contacts WHERE id = ?", d.ContactID).Scan(&consent, &hold); err != nil {
			return DispatchOutcome{}, err
		}
		if consent == ConsentOptedOut {
			return skip("opted_out")
		}
		if hold.Valid && hold.Int64 > t.now.UnixMilli() {
			return skip("marketing_hold")
		}
		for _, c := range d.Caps {
			var n int
			if err := t.queryRow("SELECT COUNT(*) FROM marketing_sends WHERE contact_id = ? AND at > ?",
				d.ContactID, c.Since.UnixMilli()).Scan(&n); err != nil {
				return DispatchOutcome{}, err
			}
			if n >= c.N {
				return skip("capped")
			}
		}
	}
	msg, _, err := t.queueOne(*d.Message)
	if err != nil {
		return DispatchOutcome{}, err
	}
	if _, err := t.exec("UPDATE campaign_recipients SET state = 'queued', message_id = ?, variant = COALESCE(NULLIF(?, ''), variant) WHERE id = ?",
		msg.ID, d.Variant, d.RecipientID); err != nil {
		return DispatchOutcome{}, err
	}
	// The sender may have settled the message already (an earlier attempt
	// with the same key): its state applies now.
	if msg.Status != "queued" && msg.Status != StateSending {
		if err := t.campaignMessage(msg.ID, msg.Status, 0, t.now); err != nil {
			return DispatchOutcome{}, err
		}
	}
	return DispatchOutcome{State: RecipientQueued, MessageID: msg.ID}, nil
}

// CampaignRunStarted records, in a run's start transaction, that the
// campaign's recipient got their flow: it is then sent.
func (x *RunTx) CampaignRunStarted(campaignID, recipientID int64) (bool, error) {
	r, err := x.t.exec(`UPDATE campaign_recipients SET state = 'sent', run_id = ?, sent_at = ?, reason = 'flow_started'
		WHERE id = ? AND campaign_id = ? AND state = 'pending'`, x.run.ID, x.t.now.UnixMilli(), recipientID, campaignID)
	if err != nil {
		return false, err
	}
	n, _ := r.RowsAffected()
	return n == 1, nil
}

// SkipRecipient marks a pending recipient skipped with a reason (a flow
// that would not start for them).
func (s *Store) SkipRecipient(ctx context.Context, campaignID, recipientID int64, reason string) error {
	return s.update(ctx, func(t *wtx) error {
		_, err := t.exec("UPDATE campaign_recipients SET state = 'skipped', reason = ? WHERE id = ? AND campaign_id = ? AND state = 'pending'",
			reason, recipientID, campaignID)
		return err
	})
}

// recordMarketingSend counts a marketing template queued to a contact,
// for the campaigns' frequency cap across campaigns, flows and the API.
func (t *wtx) recordMarketingSend(contactID, messageID int64) error {
	_, err := t.exec("INSERT OR IGNORE INTO marketing_sends (contact_id, at, message_id) VALUES (?, ?, ?)",
		contactID, t.now.UnixMilli(), messageID)
	return err
}

// MarketingSendsSince counts the marketing templates queued to a contact
// since a time.
func (s *Store) MarketingSendsSince(ctx context.Context, contactID int64, since time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM marketing_sends WHERE contact_id = ? AND at > ?", contactID, since.UnixMilli()).Scan(&n)
	return n, err
}

// campaignRank orders the progress of a recipient that was sent.
var campaignRank = map[string]int{RecipientQueued: 0, RecipientSent: 1, RecipientDelivered: 2, RecipientRead: 3,
	RecipientReplied: 4, RecipientConverted: 5}

// campaignMessage applies what became of a message (the sender's outcome
// or a status webhook: accepted, sent, delivered, read, failed, with
// Meta's code) to the campaign recipient it was sent to, if any, in the
// same transaction. A recipient only moves forward; 131049 and 131050 skip
// it (Meta capped the customer's marketing; the customer stopped it).
func (t *wtx) campaignMessage(messageID int64, status string, code int, at time.Time) error {
	atMS := at.UnixMilli()
	// A message the sender could not confirm (its call's outcome was lost
	// and no status came back) failed as unconfirmed; a status echo that
	// arrives later still makes it sent.
	const live = `(state IN ('queued', 'sent', 'delivered', 'read', 'replied', 'converted') OR (state = 'failed' AND reason = 'unconfirmed'))`
	switch status {
	case StateAccepted, RecipientSent:
		_, err := t.exec(`UPDATE campaign_recipients SET state = CASE WHEN state IN ('queued', 'failed') THEN 'sent' ELSE state END,
			reason = CASE WHEN state = 'failed' THEN '' ELSE reason END,
			sent_at = COALESCE(sent_at, ?) WHERE message_id = ? AND `+live, atMS, messageID)
		return err
	case RecipientDelivered, RecipientRead:
		rank := campaignRank[status]
		q := `UPDATE campaign_recipients SET
			state = CASE WHEN (CASE state WHEN 'queued' THEN 0 WHEN 'failed' THEN 0 WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 ELSE 9 END) < ?1
				THEN ?2 ELSE state END,
			reason = CASE WHEN state = 'failed' THEN '' ELSE reason END,
			sent_at = COALESCE(sent_at, ?3), delivered_at = COALESCE(delivered_at, ?3)`
		if status == RecipientRead {
			q += ", read_at = COALESCE(read_at, ?3)"
		}
		_, err := t.exec(q+` WHERE message_id = ?4 AND `+live, rank, status, atMS, messageID)
		return err
	case StateUncertain:
		_, err := t.exec(`UPDATE campaign_recipients SET state = 'failed', reason = 'unconfirmed'
			WHERE message_id = ? AND state = 'queued'`, messageID)
		return err
	case StateFailed:
		state, reason := RecipientFailed, "meta_error"
		switch code {
		case codeMarketingLimit:
			state, reason = RecipientSkipped, "capped_by_meta"
		case codeMarketingStopped:
			state, reason = RecipientSkipped, "opted_out"
		case 0:
			reason = "refused_before_send"
		}
		_, err := t.exec(`UPDATE campaign_recipients SET state = ?, reason = ?, error_code = NULLIF(?, 0)
			WHERE message_id = ? AND (state IN ('queued', 'sent') OR (state = 'failed' AND reason = 'unconfirmed'))`, state, reason, code, messageID)
		return err
	}
	return nil
}

// campaignReply marks the recipients a contact's message answers (sent
// to within the attribution window) replied, and clicked when it is a
// button's answer.
func (t *wtx) campaignReply(contactID int64, at time.Time, clicked bool) error {
	atMS := at.UnixMilli()
	q := `UPDATE campaign_recipients SET replied_at = COALESCE(replied_at, ?1),
		state = CASE WHEN state IN ('sent', 'delivered', 'read') THEN 'replied' ELSE state END`
	if clicked {
		q += ", clicked_at = COALESCE(clicked_at, ?1)"
	}
	_, err := t.exec(q+` WHERE contact_id = ?2 AND sent_at IS NOT NULL AND sent_at > ?3 AND sent_at <= ?1
		AND state IN ('sent', 'delivered', 'read', 'replied', 'converted')`, atMS, contactID, atMS-AttributionWindow.Milliseconds())
	return err
}

// RecentCampaignReply returns the campaign whose message a contact's
// reply at at answers (sent within the attribution window), or 0.
func (s *Store) RecentCampaignReply(ctx context.Context, contactID int64, at time.Time) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT campaign_id FROM campaign_recipients WHERE contact_id = ? AND sent_at IS NOT NULL
		AND sent_at > ? AND sent_at <= ? ORDER BY sent_at DESC LIMIT 1`, contactID, at.Add(-AttributionWindow).UnixMilli(), at.UnixMilli()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

func jsonOr(b json.RawMessage, def string) string {
	if len(b) == 0 {
		return def
	}
	return string(b)
}
