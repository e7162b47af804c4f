package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"sendbox/events"
)

// ContactUpdate is what the panel edits on a contact.
type ContactUpdate struct {
	Name       string
	Email      string
	Notes      string
	Attributes map[string]string
	Tags       []string
}

// UpdateContact saves a contact's editable fields and tags.
func (s *Store) UpdateContact(ctx context.Context, id int64, u ContactUpdate) error {
	return s.update(ctx, func(t *wtx) error { return t.updateContact(ctx, id, u) })
}

func (t *wtx) updateContact(ctx context.Context, id int64, u ContactUpdate) error {
	before, err := t.contactState(id)
	if err != nil {
		return err
	}
	attrs, err := json.Marshal(u.Attributes)
	if err != nil {
		return err
	}
	if u.Attributes == nil {
		attrs = []byte("{}")
	}
	r, err := t.tx.ExecContext(ctx, `UPDATE contacts SET name = ?, email = ?, notes = ?, attributes = ?, updated_at = ?
		WHERE id = ?`, u.Name, u.Email, u.Notes, string(attrs), t.now.UnixMilli(), id)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if err := t.replaceTags(ctx, id, u.Tags); err != nil {
		return err
	}
	return t.emitContactChange(events.ContactUpdated, id, before)
}

func (t *wtx) replaceTags(ctx context.Context, id int64, tags []string) error {
	if _, err := t.tx.ExecContext(ctx, "DELETE FROM contact_tags WHERE contact_id = ?", id); err != nil {
		return err
	}
	for _, tag := range tags {
		if _, err := t.tx.ExecContext(ctx, "INSERT OR IGNORE INTO contact_tags (contact_id, tag) VALUES (?, ?)", id, tag); err != nil {
			return err
		}
	}
	return nil
}

func checkConsent(consent string) error {
	switch consent {
	case ConsentUnknown, ConsentOptedIn, ConsentOptedOut:
		return nil
	}
	return fmt.Errorf("unknown consent state %q", consent)
}

// SetConsent records a contact's marketing consent and where it came from.
// An opt-in also takes the contact's number off the suppression list: they
// asked for marketing again.
func (s *Store) SetConsent(ctx context.Context, id int64, consent, source string, at time.Time) error {
	if err := checkConsent(consent); err != nil {
		return err
	}
	return s.update(ctx, func(t *wtx) error { return t.setConsent(ctx, id, consent, source, at) })
}

// setConsent records a consent that says only its state and a source's
// words: a ledger record whose source is who acted (agent, api, system).
func (t *wtx) setConsent(ctx context.Context, id int64, consent, source string, at time.Time) error {
	return t.recordConsent(ConsentEntry{ContactID: id, Status: consent, Source: sourceOf(t.actor), Detail: source, At: at})
}

// ContactTags returns a contact's tags, sorted.
func (s *Store) ContactTags(ctx context.Context, id int64) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT tag FROM contact_tags WHERE contact_id = ? ORDER BY tag COLLATE NOCASE", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// AllTags returns every tag in use with how many contacts carry it.
func (s *Store) AllTags(ctx context.Context) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT tag, COUNT(*) FROM contact_tags GROUP BY tag COLLATE NOCASE")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var t string
		var n int
		if err := rows.Scan(&t, &n); err != nil {
			return nil, err
		}
		out[t] = n
	}
	return out, rows.Err()
}

// attachTags loads the tags of the given contacts in one query.
func (s *Store) attachTags(ctx context.Context, cs []Contact) error {
	if len(cs) == 0 {
		return nil
	}
	idx := map[int64]int{}
	ph := make([]string, len(cs))
	args := make([]any, len(cs))
	for i := range cs {
		idx[cs[i].ID] = i
		ph[i], args[i] = "?", cs[i].ID
	}
	rows, err := s.r.QueryContext(ctx, "SELECT contact_id, tag FROM contact_tags WHERE contact_id IN ("+
		strings.Join(ph, ",")+") ORDER BY tag COLLATE NOCASE", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var tag string
		if err := rows.Scan(&id, &tag); err != nil {
			return err
		}
		cs[idx[id]].Tags = append(cs[idx[id]].Tags, tag)
	}
	return rows.Err()
}

// ContactWithTags returns one contact with its tags.
func (s *Store) ContactWithTags(ctx context.Context, id int64) (*Contact, error) {
	c, err := s.ContactByID(ctx, id)
	if err != nil {
		return nil, err
	}
	list := []Contact{*c}
	if err := s.attachTags(ctx, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

// CannedReply is a saved answer agents insert with a shortcut.
type CannedReply struct {
	ID       int64  `json:"id"`
	Shortcut string `json:"shortcut"`
	Body     string `json:"body"`
}

// ListCannedReplies returns every canned reply by shortcut.
func (s *Store) ListCannedReplies(ctx context.Context) ([]CannedReply, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT id, shortcut, body FROM canned_replies ORDER BY shortcut COLLATE NOCASE")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CannedReply
	for rows.Next() {
		var c CannedReply
		if err := rows.Scan(&c.ID, &c.Shortcut, &c.Body); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SaveCannedReply creates (id 0) or updates a canned reply.
func (s *Store) SaveCannedReply(ctx context.Context, id int64, shortcut, body string) error {
	n := now().UnixMilli()
	var err error
	if id == 0 {
		_, err = s.w.ExecContext(ctx, "INSERT INTO canned_replies (shortcut, body, created_at, updated_at) VALUES (?, ?, ?, ?)",
			shortcut, body, n, n)
	} else {
		var r sql.Result
		r, err = s.w.ExecContext(ctx, "UPDATE canned_replies SET shortcut = ?, body = ?, updated_at = ? WHERE id = ?", shortcut, body, n, id)
		if err == nil {
			if k, _ := r.RowsAffected(); k == 0 {
				return ErrNotFound
			}
		}
	}
	if isUnique(err) {
		return fmt.Errorf("the shortcut %s: %w", shortcut, ErrConflict)
	}
	return err
}

// DeleteCannedReply removes a canned reply.
func (s *Store) DeleteCannedReply(ctx context.Context, id int64) error {
	r, err := s.w.ExecContext(ctx, "DELETE FROM canned_replies WHERE id = ?", id)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Template is a message template as Meta reports it.
type Template struct {
	ID         int64           `json:"id"`
	Name       string          `json:"name"`
	Language   string          `json:"language"`
	Category   string          `json:"category"`
	Status     string          `json:"status"`
	Components json.RawMessage `json:"components"`
	SyncedAt   time.Time       `json:"synced_at"`
	// MetaID is Meta's id of the template (message_template_id).
	MetaID          string `json:"meta_id,omitempty"`
	ParameterFormat string `json:"parameter_format,omitempty"` // POSITIONAL or NAMED
	Quality         string `json:"quality,omitempty"`          // GREEN, YELLOW, RED, UNKNOWN or ""
	// Reason is why Meta rejected (INVALID_FORMAT…), paused (FIRST_PAUSE…)
	// or disabled it; ReasonDetail is Meta's sentence about it.
	Reason       string    `json:"reason,omitempty"`
	ReasonDetail string    `json:"reason_detail,omitempty"`
	StatusAt     time.Time `json:"status_at,omitzero"`
	// VariableMap fills the variables per recipient (FillVariables).
	VariableMap VariableMap `json:"variable_map,omitempty"`
}

// ReplaceTemplates stores the templates Meta listed, dropping the others.
func (s *Store) ReplaceTemplates(ctx context.Context, list []Template) error {
	defer s.templates.clear() // after the commit, or after a failure that may have committed
	return s.update(ctx, func(t *wtx) error { return t.replaceTemplates(list, t.now) })
}

// ListTemplates returns the stored templates; approvedOnly keeps the sendable ones.
func (s *Store) ListTemplates(ctx context.Context, approvedOnly bool) ([]Template, error) {
	q := "SELECT " + templateCols + " FROM templates"
	if approvedOnly {
		q += " WHERE status = 'APPROVED'"
	}
	rows, err := s.r.QueryContext(ctx, q+" ORDER BY name, language")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Template
	for rows.Next() {
		tp, err := scanTemplate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *tp)
	}
	return out, rows.Err()
}

// TemplateByName returns one stored template.
func (s *Store) TemplateByName(ctx context.Context, name, language string) (*Template, error) {
	if tp := s.templates.get(name, language); tp != nil {
		return tp, nil
	}
	tp, err := s.templateByName(ctx, name, language)
	if err == nil {
		s.templates.put(tp)
	}
	return tp, err
}

// templateCache keeps the templates sends name: each queued template and
// each send looks its template up (category, parameters), and a read on a
// reader connection after every commit of a busy writer starts from a cold
// page cache. Every writer of the table (ReplaceTemplates, the template
// webhooks, the management commands) clears it;
// entries also expire, in case another process synced.
type templateCache struct {
	mu sync.Mutex // guards m
	m  map[[2]string]cachedTemplate
}

type cachedTemplate struct {
	tp *Template
	at time.Time
}

const templateCacheTTL = time.Minute

func (c *templateCache) get(name, language string) *Template {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[[2]string{name, language}]
	if !ok || time.Since(e.at) > templateCacheTTL {
		return nil
	}
	tp := *e.tp // a copy: callers may change theirs
	return &tp
}

func (c *templateCache) put(tp *Template) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[[2]string]cachedTemplate{}
	}
	cp := *tp
	c.m[[2]string{tp.Name, tp.Language}] = cachedTemplate{tp: &cp, at: time.Now()}
}

func (c *templateCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

func (s *Store) templateByName(ctx context.Context, name, language string) (*Template, error) {
	tp, err := scanTemplate(s.cachedRow(ctx, "SELECT "+templateCols+" FROM templates WHERE name = ? AND language = ?", name, language))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return tp, err
}
