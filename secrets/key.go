package secrets

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"sendbox/config"
)

// KeyFile is the key's file in the data folder when SENDBOX_SECRET_KEY is
// not set. It is apart from the database, so a copy of the database (a
// backup, a snapshot sent along with an issue) holds no readable secret.
const KeyFile = "secret.key"

// LoadKey returns the 32-byte key: configured (SENDBOX_SECRET_KEY, base64
// or hex) if it is not empty, else the one in dir's key file, which is
// made with crypto/rand and mode 0600 on the first start. A key file that
// others may read, or that holds no 32-byte key, is refused: sendbox must
// not start on a key that leaked or was cut short. source says where the
// key came from, for the log (never the key).
func LoadKey(configured, dir string) (key []byte, source string, err error) {
	if configured != "" {
		key, err := config.ParseKey(configured)
		if err != nil {
			return nil, "", fmt.Errorf("SENDBOX_SECRET_KEY: %w", err)
		}
		return key, "SENDBOX_SECRET_KEY", nil
	}
	path := filepath.Join(dir, KeyFile)
	key, err = readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := createKeyFile(path); err != nil {
			return nil, "", err
		}
		key, err = readKeyFile(path)
	}
	if err != nil {
		return nil, "", err
	}
	return key, path, nil
}

func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("secret key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("secret key %s is not a regular file", path)
	}
	// Windows has no such mode bits: its file's ACL is the folder's.
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("secret key %s has mode %04o, so other users may read it: make it readable by sendbox's user only (chmod 600 %s), "+
			"and if others did read it, set SENDBOX_SECRET_KEY to a new key or delete the file, then set the secrets again", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	key, err := config.ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("secret key %s is damaged (%v): restore it from where you keep it, "+
			"or delete it to have a new one made and set the secrets again", path, err)
	}
	return key, nil
}

// createKeyFile writes a new key beside path and links it into place: the
// key file appears whole or not at all, and a key file made meanwhile by
// another process is kept.
func createKeyFile(path string) error {
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret.key.*")
	if err != nil {
		return fmt.Errorf("make the secret key: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600 whatever the umask.
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("make the secret key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("make the secret key: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
