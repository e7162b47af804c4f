package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// schemaV14 keeps the named secrets that flows send to other services,
// sealed by package secrets (AES-256-GCM) under a key that is not in the
// database. key_id names that key without revealing it, so a secret sealed
// under a lost key is told apart from a damaged one.
const schemaV14 = `
CREATE TABLE secrets (
	name         TEXT PRIMARY KEY,
	sealed       BLOB NOT NULL,
	key_id       TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	last_used_at INTEGER
)`

// Secret is a named secret as stored: its value sealed.
type Secret struct {
	Name       string
	Sealed     []byte
	KeyID      string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	LastUsedAt time.Time // zero if never used
}

const secretCols = "name, sealed, key_id, created_at, updated_at, last_used_at"

func scanSecret(sc scanner) (*Secret, error) {
	var s Secret
	var created, updated int64
	var used sql.NullInt64
	if err := sc.Scan(&s.Name, &s.Sealed, &s.KeyID, &created, &updated, &used); err != nil {
		return nil, err
	}
	s.CreatedAt, s.UpdatedAt, s.LastUsedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC(), fromMS(used)
	return &s, nil
}

// PutSecret stores a secret, or replaces its value, and reports whether
// it is new.
func (s *Store) PutSecret(ctx context.Context, name string, sealed []byte, keyID string) (sec *Secret, created bool, err error) {
	at := now().UnixMilli()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		sec, err = scanSecret(tx.QueryRowContext(ctx, `UPDATE secrets SET sealed = ?, key_id = ?, updated_at = ?
			WHERE name = ? RETURNING `+secretCols, sealed, keyID, at, name))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		created = true
		sec, err = scanSecret(tx.QueryRowContext(ctx, `INSERT INTO secrets (name, sealed, key_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?) RETURNING `+secretCols, name, sealed, keyID, at, at))
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("put secret %s: %w", name, err)
	}
	return sec, created, nil
}

// SecretByName returns a secret, or ErrNotFound.
func (s *Store) SecretByName(ctx context.Context, name string) (*Secret, error) {
	sec, err := scanSecret(s.r.QueryRowContext(ctx, "SELECT "+secretCols+" FROM secrets WHERE name = ?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return sec, err
}

// Secrets returns every secret by name, without their sealed values.
func (s *Store) Secrets(ctx context.Context) ([]Secret, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT name, x'', key_id, created_at, updated_at, last_used_at FROM secrets ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Secret
	for rows.Next() {
		sec, err := scanSecret(rows)
		if err != nil {
			return nil, err
		}
		sec.Sealed = nil
		out = append(out, *sec)
	}
	return out, rows.Err()
}

// DeleteSecret removes a secret, or answers ErrNotFound.
func (s *Store) DeleteSecret(ctx context.Context, name string) error {
	r, err := s.w.ExecContext(ctx, "DELETE FROM secrets WHERE name = ?", name)
	if err != nil {
		return fmt.Errorf("delete secret %s: %w", name, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// TouchSecret records that a secret was used.
func (s *Store) TouchSecret(ctx context.Context, name string, at time.Time) error {
	_, err := s.w.ExecContext(ctx, "UPDATE secrets SET last_used_at = ? WHERE name = ?", at.UnixMilli(), name)
	return err
}
