package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// User is a person who signs in to the panel.
type User struct {
	ID           int64     `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	PasswordHash string    `json:"-"`
	Role         string    `json:"role"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	LastLoginAt  time.Time `json:"last_login_at,omitzero"`
	DisabledAt   time.Time `json:"disabled_at,omitzero"`
}

// Active reports whether the user may sign in.
func (u *User) Active() bool { return u.DisabledAt.IsZero() && u.PasswordHash != "" }

// ErrConflict is returned when a unique name or address is already taken.
var ErrConflict = errors.New("already exists")

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

const userCols = "u.id, u.email, u.name, u.password_hash, u.role, u.created_at, u.updated_at, u.last_login_at, u.disabled_at"

func scanUser(sc scanner) (*User, error) {
	var u User
	var created, updated int64
	var login, disabled sql.NullInt64
	if err := sc.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Role, &created, &updated, &login, &disabled); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	u.LastLoginAt, u.DisabledAt = fromMS(login), fromMS(disabled)
	return &u, nil
}

func (s *Store) userWhere(ctx context.Context, q querier, where string, args ...any) (*User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, "SELECT "+userCols+" FROM users u WHERE "+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return u, err
}

// CreateUser adds a user; passwordHash may be "" for an invited user.
func (s *Store) CreateUser(ctx context.Context, email, name, role, passwordHash string) (*User, error) {
	n := now().UnixMilli()
	u, err := scanUser(s.w.QueryRowContext(ctx, `INSERT INTO users (email, name, password_hash, role, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING `+strings.ReplaceAll(userCols, "u.", ""), email, name, passwordHash, role, n, n))
	if isUnique(err) {
		return nil, fmt.Errorf("a user with the address %s: %w", email, ErrConflict)
	}
	return u, err
}

// UserByID returns one user.
func (s *Store) UserByID(ctx context.Context, id int64) (*User, error) {
	return s.userWhere(ctx, s.r, "u.id = ?", id)
}

// UserByEmail returns one user by address (case-insensitive).
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	return s.userWhere(ctx, s.r, "u.email = ?", strings.TrimSpace(email))
}

// CountUsers counts every user, disabled or not.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&n)
	return n, err
}

// ListUsers returns every user, by name.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+userCols+" FROM users u ORDER BY u.name COLLATE NOCASE, u.id")
	if err != nil {
		return nil, err
	}
	out, _, err := collect(rows, 1<<30, scanUser, func(*User) int64 { return 0 })
	return out, err
}

// UpdateUser changes a user's name and role, and enables or disables them.
// Disabling ends their sessions.
func (s *Store) UpdateUser(ctx context.Context, id int64, name, role string, disabled bool) error {
	return s.update(ctx, func(t *wtx) error {
		var disabledAt any
		if disabled {
			disabledAt = t.now.UnixMilli()
		}
		r, err := t.tx.ExecContext(ctx, `UPDATE users SET name = ?, role = ?, updated_at = ?,
			disabled_at = CASE WHEN ? IS NULL THEN NULL ELSE COALESCE(disabled_at, ?) END WHERE id = ?`,
			name, role, t.now.UnixMilli(), disabledAt, disabledAt, id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if disabled {
			_, err = t.tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", id)
		}
		return err
	})
}

// SetPassword stores a new password hash and ends the user's other sessions
// (all of them when keepSession is "").
func (s *Store) SetPassword(ctx context.Context, id int64, hash, keepSession string) error {
	return s.update(ctx, func(t *wtx) error {
		r, err := t.tx.ExecContext(ctx, "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", hash, t.now.UnixMilli(), id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = t.tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ? AND id != ?", id, keepSession)
		return err
	})
}

// CountActiveOwners counts owners who can sign in (the last one cannot be demoted).
func (s *Store) CountActiveOwners(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE role = 'owner' AND disabled_at IS NULL").Scan(&n)
	return n, err
}

// Session is a signed-in browser.
type Session struct {
	ID        string // the hash of the cookie's token
	UserID    int64
	CSRF      string
	CreatedAt time.Time
	SeenAt    time.Time
	ExpiresAt time.Time
	User      *User
}

// CreateSession stores a session and records the sign-in.
func (s *Store) CreateSession(ctx context.Context, id string, userID int64, csrf string, ttl time.Duration, ip, userAgent string) error {
	return s.update(ctx, func(t *wtx) error {
		n := t.now
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, csrf, created_at, seen_at, expires_at, ip, user_agent)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, userID, csrf, n.UnixMilli(), n.UnixMilli(), n.Add(ttl).UnixMilli(), ip, userAgent); err != nil {
			return err
		}
		_, err := t.tx.ExecContext(ctx, "UPDATE users SET last_login_at = ? WHERE id = ?", n.UnixMilli(), userID)
		return err
	})
}

// SessionByID returns a live session with its user, who must be active.
func (s *Store) SessionByID(ctx context.Context, id string) (*Session, error) {
	var ss Session
	var created, seen, expires int64
	row := s.r.QueryRowContext(ctx, `SELECT s.id, s.user_id, s.csrf, s.created_at, s.seen_at, s.expires_at, `+userCols+`
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id = ? AND s.expires_at > ? AND u.disabled_at IS NULL`, id, now().UnixMilli())
	var u User
	var uc, uu int64
	var login, disabled sql.NullInt64
	err := row.Scan(&ss.ID, &ss.UserID, &ss.CSRF, &created, &seen, &expires,
		&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Role, &uc, &uu, &login, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	ss.CreatedAt, ss.SeenAt, ss.ExpiresAt = time.UnixMilli(created).UTC(), time.UnixMilli(seen).UTC(), time.UnixMilli(expires).UTC()
	u.CreatedAt, u.UpdatedAt, u.LastLoginAt, u.DisabledAt = time.UnixMilli(uc).UTC(), time.UnixMilli(uu).UTC(), fromMS(login), fromMS(disabled)
	ss.User = &u
	return &ss, nil
}

// TouchSession slides a session's expiry forward.
func (s *Store) TouchSession(ctx context.Context, id string, ttl time.Duration) error {
	n := now()
	_, err := s.w.ExecContext(ctx, "UPDATE sessions SET seen_at = ?, expires_at = ? WHERE id = ?",
		n.UnixMilli(), n.Add(ttl).UnixMilli(), id)
	return err
}

// DeleteSession signs a browser out.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.w.ExecContext(ctx, "DELETE FROM sessions WHERE id = ?", id)
	return err
}

// PurgeExpired deletes expired sessions and one-time tokens.
func (s *Store) PurgeExpired(ctx context.Context) error {
	n := now().UnixMilli()
	if _, err := s.w.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at <= ?", n); err != nil {
		return err
	}
	_, err := s.w.ExecContext(ctx, "DELETE FROM tokens WHERE expires_at <= ?", n)
	return err
}

// CreateToken stores a one-time token's hash; a setup token replaces any
// earlier one, an invitation replaces the user's earlier invitations.
func (s *Store) CreateToken(ctx context.Context, hash, purpose string, userID int64, ttl time.Duration) error {
	return s.update(ctx, func(t *wtx) error {
		var uid any
		if userID != 0 {
			uid = userID
		}
		if _, err := t.tx.ExecContext(ctx, "DELETE FROM tokens WHERE purpose = ? AND (user_id IS ? OR ? = 'setup')",
			purpose, uid, purpose); err != nil {
			return err
		}
		_, err := t.tx.ExecContext(ctx, "INSERT INTO tokens (hash, purpose, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
			hash, purpose, uid, t.now.UnixMilli(), t.now.Add(ttl).UnixMilli())
		return err
	})
}

// TokenUser returns the user id of a live token (0 for a setup token), or ErrNotFound.
func (s *Store) TokenUser(ctx context.Context, hash, purpose string) (int64, error) {
	var uid sql.NullInt64
	err := s.r.QueryRowContext(ctx, "SELECT user_id FROM tokens WHERE hash = ? AND purpose = ? AND expires_at > ?",
		hash, purpose, now().UnixMilli()).Scan(&uid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return uid.Int64, err
}

// SetupOwner creates the first owner if, and only if, the setup token is
// live and no user exists yet, consuming the token: the link works once.
func (s *Store) SetupOwner(ctx context.Context, tokenHash, email, name, passwordHash string) (*User, error) {
	var u *User
	err := s.update(ctx, func(t *wtx) error {
		r, err := t.tx.ExecContext(ctx, "DELETE FROM tokens WHERE hash = ? AND purpose = 'setup' AND expires_at > ?",
			tokenHash, t.now.UnixMilli())
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		var users int
		if err := t.tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&users); err != nil {
			return err
		}
		if users > 0 {
			return ErrConflict
		}
		n := t.now.UnixMilli()
		u, err = scanUser(t.tx.QueryRowContext(ctx, `INSERT INTO users (email, name, password_hash, role, created_at, updated_at)
			VALUES (?, ?, ?, 'owner', ?, ?) RETURNING `+strings.ReplaceAll(userCols, "u.", ""), email, name, passwordHash, n, n))
		return err
	})
	return u, err
}

// AcceptInvite sets the password of the user of an invitation or reset
// link, consuming the token, and ends the user's sessions: a reset is how
// someone takes an account back from whoever else is signed in to it.
func (s *Store) AcceptInvite(ctx context.Context, tokenHash, passwordHash string) (*User, error) {
	var uid int64
	err := s.update(ctx, func(t *wtx) error {
		err := t.tx.QueryRowContext(ctx, `DELETE FROM tokens WHERE hash = ? AND purpose = 'invite' AND expires_at > ?
			RETURNING user_id`, tokenHash, t.now.UnixMilli()).Scan(&uid)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err = t.tx.ExecContext(ctx, "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", passwordHash, t.now.UnixMilli(), uid); err != nil {
			return err
		}
		_, err = t.tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", uid)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.userWhere(ctx, s.w, "u.id = ?", uid)
}

// Team is a group of users conversations can be assigned to.
type Team struct {
	ID      int64   `json:"id"`
	Name    string  `json:"name"`
	Members []int64 `json:"members"`
}

// CreateTeam adds a team.
func (s *Store) CreateTeam(ctx context.Context, name string) (*Team, error) {
	var id int64
	err := s.w.QueryRowContext(ctx, "INSERT INTO teams (name, created_at) VALUES (?, ?) RETURNING id", name, now().UnixMilli()).Scan(&id)
	if isUnique(err) {
		return nil, fmt.Errorf("a team named %s: %w", name, ErrConflict)
	}
	if err != nil {
		return nil, err
	}
	return &Team{ID: id, Name: name}, nil
}

// ListTeams returns every team with its members, by name.
func (s *Store) ListTeams(ctx context.Context) ([]Team, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT t.id, t.name, COALESCE(GROUP_CONCAT(m.user_id), '')
		FROM teams t LEFT JOIN team_members m ON m.team_id = t.id GROUP BY t.id ORDER BY t.name COLLATE NOCASE`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Team
	for rows.Next() {
		var t Team
		var members string
		if err := rows.Scan(&t.ID, &t.Name, &members); err != nil {
			return nil, err
		}
		t.Members = splitIDs(members)
		out = append(out, t)
	}
	return out, rows.Err()
}

// SetTeamMembers replaces a team's members.
func (s *Store) SetTeamMembers(ctx context.Context, teamID int64, userIDs []int64) error {
	return s.update(ctx, func(t *wtx) error {
		if _, err := t.tx.ExecContext(ctx, "DELETE FROM team_members WHERE team_id = ?", teamID); err != nil {
			return err
		}
		for _, u := range userIDs {
			if _, err := t.tx.ExecContext(ctx, "INSERT OR IGNORE INTO team_members (team_id, user_id) VALUES (?, ?)", teamID, u); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteTeam removes a team; its conversations become unassigned to a team.
func (s *Store) DeleteTeam(ctx context.Context, id int64) error {
	r, err := s.w.ExecContext(ctx, "DELETE FROM teams WHERE id = ?", id)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

func splitIDs(s string) []int64 {
	if s == "" {
		return nil
	}
	var out []int64
	for _, p := range strings.Split(s, ",") {
		var id int64
		if _, err := fmt.Sscan(p, &id); err == nil {
			out = append(out, id)
		}
	}
	return out
}
