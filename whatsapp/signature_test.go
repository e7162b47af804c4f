package whatsapp

import (
	"errors"
	"strings"
	"testing"
)

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	secret := []byte("app-secret")
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}],"emoji":"😮 \/"}`)
	good := Sign(secret, body)
	if !strings.HasPrefix(good, "sha256=") || len(good) != len("sha256=")+64 || strings.ToLower(good) != good {
		t.Fatalf("Sign = %q, want sha256= and 64 lowercase hex digits", good)
	}
	tests := []struct {
		name   string
		body   []byte
		header string
		want   error
	}{
		{"right", body, good, nil},
		{"right, uppercase hex", body, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), nil},
		{"other secret", body, Sign([]byte("other"), body), ErrBadSignature},
		{"body changed", append([]byte(" "), body...), good, ErrBadSignature},
		{"missing", body, "", ErrNoSignature},
		{"not hex", body, "sha256=" + strings.Repeat("zz", 32), ErrBadSignature},
		{"short", body, good[:len(good)-2], ErrBadSignature},
		{"wrong prefix", body, "sha1=" + strings.TrimPrefix(good, "sha256="), ErrBadSignature},
		{"no prefix", body, strings.TrimPrefix(good, "sha256="), ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := VerifySignature(secret, tt.body, tt.header); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("VerifySignature = %v, want %v", err, tt.want)
			}
		})
	}
}
