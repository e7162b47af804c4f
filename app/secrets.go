package app

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// sandboxSecrets are generated on the first sandbox run and kept in the
// data folder, so that even the simulator's webhooks are signed and checked.
type sandboxSecrets struct {
	AppSecret   string `json:"app_secret"`
	VerifyToken string `json:"verify_token"`
	Token       string `json:"token"`
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func loadSandboxSecrets(path string) (*sandboxSecrets, error) {
	var s sandboxSecrets
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("%s is damaged (%v): delete it to generate new sandbox secrets", path, err)
		}
		if s.AppSecret != "" && s.VerifyToken != "" && s.Token != "" {
			return &s, nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read sandbox secrets: %w", err)
	}
	s = sandboxSecrets{AppSecret: randomHex(32), VerifyToken: randomHex(16), Token: "SANDBOX" + randomHex(24)}
	b, _ = json.MarshalIndent(&s, "", "  ")
	tmp := filepath.Join(filepath.Dir(path), ".sandbox.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return nil, fmt.Errorf("write sandbox secrets: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("write sandbox secrets: %w", err)
	}
	return &s, nil
}
