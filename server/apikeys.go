package server

import (
	"context"
	"strings"
	"sync"
	"time"

	"sendbox/accounts"
	"sendbox/store"
)

// keyCache remembers valid keys briefly, so authenticating a request costs
// no database read on the hot path. Revocation through this process clears
// it at once; from another process it takes effect within keyTTL.
type keyCache struct {
	st      *store.Store
	mu      sync.Mutex // guards byHash and touched
	byHash  map[string]cachedKey
	touched map[int64]time.Time
}

type cachedKey struct {
	key     *store.APIKey
	expires time.Time
}

const keyTTL = 10 * time.Second

func newKeyCache(st *store.Store) *keyCache {
	return &keyCache{st: st, byHash: map[string]cachedKey{}, touched: map[int64]time.Time{}}
}

// lookup returns the live key for a presented secret, or store.ErrNotFound.
func (c *keyCache) lookup(ctx context.Context, presented string) (*store.APIKey, error) {
	if !strings.HasPrefix(presented, accounts.APIKeyPrefix) || len(presented) > 100 {
		return nil, store.ErrNotFound
	}
	h := accounts.HashToken(presented)
	now := time.Now()
	c.mu.Lock()
	ck, ok := c.byHash[h]
	c.mu.Unlock()
	if ok && now.Before(ck.expires) {
		c.touch(ck.key.ID, now)
		return ck.key, nil
	}
	k, err := c.st.APIKeyByHash(ctx, h)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.byHash) > 10000 {
		clear(c.byHash)
	}
	c.byHash[h] = cachedKey{key: k, expires: now.Add(keyTTL)}
	c.mu.Unlock()
	c.touch(k.ID, now)
	return k, nil
}

// touch records use at most once a minute per key, off the request path.
func (c *keyCache) touch(id int64, now time.Time) {
	c.mu.Lock()
	last := c.touched[id]
	due := now.Sub(last) > time.Minute
	if due {
		c.touched[id] = now
	}
	c.mu.Unlock()
	if due {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c.st.TouchAPIKey(ctx, id, now)
		}()
	}
}

// forget drops every cached key (after a revocation).
func (c *keyCache) forget() {
	c.mu.Lock()
	clear(c.byHash)
	c.mu.Unlock()
}
