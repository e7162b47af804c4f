package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// migrateV18 adds segments and what their rules read: the events of the
// business's system kept per contact, and the contacts' attributes as rows.
//
// Attributes live in contacts.attributes as a JSON object, and a rule may
// name any key: json_extract over every contact costs a JSON parse per
// contact per count. contact_attributes holds the same pairs as rows,
// indexed by key and value, kept by triggers so that every writer
// (the panel, the API, an import) keeps it right without knowing of it.
// num and day are the value read as a number and as a date, NULL when it is
// neither, computed once at write.
func migrateV18(ctx context.Context, tx *sql.Tx) error {
	// Each statement on its own: trigger bodies hold ";\n".
	const value = `CAST(j.value AS TEXT)`
	num := `CASE WHEN ` + value + ` GLOB '*[0-9]*' AND ` + value + ` NOT GLOB '*.*.*'
		AND (` + value + ` NOT GLOB '*[^0-9.]*' OR (substr(` + value + `, 1, 1) IN ('-', '+') AND substr(` + value + `, 2) NOT GLOB '*[^0-9.]*'))
		THEN CAST(` + value + ` AS REAL) END`
	day := `CASE WHEN ` + value + ` GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' THEN date(` + value + `) END`
	// fill copies the pairs of the JSON object attrs (an invalid or
	// non-object value holds none) of contact id, read from the tables of from.
	fill := func(id, attrs, from string) string {
		return `INSERT INTO contact_attributes (contact_id, key, value, num, day)
			SELECT ` + id + `, j.key, ` + value + `, ` + num + `, ` + day + `
			FROM ` + from + `json_each(CASE WHEN json_valid(` + attrs + `) AND json_type(` + attrs + `) = 'object' THEN ` + attrs + ` ELSE '{}' END) j
			WHERE j.type NOT IN ('object', 'array', 'null')`
	}
	stmts := []string{
		`CREATE TABLE contact_events (
			id         INTEGER PRIMARY KEY,
			contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
			name       TEXT NOT NULL,
			key        TEXT NOT NULL UNIQUE,   -- the event's name and key, as POST /api/v1/events gives them: sent again, kept once
			data       TEXT NOT NULL DEFAULT '{}',
			at         INTEGER NOT NULL
		)`,
		`CREATE INDEX contact_events_contact ON contact_events(contact_id, name, at)`,
		`CREATE INDEX contact_events_name ON contact_events(name, at, contact_id)`,

		`CREATE TABLE contact_attributes (
			contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
			key        TEXT NOT NULL,
			value      TEXT NOT NULL COLLATE NOCASE,
			num        REAL,
			day        TEXT,
			PRIMARY KEY (contact_id, key)
		) WITHOUT ROWID`,
		`CREATE INDEX contact_attributes_value ON contact_attributes(key, value)`,
		fill("c.id", "c.attributes", "contacts c, "),
		`CREATE TRIGGER contact_attributes_insert AFTER INSERT ON contacts WHEN new.attributes NOT IN ('', '{}') BEGIN
			` + fill("new.id", "new.attributes", "") + `;
		END`,
		`CREATE TRIGGER contact_attributes_update AFTER UPDATE OF attributes ON contacts WHEN old.attributes IS NOT new.attributes BEGIN
			DELETE FROM contact_attributes WHERE contact_id = new.id;
			` + fill("new.id", "new.attributes", "") + `;
		END`,

		// No index on contacts.last_inbound_at: every customer message
		// would write it, and the typical rule (tag, consent, last
		// inbound within 30 days) counts 100,000 contacts as fast
		// without (BenchmarkSegmentCount).
		// A conversation's language as segments read it (the agent's
		// choice, else the detected one). Written only when a language
		// changes: the columns of each message's update are not in it.
		`CREATE INDEX conversations_language ON conversations((` + conversationLanguage + `), contact_id)`,

		`CREATE TABLE segments (
			id         INTEGER PRIMARY KEY,
			name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
			rule       TEXT NOT NULL,
			kind       TEXT NOT NULL DEFAULT 'dynamic' CHECK (kind IN ('dynamic','frozen')),
			frozen_at  INTEGER,
			created_at INTEGER NOT NULL,
			updated_at INTEGER NOT NULL
		)`,
		// A frozen segment's members, as its rule found them when frozen.
		`CREATE TABLE segment_members (
			segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
			contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
			PRIMARY KEY (segment_id, contact_id)
		) WITHOUT ROWID`,
		`CREATE INDEX segment_members_contact ON segment_members(contact_id)`,
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("%w in:\n%s", err, st)
		}
	}
	return nil
}

// schemaV24 indexes the attributes that are dates by their day: a date
// condition (before, after, within the last days) searched every value of
// its key and read each row for its day; with the value in the index too,
// it reads a range of this index only. Partial: most values are not dates.
const schemaV24 = `CREATE INDEX contact_attributes_day ON contact_attributes(key, day, value) WHERE day IS NOT NULL;
`

// schemaV25 indexes the engagement with each campaign the segment rules
// read ("read campaign 3", "clicked in the last 7 days"): the rule searched
// the campaign's recipients and read each row for its time, 71 ms for a
// campaign of 50,000 over 100,000 contacts; covering, 43 ms. Partial: a
// recipient enters each index once, when it first reads, replies, clicks
// or converts.
const schemaV25 = `CREATE INDEX campaign_recipients_read ON campaign_recipients(campaign_id, read_at, contact_id) WHERE read_at IS NOT NULL;
CREATE INDEX campaign_recipients_replied ON campaign_recipients(campaign_id, replied_at, contact_id) WHERE replied_at IS NOT NULL;
CREATE INDEX campaign_recipients_clicked ON campaign_recipients(campaign_id, clicked_at, contact_id) WHERE clicked_at IS NOT NULL;
CREATE INDEX campaign_recipients_converted ON campaign_recipients(campaign_id, converted_at, contact_id) WHERE converted_at IS NOT NULL;
`

// conversationLanguage is a conversation's language for segments: the
// index conversations_language holds it, and a query uses the index only
// with the same expression.
const conversationLanguage = `CASE WHEN language_chosen <> '' THEN language_chosen ELSE language_detected END`

// Kinds of segment.
const (
	SegmentDynamic = "dynamic" // its rule is evaluated each time (at send)
	SegmentFrozen  = "frozen"  // its members are those its rule found when frozen
)

// Segment is a named audience: a rule over contacts.
type Segment struct {
	ID        int64       `json:"id"`
	Name      string      `json:"name"`
	Kind      string      `json:"kind"`
	Rule      SegmentRule `json:"rule"`
	FrozenAt  time.Time   `json:"frozen_at,omitzero"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// SegmentInput is what a user sets on a segment.
type SegmentInput struct {
	Name string
	Kind string // dynamic (the default) or frozen
	Rule SegmentRule
}

// ErrSegmentName: another segment has this name.
var ErrSegmentName = errors.New("another segment has this name")

// SegmentWhere compiles a rule to a WHERE clause over contacts c and its
// parameters, for "SELECT ... FROM contacts c WHERE " + where. The rule is
// validated first (a *SegmentError says where it is wrong). Days in the
// rule ("within 30 days", "today") are the business's calendar days
// (Store.Location).
func (s *Store) SegmentWhere(rule SegmentRule) (where string, args []any, err error) {
	if err := rule.Validate(); err != nil {
		return "", nil, err
	}
	q := segmentSQL{now: now(), loc: s.location(), campaigns: s.hasTable("campaign_recipients")}
	if err := q.node(&rule, ""); err != nil {
		return "", nil, err
	}
	return q.b.String(), q.args, nil
}

// hasTable reports whether the schema has the table (campaigns come in a
// later migration than segments).
func (s *Store) hasTable(name string) bool {
	var n int
	err := s.r.QueryRow(`SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, name).Scan(&n)
	return err == nil && n > 0
}

// SegmentCount counts the contacts a rule matches now.
func (s *Store) SegmentCount(ctx context.Context, rule SegmentRule) (int, error) {
	where, args, err := s.SegmentWhere(rule)
	if err != nil {
		return 0, err
	}
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM contacts c WHERE "+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count segment: %w", err)
	}
	return n, nil
}

// SegmentAudience is the WHERE clause over contacts c of a segment's
// members: its rule now (dynamic), or the members it froze.
func (s *Store) SegmentAudience(seg *Segment) (where string, args []any, err error) {
	if seg.Kind == SegmentFrozen {
		return "c.id IN (SELECT contact_id FROM segment_members WHERE segment_id = ?)", []any{seg.ID}, nil
	}
	return s.SegmentWhere(seg.Rule)
}

// SegmentSize counts a segment's members now.
func (s *Store) SegmentSize(ctx context.Context, seg *Segment) (int, error) {
	where, args, err := s.SegmentAudience(seg)
	if err != nil {
		return 0, err
	}
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM contacts c WHERE "+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count segment %d: %w", seg.ID, err)
	}
	return n, nil
}

// SegmentContacts is a page of a segment's members, newest contacts first
// (after: the cursor of the previous page), and how many there are.
func (s *Store) SegmentContacts(ctx context.Context, seg *Segment, after int64, limit int) ([]Contact, int, int64, error) {
	where, args, err := s.SegmentAudience(seg)
	if err != nil {
		return nil, 0, 0, err
	}
	return s.contactsWhere(ctx, where, args, after, limit)
}

// RuleContacts is a page of the contacts a rule matches now (a preview
// while the rule is edited).
func (s *Store) RuleContacts(ctx context.Context, rule SegmentRule, after int64, limit int) ([]Contact, int, int64, error) {
	where, args, err := s.SegmentWhere(rule)
	if err != nil {
		return nil, 0, 0, err
	}
	return s.contactsWhere(ctx, where, args, after, limit)
}

func (s *Store) contactsWhere(ctx context.Context, where string, args []any, after int64, limit int) ([]Contact, int, int64, error) {
	var total int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM contacts c WHERE "+where, args...).Scan(&total); err != nil {
		return nil, 0, 0, fmt.Errorf("count segment: %w", err)
	}
	cond := where
	if after != 0 {
		cond = "(" + where + ") AND c.id < ?"
		args = append(args[:len(args):len(args)], after)
	}
	limit = clampLimit(limit)
	rows, err := s.r.QueryContext(ctx, "SELECT "+contactCols+" FROM contacts c WHERE "+cond+
		" ORDER BY c.id DESC LIMIT ?", append(args[:len(args):len(args)], limit+1)...)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("list segment: %w", err)
	}
	out, next, err := collect(rows, limit, scanContact, func(c *Contact) int64 { return c.ID })
	if err == nil {
		err = s.attachTags(ctx, out)
	}
	return out, total, next, err
}

const segmentCols = `id, name, kind, rule, frozen_at, created_at, updated_at`

func scanSegment(sc scanner) (*Segment, error) {
	var g Segment
	var rule string
	var frozen sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&g.ID, &g.Name, &g.Kind, &rule, &frozen, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(rule), &g.Rule); err != nil {
		return nil, fmt.Errorf("segment %d rule: %w", g.ID, err)
	}
	g.FrozenAt = fromMS(frozen)
	g.CreatedAt, g.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &g, nil
}

// SegmentByID reads a segment.
func (s *Store) SegmentByID(ctx context.Context, id int64) (*Segment, error) {
	g, err := scanSegment(s.r.QueryRowContext(ctx, "SELECT "+segmentCols+" FROM segments WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return g, err
}

// ListSegments lists every segment by name.
func (s *Store) ListSegments(ctx context.Context) ([]Segment, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+segmentCols+" FROM segments ORDER BY name COLLATE NOCASE, id")
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	defer rows.Close()
	out := []Segment{}
	for rows.Next() {
		g, err := scanSegment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *g)
	}
	return out, rows.Err()
}

func (in *SegmentInput) check() (rule string, err error) {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		return "", &SegmentError{Field: "name", Message: "the segment needs a name"}
	case len([]rune(in.Name)) > 100:
		return "", &SegmentError{Field: "name", Message: "a name has at most 100 characters"}
	}
	if m := textOK(in.Name); m != "" {
		return "", &SegmentError{Field: "name", Message: m}
	}
	switch in.Kind {
	case "":
		in.Kind = SegmentDynamic
	case SegmentDynamic, SegmentFrozen:
	default:
		return "", &SegmentError{Field: "kind", Message: "kind is dynamic (evaluated at send) or frozen (its members fixed now)"}
	}
	b, err := json.Marshal(in.Rule)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// CreateSegment adds a segment; a frozen one takes its members now.
func (s *Store) CreateSegment(ctx context.Context, in SegmentInput) (*Segment, error) {
	rule, err := in.check()
	if err != nil {
		return nil, err
	}
	where, args, err := s.SegmentWhere(in.Rule)
	if err != nil {
		return nil, err
	}
	var id int64
	err = s.update(ctx, func(t *wtx) error {
		r, err := t.tx.ExecContext(t.ctx, `INSERT INTO segments (name, rule, kind, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			in.Name, rule, in.Kind, t.now.UnixMilli(), t.now.UnixMilli())
		if isUnique(err) {
			return ErrSegmentName
		}
		if err != nil {
			return err
		}
		if id, err = r.LastInsertId(); err != nil {
			return err
		}
		if in.Kind == SegmentFrozen {
			return t.freezeSegment(id, where, args)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.SegmentByID(ctx, id)
}

// UpdateSegment replaces a segment's name, kind and rule. Frozen, it takes
// its members again from the rule; dynamic, it forgets them.
func (s *Store) UpdateSegment(ctx context.Context, id int64, in SegmentInput) (*Segment, error) {
	rule, err := in.check()
	if err != nil {
		return nil, err
	}
	where, args, err := s.SegmentWhere(in.Rule)
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, func(t *wtx) error {
		r, err := t.tx.ExecContext(t.ctx, `UPDATE segments SET name = ?, rule = ?, kind = ?, updated_at = ? WHERE id = ?`,
			in.Name, rule, in.Kind, t.now.UnixMilli(), id)
		if isUnique(err) {
			return ErrSegmentName
		}
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if in.Kind == SegmentFrozen {
			return t.freezeSegment(id, where, args)
		}
		_, err = t.tx.ExecContext(t.ctx, `DELETE FROM segment_members WHERE segment_id = ?`, id)
		if err == nil {
			_, err = t.tx.ExecContext(t.ctx, `UPDATE segments SET frozen_at = NULL WHERE id = ?`, id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.SegmentByID(ctx, id)
}

// FreezeSegment makes a segment frozen with the members its rule finds now
// (again, if it was frozen already).
func (s *Store) FreezeSegment(ctx context.Context, id int64) (*Segment, error) {
	g, err := s.SegmentByID(ctx, id)
	if err != nil {
		return nil, err
	}
	where, args, err := s.SegmentWhere(g.Rule)
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, func(t *wtx) error {
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE segments SET kind = 'frozen', updated_at = ? WHERE id = ?`, t.now.UnixMilli(), id); err != nil {
			return err
		}
		return t.freezeSegment(id, where, args)
	})
	if err != nil {
		return nil, err
	}
	return s.SegmentByID(ctx, id)
}

func (t *wtx) freezeSegment(id int64, where string, args []any) error {
	if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM segment_members WHERE segment_id = ?`, id); err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO segment_members (segment_id, contact_id)
		SELECT ?, c.id FROM contacts c WHERE `+where, append([]any{id}, args...)...); err != nil {
		return fmt.Errorf("freeze segment %d: %w", id, err)
	}
	_, err := t.tx.ExecContext(t.ctx, `UPDATE segments SET frozen_at = ? WHERE id = ?`, t.now.UnixMilli(), id)
	return err
}

// SegmentUser is a campaign that may still send to a segment.
type SegmentUser struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"`
}

// SegmentInUseError refuses to delete a segment that is the audience of
// campaigns that may still send: drafts, scheduled, running or paused.
type SegmentInUseError struct {
	Campaigns []SegmentUser
}

func (e *SegmentInUseError) Error() string {
	names := make([]string, len(e.Campaigns))
	for i, c := range e.Campaigns {
		names[i] = fmt.Sprintf("%q (%s)", c.Name, c.State)
	}
	return "the segment is the audience of " + plural(len(names), "the campaign ", "the campaigns ") + strings.Join(names, ", ") +
		": cancel " + plural(len(names), "it", "them") + " first (a draft may also take another segment, or be deleted)"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// segmentUsers are the campaigns whose audience is the segment and that
// may still send (a draft may be launched; done and cancelled ones never
// send again), by id.
func (t *wtx) segmentUsers(id int64) ([]SegmentUser, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id, name, state FROM campaigns
		WHERE state IN ('draft', 'scheduled', 'running', 'paused') AND json_valid(audience)
		AND json_extract(audience, '$.segment_id') = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("campaigns of segment %d: %w", id, err)
	}
	defer rows.Close()
	var out []SegmentUser
	for rows.Next() {
		var u SegmentUser
		if err := rows.Scan(&u.ID, &u.Name, &u.State); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// DeleteSegment removes a segment (and its frozen members). It refuses
// (*SegmentInUseError) while a draft, scheduled, running or paused
// campaign has it as its audience. The check and the deletion are one
// write transaction, and a campaign is launched from a draft, so none
// launched at the same moment slips through; one created from a page read
// just before the deletion finds the segment gone at its check, and the
// dispatcher pauses a campaign whose segment vanished.
func (s *Store) DeleteSegment(ctx context.Context, id int64) error {
	hasCampaigns := s.hasTable("campaigns")
	return s.update(ctx, func(t *wtx) error {
		if hasCampaigns {
			users, err := t.segmentUsers(id)
			if err != nil {
				return err
			}
			if len(users) > 0 {
				return &SegmentInUseError{Campaigns: users}
			}
		}
		r, err := t.tx.ExecContext(t.ctx, `DELETE FROM segments WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}
