// Package secrets keeps named secrets, such as the API tokens a flow's
// HTTP step sends in a header, encrypted at rest with AES-256-GCM under a
// key kept out of the database (see LoadKey). A value goes in through Set
// and comes out only through Reveal, for the code that sends it: no list,
// answer, log line or export carries it.
package secrets

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"sendbox/store"
)

var (
	// ErrUnknown is a name no secret has.
	ErrUnknown = errors.New("no such secret")
	// ErrKeyChanged is a secret sealed under another key than this
	// sendbox's: the key file was lost or replaced, or SENDBOX_SECRET_KEY
	// changed. Only setting the secret again mends it.
	ErrKeyChanged = errors.New("the secret key changed: set the secrets again")
)

// MaxValue is the longest value kept, in bytes: room for long tokens (JWTs).
const MaxValue = 16 << 10

// InvalidError refuses a name or a value.
type InvalidError struct {
	Field   string // "name" or "value"
	Code    string // invalid_name, invalid_value
	Message string
}

func (e *InvalidError) Error() string { return e.Message }

// Info is what may be shown about a secret: never its value.
type Info struct {
	Name       string    `json:"name"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	// Readable is false for a secret sealed under another key (see
	// ErrKeyChanged): it must be set again.
	Readable bool `json:"readable"`
}

// Box seals, keeps and reveals the secrets. Its methods are safe for
// concurrent use.
type Box struct {
	store *store.Store
	aead  cipher.AEAD
	keyID string

	mu      sync.Mutex
	touched map[string]time.Time // last use recorded, by name
}

// New returns the box that seals with key (32 bytes).
func New(st *store.Store, key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secrets: want a 32-byte key, got %d bytes", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// The key's id tells which key sealed a row without revealing the key.
	m := hmac.New(sha256.New, key)
	m.Write([]byte("sendbox secrets key id"))
	return &Box{store: st, aead: aead, keyID: hex.EncodeToString(m.Sum(nil)[:8]), touched: map[string]time.Time{}}, nil
}

// ValidName reports whether s can name a secret: 1 to 64 of A-Z, a-z,
// 0-9, _ and -. Names are case-sensitive, like environment variables.
func ValidName(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func checkName(name string) error {
	if !ValidName(name) {
		return &InvalidError{Field: "name", Code: "invalid_name",
			Message: "a secret's name is 1 to 64 letters A-Z or a-z, digits, _ or -, such as CRM_TOKEN"}
	}
	return nil
}

// sealedV1 marks the format: version, 12-byte nonce, ciphertext and tag.
const sealedV1 = 1

// aad binds a sealed value to its name: a value copied onto another
// secret's row in the database does not open.
func aad(name string) []byte { return []byte("sendbox secret\x00" + name) }

// Set stores a secret, or replaces its value, and reports whether it is new.
func (b *Box) Set(ctx context.Context, name, value string) (Info, bool, error) {
	if err := checkName(name); err != nil {
		return Info{}, false, err
	}
	if value == "" || len(value) > MaxValue {
		return Info{}, false, &InvalidError{Field: "value", Code: "invalid_value",
			Message: fmt.Sprintf("a secret's value is 1 to %d bytes", MaxValue)}
	}
	nonce := make([]byte, b.aead.NonceSize())
	rand.Read(nonce) // never fails (crypto/rand)
	sealed := append([]byte{sealedV1}, nonce...)
	sealed = b.aead.Seal(sealed, nonce, []byte(value), aad(name))
	sec, created, err := b.store.PutSecret(ctx, name, sealed, b.keyID)
	if err != nil {
		return Info{}, false, err
	}
	return b.info(sec), created, nil
}

// Reveal returns a secret's value, for the code that sends it, and records
// the use (at most once a minute per secret). Call it outside a write
// transaction: the use is written on the store's one writer connection.
// Errors: ErrUnknown, ErrKeyChanged, or the store's.
func (b *Box) Reveal(ctx context.Context, name string) (string, error) {
	sec, err := b.store.SecretByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("secret %s: %w", name, ErrUnknown)
	}
	if err != nil {
		return "", fmt.Errorf("secret %s: %w", name, err)
	}
	if sec.KeyID != b.keyID {
		return "", fmt.Errorf("secret %s: %w", name, ErrKeyChanged)
	}
	ns := b.aead.NonceSize()
	if len(sec.Sealed) < 1+ns || sec.Sealed[0] != sealedV1 {
		return "", fmt.Errorf("secret %s is damaged in the database: set it again", name)
	}
	plain, err := b.aead.Open(nil, sec.Sealed[1:1+ns], sec.Sealed[1+ns:], aad(name))
	if err != nil {
		return "", fmt.Errorf("secret %s is damaged in the database: set it again", name)
	}
	b.touch(ctx, name)
	return string(plain), nil
}

// touch records a use, unless one was recorded in the last minute: a flow
// sending a token with every step would otherwise write at every step.
func (b *Box) touch(ctx context.Context, name string) {
	at := time.Now()
	b.mu.Lock()
	if last, ok := b.touched[name]; ok && at.Sub(last) < time.Minute {
		b.mu.Unlock()
		return
	}
	b.touched[name] = at
	b.mu.Unlock()
	// Best effort: the last use is shown to people, nothing depends on it.
	_ = b.store.TouchSecret(ctx, name, at)
}

// List returns every secret by name, without values.
func (b *Box) List(ctx context.Context) ([]Info, error) {
	rows, err := b.store.Secrets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(rows))
	for i := range rows {
		out = append(out, b.info(&rows[i]))
	}
	return out, nil
}

// Delete removes a secret. Errors: ErrUnknown, or the store's.
func (b *Box) Delete(ctx context.Context, name string) error {
	err := b.store.DeleteSecret(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("secret %s: %w", name, ErrUnknown)
	}
	b.mu.Lock()
	delete(b.touched, name)
	b.mu.Unlock()
	return err
}

// Unreadable returns the names of the secrets sealed under another key.
func (b *Box) Unreadable(ctx context.Context) ([]string, error) {
	all, err := b.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range all {
		if !s.Readable {
			out = append(out, s.Name)
		}
	}
	return out, nil
}

func (b *Box) info(s *store.Secret) Info {
	return Info{Name: s.Name, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, LastUsedAt: s.LastUsedAt, Readable: s.KeyID == b.keyID}
}
