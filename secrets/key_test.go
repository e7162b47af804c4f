package secrets_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sendbox/app"
	"sendbox/config"
	"sendbox/secrets"
)

// TestKeyFileMadeOnce: the first start makes a 32-byte key file readable
// by its owner only; later starts read the same key.
func TestKeyFileMadeOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key, source, err := secrets.LoadKey("", dir)
	if err != nil || len(key) != 32 || source != filepath.Join(dir, secrets.KeyFile) {
		t.Fatalf("first load: %d bytes from %q, %v", len(key), source, err)
	}
	fi, err := os.Stat(filepath.Join(dir, secrets.KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	again, _, err := secrets.LoadKey("", dir)
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("second load: another key, %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".secret.key.*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	// The file holds what SENDBOX_SECRET_KEY takes, so it can move there.
	b, _ := os.ReadFile(filepath.Join(dir, secrets.KeyFile))
	fromEnv, source, err := secrets.LoadKey(string(b), t.TempDir())
	if err != nil || !bytes.Equal(fromEnv, key) || source != "SENDBOX_SECRET_KEY" {
		t.Fatalf("the file's text as SENDBOX_SECRET_KEY: %v", err)
	}
}

// TestBadKeyFileRefusedAtStart: sendbox does not start on a key file that
// others may read or that holds no 32-byte key, and says what to do.
func TestBadKeyFileRefusedAtStart(t *testing.T) {
	t.Parallel()
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)) + "\n"
	for _, tc := range []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
	}{
		{"readable by others", good, 0o644, "has mode 0644, so other users may read it: make it readable by sendbox's user only (chmod 600 "},
		{"readable by the group", good, 0o640, "has mode 0640"},
		{"16 bytes", base64.StdEncoding.EncodeToString(make([]byte, 16)), 0o600, "want a key of 32 bytes"},
		{"empty", "", 0o600, "is damaged"},
		{"not a key", "hello, this is not a key", 0o600, "is damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, secrets.KeyFile)
			if err := os.WriteFile(path, []byte(tc.content), tc.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(path, tc.mode) // whatever the umask
			if _, _, err := secrets.LoadKey("", dir); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadKey: %v, want %q", err, tc.want)
			}
			cfg := config.Defaults()
			cfg.DataDir, cfg.HTTPAddr, cfg.OllamaURL = dir, "127.0.0.1:0", "http://127.0.0.1:9"
			a, err := app.New(context.Background(), cfg, nil)
			if err == nil {
				a.Close(context.Background())
				t.Fatal("sendbox started")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("start: %v, want %q", err, tc.want)
			}
			if b, _ := os.ReadFile(path); string(b) != tc.content {
				t.Fatal("the refused key file was changed")
			}
		})
	}
}
