package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// IndexMessage is a message as the search index needs it: its text and the
// facts filters ask about, its conversation's included.
type IndexMessage struct {
	ID, ConversationID, ContactID, AgentID int64
	Direction, Type, Status                string
	Labels                                 []int64
	Text                                   string
	At                                     time.Time
}

// IndexContact is a contact as the search index needs it.
type IndexContact struct {
	ID                                  int64
	Name, Phone, Username, Email, Notes string
	Tags                                []string
	Attributes                          map[string]string
}

// unsearchable message types carry no text of their own: reactions decorate
// another message, edits and deletions change one, request_welcome is a notice.
const unsearchable = "('reaction','edit','revoke','request_welcome')"

const indexMessageSQL = `SELECT m.id, m.conversation_id, m.contact_id, COALESCE(v.assignee_id, 0), m.direction, m.type, v.status,
	COALESCE((SELECT GROUP_CONCAT(label_id) FROM conversation_labels WHERE conversation_id = m.conversation_id), ''),
	m.text, m.sent_at
	FROM messages m JOIN conversations v ON v.id = m.conversation_id
	WHERE m.type NOT IN ` + unsearchable

func scanIndexMessages(rows *sql.Rows) ([]IndexMessage, error) {
	defer rows.Close()
	var out []IndexMessage
	for rows.Next() {
		var m IndexMessage
		var labels string
		var at int64
		if err := rows.Scan(&m.ID, &m.ConversationID, &m.ContactID, &m.AgentID, &m.Direction, &m.Type, &m.Status,
			&labels, &m.Text, &at); err != nil {
			return nil, err
		}
		m.Labels, m.At = splitIDs(labels), time.UnixMilli(at).UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// IndexMessages returns searchable messages after an id, in id order.
func (s *Store) IndexMessages(ctx context.Context, afterID int64, limit int) ([]IndexMessage, error) {
	rows, err := s.r.QueryContext(ctx, indexMessageSQL+" AND m.id > ? ORDER BY m.id LIMIT ?", afterID, limit)
	if err != nil {
		return nil, err
	}
	return scanIndexMessages(rows)
}

// IndexMessagesByID returns the searchable messages among ids; the others
// (deleted, unsearchable) are simply absent.
func (s *Store) IndexMessagesByID(ctx context.Context, ids []int64) ([]IndexMessage, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, indexMessageSQL+" AND m.id IN ("+idList(ids)+")")
	if err != nil {
		return nil, err
	}
	return scanIndexMessages(rows)
}

// IndexConversationMessages returns a conversation's searchable messages
// after an id (its status or labels changed: they are re-indexed).
func (s *Store) IndexConversationMessages(ctx context.Context, convID, afterID int64, limit int) ([]IndexMessage, error) {
	rows, err := s.r.QueryContext(ctx, indexMessageSQL+" AND m.conversation_id = ? AND m.id > ? ORDER BY m.id LIMIT ?",
		convID, afterID, limit)
	if err != nil {
		return nil, err
	}
	return scanIndexMessages(rows)
}

const indexContactSQL = `SELECT c.id, c.name, COALESCE(c.wa_id, ''), c.username, c.email, c.notes, c.attributes,
	COALESCE((SELECT GROUP_CONCAT(tag, char(31)) FROM contact_tags WHERE contact_id = c.id), '')
	FROM contacts c`

func scanIndexContacts(rows *sql.Rows) ([]IndexContact, error) {
	defer rows.Close()
	var out []IndexContact
	for rows.Next() {
		var c IndexContact
		var attrs, tags string
		if err := rows.Scan(&c.ID, &c.Name, &c.Phone, &c.Username, &c.Email, &c.Notes, &attrs, &tags); err != nil {
			return nil, err
		}
		if attrs != "" && attrs != "{}" {
			json.Unmarshal([]byte(attrs), &c.Attributes)
		}
		if tags != "" {
			c.Tags = strings.Split(tags, "\x1f")
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// IndexContacts returns contacts after an id, in id order.
func (s *Store) IndexContacts(ctx context.Context, afterID int64, limit int) ([]IndexContact, error) {
	rows, err := s.r.QueryContext(ctx, indexContactSQL+" WHERE c.id > ? ORDER BY c.id LIMIT ?", afterID, limit)
	if err != nil {
		return nil, err
	}
	return scanIndexContacts(rows)
}

// IndexContactsByID returns the contacts among ids that still exist.
func (s *Store) IndexContactsByID(ctx context.Context, ids []int64) ([]IndexContact, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, indexContactSQL+" WHERE c.id IN ("+idList(ids)+")")
	if err != nil {
		return nil, err
	}
	return scanIndexContacts(rows)
}

// CountForIndex counts what a full rebuild of the search index reads.
func (s *Store) CountForIndex(ctx context.Context) (messages, contacts int, err error) {
	err = s.r.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM messages WHERE type NOT IN "+unsearchable+
		"), (SELECT COUNT(*) FROM contacts)").Scan(&messages, &contacts)
	return
}

// idList is a comma-separated list of ids for IN (…): numbers only, so it is safe to inline.
func idList(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}
