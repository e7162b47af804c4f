package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Template management: the templates table keeps, beside what the Graph
// list returns, Meta's id, the quality score, why a template was rejected,
// paused or disabled, and the default mapping of its variables to contact
// fields; template webhooks update it at once.

const schemaV19 = `
ALTER TABLE templates ADD COLUMN meta_id TEXT NOT NULL DEFAULT '';
ALTER TABLE templates ADD COLUMN parameter_format TEXT NOT NULL DEFAULT '';
ALTER TABLE templates ADD COLUMN quality TEXT NOT NULL DEFAULT '';
-- REJECTED: Meta's reason code (INVALID_FORMAT…); PAUSED: the pause's title
-- (FIRST_PAUSE…); DISABLED: DISABLED. reason_detail is Meta's sentence.
ALTER TABLE templates ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE templates ADD COLUMN reason_detail TEXT NOT NULL DEFAULT '';
-- When Meta decided the status, category and quality now stored (unix ms;
-- webhook time, or the local change): an older webhook arriving late
-- never overwrites a newer state.
ALTER TABLE templates ADD COLUMN status_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE templates ADD COLUMN category_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE templates ADD COLUMN quality_at INTEGER NOT NULL DEFAULT 0;
-- JSON {variable: {"from": "name"|"first_name"|"phone"|"attribute:<key>"|"text", "value": …, "fallback": …}}.
ALTER TABLE templates ADD COLUMN variable_map TEXT NOT NULL DEFAULT '{}';
ALTER TABLE templates ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX templates_meta_id ON templates(meta_id) WHERE meta_id <> '';
`

// Template statuses sendbox reads (Meta has more; they are stored as sent).
const (
	TemplateApproved = "APPROVED"
	TemplatePending  = "PENDING"
	TemplateRejected = "REJECTED"
	TemplatePaused   = "PAUSED"
	TemplateDisabled = "DISABLED"
)

// VariableSource says where a template variable's value comes from for a
// contact. From is "name" (the contact's name), "first_name" (its first
// word), "phone" (+ and the number), "attribute:<key>" (a contact
// attribute) or "text" (Value, the same for everyone). Fallback is used
// when the contact has no such value; without one the variable is missing.
type VariableSource struct {
	From     string `json:"from"`
	Value    string `json:"value,omitempty"`
	Fallback string `json:"fallback,omitempty"`
}

// VariableMap maps a template's variables ("1", "2"… or names) to sources.
type VariableMap map[string]VariableSource

// Check says what is wrong with the map, for the one who edits it.
func (m VariableMap) Check() error {
	for k, v := range m {
		switch {
		case v.From == "name", v.From == "first_name", v.From == "phone":
		case v.From == "text":
			if v.Value == "" {
				return fmt.Errorf("variable {{%s}}: a fixed text needs its value", k)
			}
		case strings.HasPrefix(v.From, "attribute:") && len(v.From) > len("attribute:"):
		default:
			return fmt.Errorf("variable {{%s}}: from is name, first_name, phone, text or attribute:<key>, not %q", k, v.From)
		}
	}
	return nil
}

// templateCols are the columns scanTemplate reads, in its order.
const templateCols = `id, name, language, category, status, components, synced_at, meta_id, parameter_format, quality,
	reason, reason_detail, status_at, variable_map`

func scanTemplate(sc interface{ Scan(...any) error }) (*Template, error) {
	var tp Template
	var comps, vmap string
	var synced, statusAt int64
	if err := sc.Scan(&tp.ID, &tp.Name, &tp.Language, &tp.Category, &tp.Status, &comps, &synced, &tp.MetaID,
		&tp.ParameterFormat, &tp.Quality, &tp.Reason, &tp.ReasonDetail, &statusAt, &vmap); err != nil {
		return nil, err
	}
	tp.Components, tp.SyncedAt = json.RawMessage(comps), time.UnixMilli(synced).UTC()
	if statusAt > 0 {
		tp.StatusAt = time.UnixMilli(statusAt).UTC()
	}
	if vmap != "" && vmap != "{}" {
		_ = json.Unmarshal([]byte(vmap), &tp.VariableMap)
	}
	return &tp, nil
}

// TemplateByID returns one stored template by sendbox's id.
func (s *Store) TemplateByID(ctx context.Context, id int64) (*Template, error) {
	tp, err := scanTemplate(s.r.QueryRowContext(ctx, "SELECT "+templateCols+" FROM templates WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return tp, err
}

// ReplaceTemplatesAsOf stores the templates Meta listed at asOf (when the
// list was asked for), dropping the others. A row changed since (created
// or edited here, or moved by a webhook while the list was on its way) is
// newer than the list and stays as it is.
func (s *Store) ReplaceTemplatesAsOf(ctx context.Context, list []Template, asOf time.Time) error {
	defer s.templates.clear()
	return s.update(ctx, func(t *wtx) error { return t.replaceTemplates(list, asOf) })
}

// replaceTemplates stores the templates Meta listed, dropping the others.
// Rows keep their id and what only sendbox knows (the variable mapping,
// the reason of a rejection the list does not repeat).
func (t *wtx) replaceTemplates(list []Template, asOf time.Time) error {
	at := asOf.UnixMilli()
	keep := map[[2]string]bool{}
	for _, tp := range list {
		keep[[2]string{tp.Name, tp.Language}] = true
		comps := string(tp.Components)
		if comps == "" {
			comps = "[]"
		}
		reason, detail := tp.Reason, tp.ReasonDetail
		if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO templates (name, language, category, status, components, synced_at,
				meta_id, parameter_format, quality, reason, reason_detail, status_at, category_at, quality_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (name, language) DO UPDATE SET category = excluded.category, components = excluded.components,
				synced_at = excluded.synced_at, parameter_format = excluded.parameter_format,
				meta_id = CASE WHEN excluded.meta_id <> '' THEN excluded.meta_id ELSE templates.meta_id END,
				quality = CASE WHEN excluded.quality <> '' THEN excluded.quality ELSE templates.quality END,
				reason = CASE WHEN excluded.status = templates.status AND excluded.reason = '' THEN templates.reason ELSE excluded.reason END,
				reason_detail = CASE WHEN excluded.status = templates.status AND excluded.reason = '' THEN templates.reason_detail ELSE excluded.reason_detail END,
				status = excluded.status, status_at = excluded.status_at, category_at = excluded.category_at,
				quality_at = excluded.quality_at, updated_at = excluded.updated_at
			WHERE templates.updated_at <= ?`,
			tp.Name, tp.Language, tp.Category, tp.Status, comps, t.now.UnixMilli(), tp.MetaID, tp.ParameterFormat, tp.Quality,
			reason, detail, at, at, at, at, at); err != nil {
			return err
		}
	}
	rows, err := t.tx.QueryContext(t.ctx, "SELECT id, name, language FROM templates WHERE updated_at <= ?", at)
	if err != nil {
		return err
	}
	var drop []int64
	for rows.Next() {
		var id int64
		var n, l string
		if err := rows.Scan(&id, &n, &l); err != nil {
			rows.Close()
			return err
		}
		if !keep[[2]string{n, l}] {
			drop = append(drop, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range drop {
		if _, err := t.tx.ExecContext(t.ctx, "DELETE FROM templates WHERE id = ?", id); err != nil {
			return err
		}
	}
	return nil
}

// SaveSubmittedTemplate records a template sendbox just created or edited
// at Meta: its components, category, Meta's id, and for a new row the
// status Meta answered (PENDING, usually). An existing row keeps its
// status: an edit set it with MarkTemplateSubmitted before asking Meta,
// and a create's review can be faster than Meta's answer, its webhook
// already stored. submitted is when the request left: a category a
// webhook set since (by the second, Meta's resolution) is kept.
func (s *Store) SaveSubmittedTemplate(ctx context.Context, tp Template, submitted time.Time) (*Template, error) {
	defer s.templates.clear()
	var id int64
	err := s.update(ctx, func(t *wtx) error {
		comps := string(tp.Components)
		if comps == "" {
			comps = "[]"
		}
		vmap, err := json.Marshal(tp.VariableMap)
		if err != nil {
			return err
		}
		if tp.VariableMap == nil {
			vmap = []byte("{}")
		}
		err = t.tx.QueryRowContext(t.ctx, `INSERT INTO templates (name, language, category, status, components, synced_at,
				meta_id, parameter_format, variable_map, status_at, category_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
			ON CONFLICT (name, language) DO UPDATE SET components = excluded.components,
				parameter_format = excluded.parameter_format, variable_map = excluded.variable_map,
				meta_id = CASE WHEN excluded.meta_id <> '' THEN excluded.meta_id ELSE templates.meta_id END,
				category = CASE WHEN templates.category_at / 1000 >= excluded.category_at / 1000 THEN templates.category ELSE excluded.category END,
				category_at = max(templates.category_at, excluded.category_at), updated_at = excluded.updated_at
			RETURNING id`,
			tp.Name, tp.Language, tp.Category, tp.Status, comps, t.now.UnixMilli(), tp.MetaID, tp.ParameterFormat, string(vmap),
			submitted.UnixMilli(), t.now.UnixMilli()).Scan(&id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.TemplateByID(ctx, id)
}

// TemplateState is a template's status as stored, to put back.
type TemplateState struct {
	ID                     int64
	Status, Reason, Detail string
	StatusAt               int64
}

// MarkTemplateSubmitted puts a template back in review (PENDING) before
// its edit is sent to Meta, so that the review's webhook, however fast,
// finds it there and moves it on. It returns the state to restore if Meta
// refuses the edit.
func (s *Store) MarkTemplateSubmitted(ctx context.Context, id int64) (TemplateState, error) {
	defer s.templates.clear()
	prev := TemplateState{ID: id}
	err := s.update(ctx, func(t *wtx) error {
		if err := t.tx.QueryRowContext(t.ctx, "SELECT status, reason, reason_detail, status_at FROM templates WHERE id = ?", id).
			Scan(&prev.Status, &prev.Reason, &prev.Detail, &prev.StatusAt); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		_, err := t.tx.ExecContext(t.ctx, `UPDATE templates SET status = ?, reason = '', reason_detail = '', status_at = ?, updated_at = ?
			WHERE id = ?`, TemplatePending, t.now.UnixMilli(), t.now.UnixMilli(), id)
		return err
	})
	return prev, err
}

// RestoreTemplateState puts back what MarkTemplateSubmitted changed, unless
// a webhook moved the template since.
func (s *Store) RestoreTemplateState(ctx context.Context, st TemplateState, marked time.Time) error {
	defer s.templates.clear()
	return s.update(ctx, func(t *wtx) error {
		_, err := t.tx.ExecContext(t.ctx, `UPDATE templates SET status = ?, reason = ?, reason_detail = ?, status_at = ?
			WHERE id = ? AND status = ? AND status_at >= ?`, st.Status, st.Reason, st.Detail, st.StatusAt, st.ID, TemplatePending, marked.UnixMilli())
		return err
	})
}

// SetTemplateVariables stores a template's default variable mapping.
func (s *Store) SetTemplateVariables(ctx context.Context, id int64, m VariableMap) error {
	if err := m.Check(); err != nil {
		return err
	}
	defer s.templates.clear()
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if m == nil {
		b = []byte("{}")
	}
	return s.update(ctx, func(t *wtx) error {
		r, err := t.tx.ExecContext(t.ctx, "UPDATE templates SET variable_map = ?, updated_at = ? WHERE id = ?", string(b), t.now.UnixMilli(), id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// DeleteTemplateRow removes a template Meta deleted.
func (s *Store) DeleteTemplateRow(ctx context.Context, id int64) error {
	defer s.templates.clear()
	return s.update(ctx, func(t *wtx) error {
		_, err := t.tx.ExecContext(t.ctx, "DELETE FROM templates WHERE id = ?", id)
		return err
	})
}

// Webhook fields of template changes.
const (
	FieldTemplateStatus   = "message_template_status_update"
	FieldTemplateCategory = "template_category_update"
	FieldTemplateQuality  = "message_template_quality_update"
)

// IsTemplateField reports whether a webhook field changes a template.
func IsTemplateField(f string) bool {
	return f == FieldTemplateStatus || f == FieldTemplateCategory || f == FieldTemplateQuality
}

// templateChange is the value of a template webhook, whichever field.
type templateChange struct {
	Event     string          `json:"event"`
	ID        json.RawMessage `json:"message_template_id"`
	Name      string          `json:"message_template_name"`
	Language  string          `json:"message_template_language"`
	Reason    string          `json:"reason"`
	Category  string          `json:"message_template_category"`
	NewCat    string          `json:"new_category"`
	NewScore  string          `json:"new_quality_score"`
	Rejection *struct {
		Reason         string `json:"reason"`
		Recommendation string `json:"recommendation"`
	} `json:"rejection_info"`
	OtherInfo *struct {
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"other_info"`
	DisableInfo *struct {
		DisableDate json.RawMessage `json:"disable_date"`
	} `json:"disable_info"`
}

// metaID reads message_template_id, a number or a string.
func (c *templateChange) metaID() string {
	s := strings.Trim(string(c.ID), `"`)
	if _, err := strconv.ParseUint(s, 10, 64); err != nil {
		return ""
	}
	return s
}

// templateEvent applies a template webhook to its row at once. Each part
// (status, category, quality) moves only forward in time: a webhook older
// than what is stored (Meta's late retry of an earlier decision) changes
// nothing. Times are compared by the second, Meta's resolution: a webhook
// of the same second as a local change applies. A template sendbox does
// not know yet is added, so that its status is not lost; its texts come
// with the next sync.
func (t *wtx) templateEvent(e *EventInput) (bool, error) {
	var c templateChange
	if err := json.Unmarshal(e.Value, &c); err != nil {
		return false, nil // kept raw in the events table, nothing to apply
	}
	meta := c.metaID()
	if meta == "" && (c.Name == "" || c.Language == "") {
		return false, nil
	}
	at := e.EventTime
	if at.IsZero() {
		at = t.now
	}
	atMS := at.UnixMilli()
	// Same second or later: (stored / 1000) <= (at / 1000).
	sec := at.Unix()
	var id int64
	err := t.tx.QueryRowContext(t.ctx, `SELECT id FROM templates WHERE (meta_id = ? AND meta_id <> '') OR (name = ? AND language = ?)
		ORDER BY meta_id = ? DESC LIMIT 1`, meta, c.Name, c.Language, meta).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		if c.Name == "" || c.Language == "" {
			return false, nil
		}
		err = t.tx.QueryRowContext(t.ctx, `INSERT INTO templates (name, language, category, status, components, synced_at, meta_id, updated_at)
			VALUES (?, ?, ?, ?, '[]', ?, ?, ?) RETURNING id`, c.Name, c.Language, c.Category, unknownStatus, t.now.UnixMilli(), meta,
			t.now.UnixMilli()).Scan(&id)
	}
	if err != nil {
		return false, err
	}
	if meta != "" {
		if _, err := t.tx.ExecContext(t.ctx, "UPDATE templates SET meta_id = ? WHERE id = ? AND meta_id = ''", meta, id); err != nil {
			return false, err
		}
	}
	var r sql.Result
	switch e.Field {
	case FieldTemplateStatus:
		status := strings.ToUpper(c.Event)
		reason, detail := "", ""
		switch status {
		case "":
			return false, nil
		case "REINSTATED", "UNPAUSED":
			status = TemplateApproved
		case "REJECTED":
			reason = c.Reason
			if c.Rejection != nil {
				detail = strings.TrimSpace(c.Rejection.Reason + " " + c.Rejection.Recommendation)
			}
		case TemplatePaused:
			if c.OtherInfo != nil {
				reason, detail = c.OtherInfo.Title, c.OtherInfo.Description
			}
		case TemplateDisabled:
			reason = TemplateDisabled
			if c.DisableInfo != nil {
				if n, err := strconv.ParseInt(strings.Trim(string(c.DisableInfo.DisableDate), `"`), 10, 64); err == nil && n > 0 {
					detail = "disabled on " + time.Unix(n, 0).UTC().Format("2006-01-02")
				}
			}
		}
		if reason == "NONE" {
			reason = ""
		}
		// Meta's status webhook also carries the category it decided.
		cat := strings.ToUpper(c.Category)
		r, err = t.tx.ExecContext(t.ctx, `UPDATE templates SET status = ?, reason = ?, reason_detail = ?, status_at = ?, updated_at = ?,
				category = CASE WHEN ? <> '' AND category_at / 1000 <= ? THEN ? ELSE category END
			WHERE id = ? AND status_at / 1000 <= ?`, status, reason, detail, atMS, t.now.UnixMilli(), cat, sec, cat, id, sec)
	case FieldTemplateCategory:
		cat := strings.ToUpper(c.NewCat)
		if cat == "" {
			return false, nil
		}
		r, err = t.tx.ExecContext(t.ctx, `UPDATE templates SET category = ?, category_at = ?, updated_at = ?
			WHERE id = ? AND category_at / 1000 <= ?`, cat, atMS, t.now.UnixMilli(), id, sec)
	case FieldTemplateQuality:
		q := strings.ToUpper(c.NewScore)
		if q == "" {
			return false, nil
		}
		r, err = t.tx.ExecContext(t.ctx, `UPDATE templates SET quality = ?, quality_at = ?, updated_at = ?
			WHERE id = ? AND quality_at / 1000 <= ?`, q, atMS, t.now.UnixMilli(), id, sec)
	default:
		return false, nil
	}
	if err != nil {
		return false, err
	}
	n, _ := r.RowsAffected()
	if n > 0 {
		t.s.templates.clear()
	}
	return n > 0, nil
}

// unknownStatus is the status of a template first heard of by a webhook
// that does not carry one (quality, category): not "", which older rows
// use for approved. The next sync or status webhook sets it.
const unknownStatus = "UNKNOWN"

// ContactFields is what a template's variables can be filled from.
type ContactFields struct {
	Name       string
	WaID       string
	Attributes map[string]string
}

// TemplateFields is what a template's variables can use of the contact.
func (c *Contact) TemplateFields() ContactFields {
	return ContactFields{Name: c.Name, WaID: c.WaID, Attributes: c.Attributes}
}

// FillVariables fills the template's variables for a contact with its
// default mapping: values by variable ("1", "2"… or names), and the
// variables that stay empty (no mapping, or no value and no fallback), in
// the template's order. Campaigns call it per recipient.
func (tp *Template) FillVariables(c ContactFields) (values map[string]string, missing []string) {
	values = map[string]string{}
	for _, v := range tp.Variables() {
		src, ok := tp.VariableMap[v]
		val := ""
		if ok {
			switch {
			case src.From == "name":
				val = c.Name
			case src.From == "first_name":
				val, _, _ = strings.Cut(strings.TrimSpace(c.Name), " ")
			case src.From == "phone":
				if c.WaID != "" {
					val = "+" + c.WaID
				}
			case src.From == "text":
				val = src.Value
			case strings.HasPrefix(src.From, "attribute:"):
				val = c.Attributes[strings.TrimPrefix(src.From, "attribute:")]
			}
			if strings.TrimSpace(val) == "" {
				val = src.Fallback
			}
		}
		val = strings.TrimSpace(val)
		if val == "" {
			missing = append(missing, v)
			continue
		}
		values[v] = val
	}
	return values, missing
}

// Variables lists the template's header and body variables in order of
// first use ("1", "2"… or names).
func (tp *Template) Variables() []string {
	var comps []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	_ = json.Unmarshal(tp.Components, &comps)
	sort.SliceStable(comps, func(i, j int) bool { return compRank(comps[i].Type) < compRank(comps[j].Type) })
	var out []string
	seen := map[string]bool{}
	for _, c := range comps {
		if t := strings.ToUpper(c.Type); t != "HEADER" && t != "BODY" {
			continue
		}
		for _, m := range templateVarRE.FindAllStringSubmatch(c.Text, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, m[1])
			}
		}
	}
	return out
}

var templateVarRE = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

func compRank(t string) int {
	if strings.EqualFold(t, "HEADER") {
		return 0
	}
	return 1
}
