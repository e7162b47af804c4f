package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"sendbox/events"
)

// DefaultTeamName is the team setup creates, with the owner in it, so that
// the assistant's escalations are given to someone from the first day.
const DefaultTeamName = "Everyone"

// defaultTeamKey is the setting holding the default team's id: people
// invited later join it.
const defaultTeamKey = "default_team"

// ensureDefaultTeam creates the default team when people exist but no team
// does: every active owner, admin and agent joins it, and the assistant's
// escalations go to it unless they already go to a team. It returns the
// team's id, or 0 when it made none.
func ensureDefaultTeam(ctx context.Context, tx *sql.Tx, at time.Time) (int64, error) {
	var teams, users int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM teams), (SELECT COUNT(*) FROM users)`).Scan(&teams, &users); err != nil {
		return 0, err
	}
	if teams > 0 || users == 0 {
		return 0, nil
	}
	n := at.UnixMilli()
	var id int64
	if err := tx.QueryRowContext(ctx, "INSERT INTO teams (name, created_at) VALUES (?, ?) RETURNING id", DefaultTeamName, n).Scan(&id); err != nil {
		return 0, fmt.Errorf("create the default team: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO team_members (team_id, user_id)
		SELECT ?, id FROM users WHERE role IN ('owner','admin','agent') AND disabled_at IS NULL`, id); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		defaultTeamKey, strconv.FormatInt(id, 10), n); err != nil {
		return 0, err
	}
	// The assistant's settings are JSON under "assistant" (assistant.Settings,
	// read over its defaults): team_id is where escalations go. A partial
	// object is enough when the owner never saved the settings.
	if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('assistant', json_object('team_id', ?), ?)
		ON CONFLICT(key) DO UPDATE SET value = json_set(value, '$.team_id', ?), updated_at = excluded.updated_at
		WHERE COALESCE(json_extract(value, '$.team_id'), 0) = 0`, id, n, id); err != nil {
		return 0, fmt.Errorf("send escalations to the default team: %w", err)
	}
	return id, nil
}

// EnsureDefaultTeam gives a new install its default team (see
// DefaultTeamName) once the owner exists; it does nothing where a team
// exists. It returns the team's id, or 0.
func (s *Store) EnsureDefaultTeam(ctx context.Context) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = ensureDefaultTeam(ctx, tx, now())
		return err
	})
	return id, err
}

// JoinDefaultTeam adds a user to the default team, if it still exists.
func (s *Store) JoinDefaultTeam(ctx context.Context, userID int64) error {
	_, err := s.w.ExecContext(ctx, `INSERT OR IGNORE INTO team_members (team_id, user_id)
		SELECT t.id, ? FROM settings s JOIN teams t ON t.id = CAST(s.value AS INTEGER) WHERE s.key = ?`, userID, defaultTeamKey)
	return err
}

// How a user hears about urgent conversations by e-mail.
const (
	EmailTeam   = "team"   // when the escalation goes to a team they are in
	EmailAlways = "always" // every urgent escalation
	EmailNever  = "never"
)

// Notifications are a user's choices about urgent conversations.
type Notifications struct {
	Browser bool   `json:"browser"` // a browser notification (opt-in)
	Sound   bool   `json:"sound"`   // the alert's sound
	Email   string `json:"email"`   // EmailTeam, EmailAlways or EmailNever
}

// DefaultNotifications are a user's until they choose: no browser
// notification (the browser asks for permission, so the user opts in),
// the sound once they do, e-mail when the escalation goes to their team.
var DefaultNotifications = Notifications{Sound: true, Email: EmailTeam}

// UserNotifications returns a user's choices, or the defaults.
func (s *Store) UserNotifications(ctx context.Context, userID int64) (Notifications, error) {
	n := DefaultNotifications
	err := s.r.QueryRowContext(ctx, "SELECT browser, sound, email FROM user_notifications WHERE user_id = ?", userID).
		Scan(&n.Browser, &n.Sound, &n.Email)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultNotifications, nil
	}
	return n, err
}

// SetUserNotifications stores a user's choices.
func (s *Store) SetUserNotifications(ctx context.Context, userID int64, n Notifications) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO user_notifications (user_id, browser, sound, email, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(user_id) DO UPDATE SET browser = excluded.browser, sound = excluded.sound, email = excluded.email,
		updated_at = excluded.updated_at`, userID, n.Browser, n.Sound, n.Email, now().UnixMilli())
	return err
}

// SetUserProfile changes a user's own name and sign-in address.
func (s *Store) SetUserProfile(ctx context.Context, id int64, name, email string) error {
	r, err := s.w.ExecContext(ctx, "UPDATE users SET name = ?, email = ?, updated_at = ? WHERE id = ?", name, email, now().UnixMilli(), id)
	if isUnique(err) {
		return fmt.Errorf("a user with the address %s: %w", email, ErrConflict)
	}
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// UrgentMailRecipients are the people to e-mail about an urgent
// conversation of team teamID (0 for none): those who want every one, and
// the team's members who want their team's. Only people who can act on a
// conversation (agents and above) and can sign in.
func (s *Store) UrgentMailRecipients(ctx context.Context, teamID int64) ([]User, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+userCols+` FROM users u LEFT JOIN user_notifications n ON n.user_id = u.id
		WHERE u.role IN ('owner','admin','agent') AND u.disabled_at IS NULL AND u.password_hash != ''
		AND (COALESCE(n.email, 'team') = 'always' OR (COALESCE(n.email, 'team') = 'team'
			AND u.id IN (SELECT user_id FROM team_members WHERE team_id = ?)))
		ORDER BY u.id`, teamID)
	if err != nil {
		return nil, err
	}
	out, _, err := collect(rows, 1<<30, scanUser, func(*User) int64 { return 0 })
	return out, err
}

// EscalationSpell identifies a conversation's current urgent spell: the id
// of its first escalation since a person last took the urgent flag off or
// changed its status, or 0 if there is none. The assistant escalates again
// at each alarming message; people are told once per spell.
func (s *Store) EscalationSpell(ctx context.Context, convID int64) (int64, error) {
	var id sql.NullInt64
	// Rows from before the timeline was structured count by the kind they had.
	err := s.r.QueryRowContext(ctx, `SELECT MIN(id) FROM conversation_events WHERE conversation_id = ?1
		AND (kind = ?2 OR kind = ?5 AND data ->> '$.kind' = ?2)
		AND id > COALESCE((SELECT MAX(id) FROM conversation_events WHERE conversation_id = ?1
			AND (kind IN (?3, ?4) OR kind = ?5 AND data ->> '$.kind' IN (?3, ?4))), 0)`,
		convID, events.ChangeEscalated, events.ChangeUnurgent, events.ChangeStatus, events.ChangeLegacy).Scan(&id)
	return id.Int64, err
}

// EscalationMailSent reports whether the e-mail about spell to a user went.
func (s *Store) EscalationMailSent(ctx context.Context, spell, userID int64) (bool, error) {
	var sent bool
	err := s.r.QueryRowContext(ctx, "SELECT sent_at IS NOT NULL FROM escalation_mails WHERE event_id = ? AND user_id = ?",
		spell, userID).Scan(&sent)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return sent, err
}

// RecordEscalationMail records an attempt to e-mail a user about spell:
// sent, or why not.
func (s *Store) RecordEscalationMail(ctx context.Context, spell, userID int64, sendErr error) error {
	var sentAt any
	msg := ""
	if sendErr == nil {
		sentAt = now().UnixMilli()
	} else {
		msg = sendErr.Error()
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO escalation_mails (event_id, user_id, attempts, last_error, sent_at) VALUES (?, ?, 1, ?, ?)
		ON CONFLICT(event_id, user_id) DO UPDATE SET attempts = attempts + 1, last_error = excluded.last_error,
		sent_at = COALESCE(sent_at, excluded.sent_at)`, spell, userID, msg, sentAt)
	return err
}
