package whatsapp

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"mime"
	"strings"
)

// Meta writes its media limits in MB and KB; they are read here as binary
// units (MiB, KiB), the generous reading, so that a file Meta accepts is
// never refused locally. Meta stays the final judge (error 131053).
const (
	kib = 1 << 10
	mib = 1 << 20

	// MaxInboundMediaBytes is the largest media a customer can send through
	// the Cloud API (larger ones arrive as error 131052). Use it to cap
	// downloads of inbound media, whatever their kind.
	MaxInboundMediaBytes = 100 * mib
)

// MaxMediaBytes is Meta's size limit for media of a kind (docs §6): image
// 5 MB, video and audio 16 MB, document 100 MB, sticker 500 KB. Stickers are
// 100 KB static and 500 KB animated, which neither the kind nor the MIME type
// (image/webp for both) tells apart, so the larger limit is returned. When
// kind is empty it is inferred from mimeType (image/webp is a sticker); an
// unknown kind gives MaxInboundMediaBytes.
func MaxMediaBytes(kind, mimeType string) int64 {
	if kind == "" {
		kind = kindOfMIME(mimeType)
	}
	switch strings.ToLower(kind) {
	case "image":
		return 5 * mib
	case "video", "audio":
		return 16 * mib
	case "sticker":
		return 500 * kib
	case "document":
		return 100 * mib
	}
	return MaxInboundMediaBytes
}

// kindOfMIME maps a MIME type to the WhatsApp media kind that carries it.
func kindOfMIME(mimeType string) string {
	mt, _, err := mime.ParseMediaType(mimeType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(mimeType))
	}
	switch {
	case mt == "":
		return ""
	case mt == "image/webp":
		return "sticker"
	case strings.HasPrefix(mt, "image/"):
		return "image"
	case strings.HasPrefix(mt, "video/"):
		return "video"
	case strings.HasPrefix(mt, "audio/"):
		return "audio"
	}
	return "document"
}

// SHA256Matches reports whether sum (a raw SHA-256 digest) is the digest
// expected says. Webhooks send it base64 and the media endpoint hex, so
// expected may be hex (either case) or standard or URL-safe base64, with or
// without padding. An empty expected matches anything: Meta does not always
// send one, and its absence must not block a download.
func SHA256Matches(expected string, sum []byte) bool {
	expected = strings.TrimSpace(expected)
	if expected == "" {
		return true
	}
	if len(expected) == hex.EncodedLen(len(sum)) {
		if d, err := hex.DecodeString(expected); err == nil {
			return bytes.Equal(d, sum)
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if d, err := enc.DecodeString(expected); err == nil {
			return bytes.Equal(d, sum)
		}
	}
	return false
}
