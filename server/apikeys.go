package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"sendbox/store"
)

// APIKeyPrefix starts every sendbox API key, so leaked keys are recognisable
// by secret scanners.
const APIKeyPrefix = "sbx_"

// Roles a key or a user can have, from most to least powerful.
var Roles = []string{"owner", "admin", "agent", "viewer"}

func validRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// HashAPIKey is how keys are stored: keys are 160 random bits, so one
// SHA-256 is enough (unlike passwords, they cannot be guessed).
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// CreateAPIKey makes a new key and stores its hash. The key is returned
// once and never stored.
func CreateAPIKey(ctx context.Context, st *store.Store, name, role string) (string, *store.APIKey, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", nil, errors.New("an API key needs a name of 1 to 100 characters")
	}
	if role == "" {
		role = "admin"
	}
	if !validRole(role) {
		return "", nil, fmt.Errorf("unknown role %q: use one of %s", role, strings.Join(Roles, ", "))
	}
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	key := APIKeyPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	k, err := st.CreateAPIKey(ctx, name, role, key[:len(APIKeyPrefix)+6], HashAPIKey(key))
	if err != nil {
		return "", nil, err
	}
	return key, k, nil
}

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
	if !strings.HasPrefix(presented, APIKeyPrefix) || len(presented) > 100 {
		return nil, store.ErrNotFound
	}
	h := HashAPIKey(presented)
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
