package accounts

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"sendbox/store"
)

// Devices vouches for the browsers an address signed in from before
// (OWASP's "device cookies"): a guess of the address spread over many
// clients slows every unknown client, but its owner's usual browsers still
// get in. A voucher is a random device id and its MAC with a key kept in
// the store; it proves nothing but an earlier sign-in as that address.
type Devices struct {
	Store *store.Store
	mu    sync.Mutex // guards key
	key   []byte
}

const deviceKeySetting = "login_device_key"

// loadKey reads the MAC key, making it on first use.
func (d *Devices) loadKey(ctx context.Context) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.key != nil {
		return d.key, nil
	}
	v, err := d.Store.Setting(ctx, deviceKeySetting)
	if errors.Is(err, store.ErrNotFound) {
		b := make([]byte, 32)
		rand.Read(b)
		v = hex.EncodeToString(b)
		err = d.Store.SetSetting(ctx, deviceKeySetting, v)
	}
	if err != nil {
		return nil, fmt.Errorf("device key: %w", err)
	}
	if d.key, err = hex.DecodeString(v); err != nil || len(d.key) < 16 {
		d.key = nil
		return nil, fmt.Errorf("device key: the stored %s is damaged", deviceKeySetting)
	}
	return d.key, nil
}

func deviceMAC(key []byte, email, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("device\x00" + email + "\x00" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// Vouch returns a new voucher for a browser that just signed in as email.
func (d *Devices) Vouch(ctx context.Context, email string) (string, error) {
	key, err := d.loadKey(ctx)
	if err != nil {
		return "", err
	}
	b := make([]byte, 12)
	rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	return id + "." + deviceMAC(key, email, id), nil
}

// Known returns the device id of the first voucher that is valid for
// email, or "".
func (d *Devices) Known(ctx context.Context, email string, vouchers []string) string {
	if len(vouchers) == 0 {
		return ""
	}
	key, err := d.loadKey(ctx)
	if err != nil {
		return ""
	}
	for _, v := range vouchers {
		id, mac, ok := strings.Cut(v, ".")
		if ok && id != "" && hmac.Equal([]byte(mac), []byte(deviceMAC(key, email, id))) {
			return id
		}
	}
	return ""
}
