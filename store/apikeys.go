package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

const apiKeyCols = "id, name, prefix, role, created_at, last_used_at, revoked_at"

func scanAPIKey(sc scanner) (*APIKey, error) {
	var k APIKey
	var created int64
	var used, revoked sql.NullInt64
	if err := sc.Scan(&k.ID, &k.Name, &k.Prefix, &k.Role, &created, &used, &revoked); err != nil {
		return nil, err
	}
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = time.UnixMilli(created).UTC(), fromMS(used), fromMS(revoked)
	return &k, nil
}

// CreateAPIKey stores a new key by its hash; the key itself is never stored.
func (s *Store) CreateAPIKey(ctx context.Context, name, role, prefix, hash string) (*APIKey, error) {
	k, err := scanAPIKey(s.w.QueryRowContext(ctx, `INSERT INTO api_keys (name, prefix, hash, role, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING `+apiKeyCols, name, prefix, hash, role, now().UnixMilli()))
	if err != nil {
		return nil, fmt.Errorf("create api key: %w", err)
	}
	return k, nil
}

// APIKeyByHash returns the live (not revoked) key with this hash.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*APIKey, error) {
	k, err := scanAPIKey(s.r.QueryRowContext(ctx, "SELECT "+apiKeyCols+" FROM api_keys WHERE hash = ? AND revoked_at IS NULL", hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return k, err
}

// APIKeyByID returns a key, live or revoked.
func (s *Store) APIKeyByID(ctx context.Context, id int64) (*APIKey, error) {
	k, err := scanAPIKey(s.r.QueryRowContext(ctx, "SELECT "+apiKeyCols+" FROM api_keys WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return k, err
}

// TouchAPIKey records that a key was used.
func (s *Store) TouchAPIKey(ctx context.Context, id int64, at time.Time) error {
	_, err := s.w.ExecContext(ctx, "UPDATE api_keys SET last_used_at = ? WHERE id = ?", at.UnixMilli(), id)
	return err
}

// ListAPIKeys returns every key, newest first.
func (s *Store) ListAPIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+apiKeyCols+" FROM api_keys ORDER BY id DESC")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *k)
	}
	return out, rows.Err()
}

// RevokeAPIKey stops a key from working; it stays listed.
func (s *Store) RevokeAPIKey(ctx context.Context, id int64) error {
	r, err := s.w.ExecContext(ctx, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", now().UnixMilli(), id)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
