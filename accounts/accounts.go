// Package accounts is who may use sendbox: panel users with hashed
// passwords, one-time setup and invitation links, API keys, roles, and the
// login rate limit. It knows nothing of HTTP: the panel and the API use it.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"sendbox/store"
)

// Roles, from most to least powerful.
const (
	Owner  = "owner"  // everything, including other owners and admins
	Admin  = "admin"  // settings, users, API keys
	Agent  = "agent"  // the inbox and contacts
	Viewer = "viewer" // reads the inbox and contacts
)

// Roles lists the roles from most to least powerful.
var Roles = []string{Owner, Admin, Agent, Viewer}

var rank = map[string]int{Viewer: 1, Agent: 2, Admin: 3, Owner: 4}

// ValidRole reports whether r is a role.
func ValidRole(r string) bool { return rank[r] > 0 }

// Can reports whether a user with role has at least the power of need.
func Can(role, need string) bool { return rank[role] >= rank[need] && rank[role] > 0 }

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes),
// about 50 ms on one core, so a login costs little but a stolen hash much.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns the argon2id PHC string of a password. It waits for
// a hashing slot: only signed-in users and link holders reach it.
func HashPassword(pw string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	enterHash(context.Background(), 0)
	defer leaveHash()
	key := idKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// CheckPassword compares a password with a PHC string in constant time.
// It waits for a hashing slot as long as it takes.
func CheckPassword(hash, pw string) bool {
	ok, _ := checkPassword(context.Background(), hash, pw, 0)
	return ok
}

// checkPassword is CheckPassword waiting for a hashing slot as enterHash
// does: an error means the password was not checked.
func checkPassword(ctx context.Context, hash, pw string, patience time.Duration) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, nil
	}
	var version int
	var mem uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, nil
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &p); err != nil || mem == 0 || t == 0 || p == 0 || mem > 1<<21 {
		return false, nil
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false, nil
	}
	if err := enterHash(ctx, patience); err != nil {
		return false, err
	}
	defer leaveHash()
	got := idKey([]byte(pw), salt, t, mem, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash makes a login for an unknown address cost what a real one does,
// so response times do not tell which addresses exist. Its salt and key
// are random, with the parameters of a real hash: checking it costs the
// same, and no password matches it.
var dummyHash = sync.OnceValue(func() string {
	salt, key := make([]byte, 16), make([]byte, argonKeyLen)
	rand.Read(salt)
	rand.Read(key)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
})

// Errors of the account rules, written for the person at the form.
var (
	ErrBadCredentials = errors.New("the e-mail address or the password is wrong")
	ErrWeakPassword   = errors.New("the password must have at least 10 characters")
	ErrLongPassword   = errors.New("the password must have at most 200 characters")
	ErrBadEmail       = errors.New("that is not an e-mail address")
	ErrBadName        = errors.New("the name must have 1 to 100 characters")
	ErrBadRole        = errors.New("unknown role: use owner, admin, agent or viewer")
)

// CheckNewPassword enforces the password rules (length, as NIST advises,
// not composition).
func CheckNewPassword(pw string) error {
	switch n := utf8.RuneCountInString(pw); {
	case n < 10:
		return ErrWeakPassword
	case n > 200:
		return ErrLongPassword
	}
	return nil
}

// NormalizeEmail checks and lower-cases an address.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		return "", ErrBadEmail
	}
	return strings.ToLower(s), nil
}

// CheckName checks a display name.
func CheckName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n == 0 || n > 100 {
		return "", ErrBadName
	}
	return s, nil
}

// Login checks an address and password and returns the user. It returns
// ErrBusy, having checked nothing, when no hashing slot frees up soon.
func Login(ctx context.Context, st *store.Store, email, pw string) (*store.User, error) {
	u, err := st.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, store.ErrNotFound) {
		if _, err := checkPassword(ctx, dummyHash(), pw, loginPatience); err != nil {
			return nil, err
		}
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	hash := u.PasswordHash
	if !u.Active() {
		hash = dummyHash()
	}
	ok, err := checkPassword(ctx, hash, pw, loginPatience)
	if err != nil {
		return nil, err
	}
	if !ok || !u.Active() {
		return nil, ErrBadCredentials
	}
	return u, nil
}

// ErrDisabled is returned for a user who may not sign in.
var ErrDisabled = errors.New("the user is disabled: an owner or admin must enable them in Settings → Team first")

// PasswordReset makes a one-time link token with which the user of email
// sets a new password (and is signed in, their other sessions ended), valid
// for ttl; it voids the user's earlier links. It needs only the store, so
// an owner locked out of the panel gets back in from the server's shell.
func PasswordReset(ctx context.Context, st *store.Store, email string, ttl time.Duration) (string, *store.User, error) {
	u, err := st.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, fmt.Errorf("no user has the address %q: %w", email, err)
	}
	if err != nil {
		return "", nil, fmt.Errorf("find the user: %w", err)
	}
	if !u.DisabledAt.IsZero() {
		return "", nil, fmt.Errorf("%s: %w", u.Email, ErrDisabled)
	}
	token, hash := NewToken()
	if err := st.CreateToken(ctx, hash, "invite", u.ID, ttl); err != nil {
		return "", nil, fmt.Errorf("store the link: %w", err)
	}
	return token, u, nil
}

// NewToken returns a random URL-safe token and the hash to store for it.
func NewToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is how tokens (sessions, links, API keys) are stored: they are
// random and long, so one SHA-256 suffices where passwords need argon2id.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ErrOwnerKey is returned when someone who is not an owner revokes an
// owner-role API key.
var ErrOwnerKey = errors.New("only an owner can revoke an owner's API key")

// MayRevokeKey reports whether a user of role may revoke a key of keyRole:
// no one may revoke a key more powerful than they could have created.
func MayRevokeKey(role, keyRole string) bool { return Can(role, keyRole) }

// RevokeAPIKey revokes a live key for a user of role: store.ErrNotFound
// when there is no such live key, ErrOwnerKey when it is more powerful than
// the user.
func RevokeAPIKey(ctx context.Context, st *store.Store, role string, id int64) error {
	k, err := st.APIKeyByID(ctx, id)
	if err != nil {
		return err
	}
	if !MayRevokeKey(role, k.Role) {
		return ErrOwnerKey
	}
	return st.RevokeAPIKey(ctx, id)
}

// APIKeyPrefix starts every sendbox API key, so leaked keys are recognisable
// by secret scanners.
const APIKeyPrefix = "sbx_"

// CreateAPIKey makes a new key and stores its hash. The key is returned
// once and never stored.
func CreateAPIKey(ctx context.Context, st *store.Store, name, role string) (string, *store.APIKey, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return "", nil, errors.New("an API key needs a name of 1 to 100 characters")
	}
	if role == "" {
		role = Admin
	}
	if !ValidRole(role) {
		return "", nil, ErrBadRole
	}
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	key := APIKeyPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	k, err := st.CreateAPIKey(ctx, name, role, key[:len(APIKeyPrefix)+6], HashToken(key))
	if err != nil {
		return "", nil, err
	}
	return key, k, nil
}
