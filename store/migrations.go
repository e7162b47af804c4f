package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
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
	{2, "panel: users, sessions, teams, assignment, labels, timeline, contact details, canned replies, templates", execAll(schemaV2)},
	{3, "assistant: knowledge base, embeddings, AI replies, bot state and escalation", execAll(schemaV3)},
	{4, "drop the index on message direction", execAll(schemaV4)},
	{5, "consent: suppression list of erased opt-outs and its key, 24-hour marketing hold", migrateV5},
	{6, "sending: the send id Meta echoes in biz_opaque_callback_data", execAll(schemaV6)},
	{7, "languages: of each conversation (detected, or chosen by an agent), and of the profile's passages", execAll(schemaV7)},
	{8, "urgent notifications: each user's choices, e-mails sent, a default team", migrateV8},
	{9, "durable timers, and the wake-up timers of conversations snoozed now", migrateV9},
	{10, "router: who answers each conversation now, and why", execAll(schemaV10)},
	{11, "sending lanes: the lane of each outbound message, and messages sent from the WhatsApp Business app", execAll(schemaV11)},
	{12, "timeline: rows are kind, actor and data, rendered when read; older rows keep their text as legacy", execAll(schemaV12)},
	{13, "flows: drafts, published versions, runs and their steps", execAll(schemaV13)},
	{14, "secrets: named values flows send to other services, sealed under a key kept outside the database", execAll(schemaV14)},
	{15, "flows: runs wait for an event from the business's system; the events each run consumed", execAll(schemaV15)},
	{16, "consent ledger: every consent given or withdrawn, per purpose, with its source, wording and proof, hash-chained", migrateV16},
	{17, "contacts imports: the uploaded files, their progress and counts, the rows they turned down", execAll(schemaV17)},
	{18, "segments: rules over contacts, frozen members; events of the business's system kept per contact; attributes as rows", migrateV18},
	{19, "templates: Meta's id, quality, rejection and pause reasons, status times, default variable mapping", execAll(schemaV19)},
	{20, "campaigns: campaigns, their recipients from snapshot to a terminal state, marketing sends per contact for the frequency cap", execAll(schemaV20)},
	{21, "campaigns: opt-outs attributed to the campaign whose message they follow; tag audiences become segments", migrateV21},
	{22, "analytics: the rate card; the pricing of status webhooks and the send response's pacing status kept per message", migrateV22},
	{23, "contacts imports: rejected rows keep their own cells and number (the upload is deleted when the import ends), a header per import, when rejected rows were deleted", execAll(schemaV23)},
	{24, "segments: attributes that are dates indexed by their day, for the date conditions of rules", execAll(schemaV24)},
	{25, "segments: engagement with each campaign (read, replied, clicked, converted) indexed for the rules that read it", execAll(schemaV25)},
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

const schemaV2 = `
CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
	name          TEXT NOT NULL,
	password_hash TEXT NOT NULL DEFAULT '', -- argon2id, PHC string; '' until an invitation is accepted
	role          TEXT NOT NULL CHECK (role IN ('owner','admin','agent','viewer')),
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	last_login_at INTEGER,
	disabled_at   INTEGER
);

CREATE TABLE sessions (
	id         TEXT PRIMARY KEY,            -- sha256 of the cookie's token: a stolen database opens no session
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	csrf       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	seen_at    INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	ip         TEXT NOT NULL DEFAULT '',
	user_agent TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

-- One-time links: the owner's setup link and invitations to set a password.
CREATE TABLE tokens (
	hash       TEXT PRIMARY KEY,            -- sha256 of the token in the link
	purpose    TEXT NOT NULL,               -- setup, invite
	user_id    INTEGER REFERENCES users(id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE teams (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
	created_at INTEGER NOT NULL
);
CREATE TABLE team_members (
	team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	PRIMARY KEY (team_id, user_id)
) WITHOUT ROWID;

ALTER TABLE conversations ADD COLUMN assignee_id INTEGER REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN team_id INTEGER REFERENCES teams(id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN snoozed_until INTEGER;
CREATE INDEX conversations_status_recent ON conversations(status, last_message_at DESC, id DESC);
CREATE INDEX conversations_assignee ON conversations(assignee_id, last_message_at DESC);
CREATE INDEX conversations_snoozed ON conversations(snoozed_until) WHERE status = 'snoozed';

CREATE TABLE labels (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
	color      INTEGER NOT NULL DEFAULT 0,  -- index into the panel's palette
	created_at INTEGER NOT NULL
);
CREATE TABLE conversation_labels (
	conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
	label_id        INTEGER NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
	PRIMARY KEY (conversation_id, label_id)
) WITHOUT ROWID;
CREATE INDEX conversation_labels_label ON conversation_labels(label_id, conversation_id);

-- The timeline: private notes and what people did to a conversation.
CREATE TABLE conversation_events (
	id              INTEGER PRIMARY KEY,
	conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
	kind            TEXT NOT NULL,          -- note, assigned, team, status, snoozed, labels
	actor_id        INTEGER REFERENCES users(id) ON DELETE SET NULL,
	body            TEXT NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL
);
CREATE INDEX conversation_events_conversation ON conversation_events(conversation_id, id);

ALTER TABLE contacts ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN consent TEXT NOT NULL DEFAULT 'unknown' CHECK (consent IN ('unknown','opted_in','opted_out'));
ALTER TABLE contacts ADD COLUMN consent_at INTEGER;
ALTER TABLE contacts ADD COLUMN consent_source TEXT NOT NULL DEFAULT '';
CREATE TABLE contact_tags (
	contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
	tag        TEXT NOT NULL COLLATE NOCASE,
	PRIMARY KEY (contact_id, tag)
) WITHOUT ROWID;
CREATE INDEX contact_tags_tag ON contact_tags(tag, contact_id);

ALTER TABLE messages ADD COLUMN author_id INTEGER REFERENCES users(id) ON DELETE SET NULL;

CREATE TABLE canned_replies (
	id         INTEGER PRIMARY KEY,
	shortcut   TEXT NOT NULL UNIQUE COLLATE NOCASE,
	body       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

-- Message templates as Meta approved them, synced from the Graph API.
CREATE TABLE templates (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	language   TEXT NOT NULL,
	category   TEXT NOT NULL DEFAULT '',
	status     TEXT NOT NULL,
	components TEXT NOT NULL DEFAULT '[]',
	synced_at  INTEGER NOT NULL,
	UNIQUE (name, language)
);
`

const schemaV3 = `
-- The knowledge base: documents the owner adds, question/answer pairs, and
-- the business profile written out as text.
CREATE TABLE kb_documents (
	id         INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: the search index may still hold an old id
	kind       TEXT NOT NULL CHECK (kind IN ('document','faq','profile')),
	title      TEXT NOT NULL,
	question   TEXT NOT NULL DEFAULT '',    -- faq: the question; the answer is body
	body       TEXT NOT NULL,
	source     TEXT NOT NULL DEFAULT '',    -- the uploaded file's name, or '' for pasted text
	author_id  INTEGER REFERENCES users(id) ON DELETE SET NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX kb_documents_profile ON kb_documents(kind) WHERE kind = 'profile';

-- Passages retrieval returns; the embedding is little-endian float32s of
-- embed_model, NULL until the embedder has run.
CREATE TABLE kb_chunks (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	doc_id      INTEGER NOT NULL REFERENCES kb_documents(id) ON DELETE CASCADE,
	seq         INTEGER NOT NULL,
	heading     TEXT NOT NULL DEFAULT '',
	text        TEXT NOT NULL,
	embed_model TEXT,
	embedding   BLOB,
	UNIQUE (doc_id, seq)
);
CREATE INDEX kb_chunks_embed ON kb_chunks(embed_model);

-- Chunks removed from the store that the search index has yet to drop.
CREATE TABLE kb_removed (chunk_id INTEGER PRIMARY KEY);

-- What the assistant did for each customer message it handled.
CREATE TABLE ai_replies (
	id              INTEGER PRIMARY KEY,
	conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
	inbound_id      INTEGER UNIQUE REFERENCES messages(id) ON DELETE CASCADE, -- the customer's message
	message_id      INTEGER UNIQUE REFERENCES messages(id) ON DELETE SET NULL, -- what the assistant sent, if anything
	outcome         TEXT NOT NULL,           -- answered, quoted, handoff, escalated, timeout, opted_out, away, skipped
	mode            TEXT NOT NULL,           -- model, quote, rules
	model           TEXT NOT NULL DEFAULT '',
	prompt_version  TEXT NOT NULL DEFAULT '',
	passages        TEXT NOT NULL DEFAULT '[]',
	detail          TEXT NOT NULL DEFAULT '',
	latency_ms      INTEGER NOT NULL,
	model_ms        INTEGER NOT NULL DEFAULT 0,
	created_at      INTEGER NOT NULL
);
CREATE INDEX ai_replies_conversation ON ai_replies(conversation_id, id);

-- The assistant per conversation: on, off (an agent switched it off) or
-- paused (a person took over); urgent and escalation mark a handoff.
ALTER TABLE conversations ADD COLUMN bot TEXT NOT NULL DEFAULT 'on' CHECK (bot IN ('on','off','paused'));
ALTER TABLE conversations ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN escalation TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN escalated_at INTEGER;
CREATE INDEX conversations_urgent ON conversations(urgent, last_message_at DESC) WHERE urgent = 1;
`

// schemaV4 drops messages_direction: half the messages match either
// direction, so a scan in id order finds a page as fast as the index does,
// while every insert paid for it and the planner chose it over the
// conversation index for queries it made slow.
const schemaV4 = `
DROP INDEX IF EXISTS messages_direction;
`

// schemaV5 keeps an erased contact's marketing opt-out as a keyed hash of
// their number (see store/suppression.go), and the marketing hold Meta's
// 131049 asks for.
const schemaV5 = `
CREATE TABLE suppressions (
	hash       TEXT PRIMARY KEY,          -- hex HMAC-SHA256 of "wa:<digits>" or "user:<bsuid>"
	created_at INTEGER NOT NULL
) WITHOUT ROWID;
ALTER TABLE contacts ADD COLUMN marketing_hold_until INTEGER; -- no marketing template before this time
`

// migrateV5 also draws the per-install key of the suppression hashes. It
// lives in the database so a backup or a snapshot restores it with the
// hashes it made: without it the list would silently match no one.
func migrateV5(ctx context.Context, tx *sql.Tx) error {
	if err := execAll(schemaV5)(ctx, tx); err != nil {
		return err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("suppression key: %w", err)
	}
	_, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO settings (key, value, updated_at) VALUES (?, ?, ?)",
		suppressionKeySetting, hex.EncodeToString(key), time.Now().UnixMilli())
	return err
}

// A message is "sending" from just before its Graph call until the outcome
// is stored, and carries the id of that call, which Meta echoes in every
// status webhook: after a crash in between, the echo says Meta has it.
const schemaV6 = `
ALTER TABLE messages ADD COLUMN send_id TEXT;
CREATE UNIQUE INDEX messages_send_id ON messages(send_id) WHERE send_id IS NOT NULL;
`

// schemaV7 keeps a conversation's language in two columns, so that an
// agent's choice sticks over detection and clearing it gives back what
// detection has found meanwhile. language.Resolve reads them, with the
// number's country code behind them. Both are empty until known.
//
// A passage may be written in one language for customers of that language
// only: the business profile is written in each of the five, and an
// Italian customer is answered from the Italian one. Empty: any customer.
const schemaV7 = `
ALTER TABLE conversations ADD COLUMN language_detected TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN language_chosen TEXT NOT NULL DEFAULT '';
ALTER TABLE kb_chunks ADD COLUMN lang TEXT NOT NULL DEFAULT '';
`

// schemaV8 keeps how each user wants to hear about urgent conversations,
// and the e-mails sent about them, so that each escalation is mailed to
// each person once however often its event is delivered.
const schemaV8 = `
CREATE TABLE user_notifications (
	user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	browser    INTEGER NOT NULL DEFAULT 0,  -- a browser notification about urgent conversations (opt-in)
	sound      INTEGER NOT NULL DEFAULT 1,  -- with the alert's sound
	email      TEXT NOT NULL DEFAULT 'team' CHECK (email IN ('team','always','never')),
	updated_at INTEGER NOT NULL
);

-- event_id is the first escalation of an urgent spell (see EscalationSpell).
CREATE TABLE escalation_mails (
	event_id   INTEGER NOT NULL REFERENCES conversation_events(id) ON DELETE CASCADE,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	attempts   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	sent_at    INTEGER,
	PRIMARY KEY (event_id, user_id)
) WITHOUT ROWID;
`

// migrateV8 adds the tables, and gives an install that has people but no
// team the default team setup now creates: without a team, the assistant's
// escalations were assigned to nobody. It runs once, so an owner who later
// deletes every team on purpose does not see one come back.
func migrateV8(ctx context.Context, tx *sql.Tx) error {
	if err := execAll(schemaV8)(ctx, tx); err != nil {
		return err
	}
	_, err := ensureDefaultTeam(ctx, tx, time.Now())
	return err
}

// schemaV10 records the router's decision on the conversation: who answers
// it now (flow, assistant, person or system), the reason as a stable code
// and its detail (a policy category, a flow's name), and since when. Only a
// change is written, so a conversation answered the same way message after
// message costs no write.
const schemaV10 = `
ALTER TABLE conversations ADD COLUMN routed_to TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN routed_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN routed_detail TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN routed_at INTEGER;
`

// schemaV11 records each outbound message's sending lane (person,
// transactional or bulk; empty for inbound messages), and its origin: empty
// for sendbox, business_app for one the business sent from the WhatsApp
// Business app that Meta echoed. Messages queued before lanes were a
// person's when an agent wrote them, else transactional.
const schemaV11 = `
ALTER TABLE messages ADD COLUMN lane TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN origin TEXT NOT NULL DEFAULT '';
UPDATE messages SET lane = CASE WHEN author_id IS NOT NULL THEN 'person' ELSE 'transactional' END
	WHERE direction = 'outbound';
`

// schemaV12 makes timeline rows what happened rather than a sentence: the
// actor (kind; a user in actor_id, which keeps its foreign key; an API key
// or a flow in actor_ref, without one, so that a revoked key leaves its
// rows readable; the name at the time) and data, the JSON of what changed
// (events.Data* keys). body is left to a note's text and to the sentences
// of the rows before, which become kind 'legacy' with their old kind in
// data. Notes stay notes: their text is what a person or the assistant
// wrote, not a rendering. A note or an escalation without a person was the
// assistant's; the actor of any other row without one is not known.
const schemaV12 = `
ALTER TABLE conversation_events ADD COLUMN actor_kind TEXT NOT NULL DEFAULT ''
	CHECK (actor_kind IN ('', 'user', 'api_key', 'assistant', 'flow', 'system'));
ALTER TABLE conversation_events ADD COLUMN actor_ref INTEGER;
ALTER TABLE conversation_events ADD COLUMN actor_name TEXT NOT NULL DEFAULT '';
ALTER TABLE conversation_events ADD COLUMN data TEXT NOT NULL DEFAULT '{}';
UPDATE conversation_events SET actor_kind = CASE
	WHEN actor_id IS NOT NULL THEN 'user'
	WHEN kind IN ('note', 'escalated', 'handoff') THEN 'assistant'
	ELSE '' END,
	actor_name = COALESCE((SELECT name FROM users WHERE users.id = actor_id), '');
UPDATE conversation_events SET data = json_object('kind', kind), kind = 'legacy' WHERE kind != 'note';
`
