package whatsapp

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestMaxMediaBytes(t *testing.T) {
	t.Parallel()
	const mb, kb = 1 << 20, 1 << 10
	tests := []struct {
		kind, mime string
		want       int64
	}{
		{"image", "image/jpeg", 5 * mb},
		{"video", "video/mp4", 16 * mb},
		{"audio", "audio/ogg; codecs=opus", 16 * mb},
		{"document", "application/pdf", 100 * mb},
		{"sticker", "image/webp", 500 * kb},
		{"IMAGE", "", 5 * mb},
		{"", "image/png", 5 * mb},
		{"", "image/webp", 500 * kb},
		{"", "video/3gpp", 16 * mb},
		{"", "audio/mpeg", 16 * mb},
		{"", "Audio/AAC", 16 * mb},
		{"", "application/vnd.ms-excel", 100 * mb},
		{"", "", MaxInboundMediaBytes},
		{"hologram", "x/y", MaxInboundMediaBytes},
	}
	for _, tt := range tests {
		if got := MaxMediaBytes(tt.kind, tt.mime); got != tt.want {
			t.Errorf("MaxMediaBytes(%q, %q) = %d, want %d", tt.kind, tt.mime, got, tt.want)
		}
	}
}

func TestSHA256Matches(t *testing.T) {
	t.Parallel()
	sum := sha256.Sum256([]byte("media bytes"))
	other := sha256.Sum256([]byte("other bytes"))
	hx := hex.EncodeToString(sum[:])
	tests := []struct {
		name     string
		expected string
		want     bool
	}{
		{"empty", "", true},
		{"hex", hx, true},
		{"hex upper", strings.ToUpper(hx), true},
		{"base64 std", base64.StdEncoding.EncodeToString(sum[:]), true},
		{"base64 raw std", base64.RawStdEncoding.EncodeToString(sum[:]), true},
		{"base64 url", base64.URLEncoding.EncodeToString(sum[:]), true},
		{"base64 raw url", base64.RawURLEncoding.EncodeToString(sum[:]), true},
		{"padded with spaces", " " + hx + "\n", true},
		{"other hex", hex.EncodeToString(other[:]), false},
		{"other base64", base64.StdEncoding.EncodeToString(other[:]), false},
		{"truncated", hx[:40], false},
		{"garbage", "not a digest!", false},
		{"fixture-style junk", "4654+8g=", false},
	}
	for _, tt := range tests {
		if got := SHA256Matches(tt.expected, sum[:]); got != tt.want {
			t.Errorf("%s: SHA256Matches(%q) = %v, want %v", tt.name, tt.expected, got, tt.want)
		}
	}
}
