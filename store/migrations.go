package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// A migration moves the schema one version forward inside one transaction.
// Never edit a released migration: add the next one.
type migration struct {
	version int
	name    string
	up      func(ctx context.Context, tx *sql.Tx) error
}

// execAll runs a script of statements separated by ";\n".
func execAll(script string) func(ctx context.Context, tx *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		for _, stmt := range strings.Split(script, ";\n") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("%w in:\n%s", err, stmt)
			}
		}
		return nil
	}
}

var migrations = []migration{
	{1, "core: contacts, conversations, messages, statuses, events, api keys, outbox", execAll(schemaV1)},
}

// SchemaVersion is the newest schema this binary knows.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := s.w.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	latest := SchemaVersion()
	if current > latest {
		return fmt.Errorf("database %s has schema version %d but this sendbox knows only up to %d: run a newer sendbox or restore a backup", s.path, current, latest)
	}
	if current == latest {
		return nil
	}
	if current > 0 {
		snap := filepath.Join(filepath.Dir(s.path), "backups",
			fmt.Sprintf("before-v%d-%s.db", latest, time.Now().UTC().Format("20060102T150405Z")))
		if err := s.Snapshot(ctx, snap); err != nil {
			return fmt.Errorf("snapshot before migrating: %w", err)
		}
		s.log.Info("database snapshot before migration", slog.String("path", snap))
		pruneSnapshots(filepath.Dir(snap), 3)
	}
	for _, m := range migrations {
		if m.version <= current {
			continue
		}
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if err := m.up(ctx, tx); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
		s.log.Info("database migrated", slog.Int("version", m.version), slog.String("name", m.name))
	}
	return nil
}

// pruneSnapshots keeps the newest keep pre-migration snapshots.
func pruneSnapshots(dir string, keep int) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "before-v") && strings.HasSuffix(e.Name(), ".db") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for len(names) > keep {
		os.Remove(filepath.Join(dir, names[0]))
		names = names[1:]
	}
}

// Times are unix milliseconds (INTEGER). Raw webhook JSON is kept as TEXT so
// that nothing Meta sends is ever lost, even what sendbox does not model yet.
const schemaV1 = `
CREATE TABLE contacts (
	id              INTEGER PRIMARY KEY,
	wa_id           TEXT,              -- phone digits; NULL for username-only users
	user_id         TEXT,              -- business-scoped user id (BSUID)
	parent_user_id  TEXT,
	name            TEXT NOT NULL DEFAULT '',
	username        TEXT NOT NULL DEFAULT '',
	last_inbound_at INTEGER,           -- opens the 24-hour customer service window
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX contacts_wa_id ON contacts(wa_id) WHERE wa_id IS NOT NULL;
CREATE UNIQUE INDEX contacts_user_id ON contacts(user_id) WHERE user_id IS NOT NULL;

CREATE TABLE conversations (
	id              INTEGER PRIMARY KEY,
	contact_id      INTEGER NOT NULL REFERENCES contacts(id),
	phone_number_id TEXT NOT NULL,
	status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','pending','snoozed','resolved')),
	last_message_at INTEGER NOT NULL,
	last_inbound_at INTEGER,
	preview         TEXT NOT NULL DEFAULT '',
	unread          INTEGER NOT NULL DEFAULT 0,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
);
CREATE INDEX conversations_contact ON conversations(contact_id, phone_number_id, status);
CREATE INDEX conversations_recent ON conversations(last_message_at DESC, id DESC);

CREATE TABLE messages (
	id              INTEGER PRIMARY KEY,
	wamid           TEXT UNIQUE,       -- NULL until Meta accepts an outbound message
	direction       TEXT NOT NULL CHECK (direction IN ('inbound','outbound')),
	conversation_id INTEGER NOT NULL REFERENCES conversations(id),
	contact_id      INTEGER NOT NULL REFERENCES contacts(id),
	phone_number_id TEXT NOT NULL,
	type            TEXT NOT NULL,
	text            TEXT NOT NULL DEFAULT '',
	media_id        TEXT,
	media_mime      TEXT,
	media_sha256    TEXT,
	media_filename  TEXT,
	media_path      TEXT,              -- relative to the data folder once downloaded
	media_size      INTEGER,
	media_state     TEXT,              -- pending, stored, failed
	media_error     TEXT,
	latitude        REAL,
	longitude       REAL,
	reply_id        TEXT,              -- interactive button/row id, template button payload
	context_wamid   TEXT,              -- the message this one quotes
	related_wamid   TEXT,              -- reaction target, edited or revoked original
	edited_at       INTEGER,
	revoked_at      INTEGER,
	status          TEXT NOT NULL,     -- inbound: received; outbound: queued, accepted, sent, delivered, read, played, failed
	status_at       INTEGER,
	error_code      INTEGER,
	error_title     TEXT,
	error_detail    TEXT,
	sent_at         INTEGER NOT NULL,  -- the customer's timestamp (inbound) or the queueing time (outbound)
	created_at      INTEGER NOT NULL,
	idempotency_key TEXT UNIQUE,       -- API clients' Idempotency-Key
	payload         TEXT,              -- outbound: the send request in Meta's shape
	attempts        INTEGER NOT NULL DEFAULT 0,
	raw             TEXT               -- inbound: the exact messages[] item
);
CREATE INDEX messages_conversation ON messages(conversation_id, id);
CREATE INDEX messages_contact ON messages(contact_id, id);
CREATE INDEX messages_direction ON messages(direction, id);
CREATE INDEX messages_sent_at ON messages(sent_at);
CREATE INDEX messages_queued ON messages(status) WHERE status = 'queued';
CREATE INDEX messages_media_pending ON messages(media_state) WHERE media_state = 'pending';

CREATE TABLE statuses (
	wamid          TEXT NOT NULL,
	status         TEXT NOT NULL,
	ts             INTEGER NOT NULL,
	recipient_id   TEXT,
	error_code     INTEGER,
	error_title    TEXT,
	error_detail   TEXT,
	pricing_category TEXT,
	pricing_type   TEXT,
	raw            TEXT NOT NULL,
	received_at    INTEGER NOT NULL,
	PRIMARY KEY (wamid, status)
) WITHOUT ROWID;

CREATE TABLE webhook_events (
	id              INTEGER PRIMARY KEY,
	dedup           TEXT NOT NULL UNIQUE,  -- sha256 of field and value: Meta's retries land once
	field           TEXT NOT NULL,
	type            TEXT NOT NULL DEFAULT '',
	waba_id         TEXT NOT NULL DEFAULT '',
	phone_number_id TEXT NOT NULL DEFAULT '',
	event_time      INTEGER,
	value           TEXT NOT NULL,
	received_at     INTEGER NOT NULL
);
CREATE INDEX webhook_events_field ON webhook_events(field, id);

CREATE TABLE api_keys (
	id           INTEGER PRIMARY KEY,
	name         TEXT NOT NULL,
	prefix       TEXT NOT NULL,           -- shown in lists; the key itself is never stored
	hash         TEXT NOT NULL UNIQUE,    -- sha256 hex of the whole key
	role         TEXT NOT NULL DEFAULT 'admin',
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER,
	revoked_at   INTEGER
);

-- The transactional outbox: domain events and jobs written in the same
-- transaction as the rows they are about, then relayed to the broker.
CREATE TABLE outbox (
	id         INTEGER PRIMARY KEY,
	subject    TEXT NOT NULL,
	msg_id     TEXT NOT NULL,             -- the broker's dedup id
	payload    BLOB NOT NULL,
	created_at INTEGER NOT NULL
);

CREATE TABLE settings (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at INTEGER NOT NULL
);
`
