package media

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"sendbox/store"
)

// Keep stores a file the business sends (from the panel) the way inbound
// media is stored: content-addressed under the data folder.
func Keep(dataDir string, r io.Reader, filename, mimeType string) (*store.Media, error) {
	dir := filepath.Join(dataDir, "media", "tmp")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, "up-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, maxUpload+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("keep upload: %w", err)
	}
	if n > maxUpload {
		return nil, fmt.Errorf("the file is over %d bytes", maxUpload)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	rel := filepath.Join("media", sum[:2], sum+extension(mimeType, filename))
	dst := filepath.Join(dataDir, rel)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return nil, err
	}
	return &store.Media{MimeType: mimeType, Filename: filepath.Base(filename), Path: rel, Size: n, State: "stored"}, nil
}

// maxUpload is the largest file a business may send (a document, 100 MB).
const maxUpload = 100 << 20

// Open opens a stored media file.
func Open(dataDir string, m *store.Media) (*os.File, error) {
	return os.Open(filepath.Join(dataDir, filepath.Clean(m.Path)))
}

// Kind is the WhatsApp message type a file of this MIME type is sent as.
func Kind(mimeType string) string {
	base, _, _ := strings.Cut(strings.ToLower(mimeType), ";")
	switch strings.TrimSpace(base) {
	case "image/jpeg", "image/png":
		return "image"
	case "image/webp":
		return "sticker"
	case "video/mp4", "video/3gpp":
		return "video"
	case "audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg":
		return "audio"
	}
	return "document"
}
