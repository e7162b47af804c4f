package media

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"sendbox/store"
)

// ErrNotStored explains why a message's media cannot be served.
type ErrNotStored struct{ State, Reason string }

func (e *ErrNotStored) Error() string {
	if e.State == "failed" {
		return "the media could not be downloaded: " + e.Reason
	}
	return "the media is still being downloaded"
}

// Serve writes a message's stored media file. Files come from customers, so
// they are never rendered as a page of ours (a sandbox CSP) and their type
// is not sniffed.
func Serve(w http.ResponseWriter, r *http.Request, dataDir string, m *store.Message) error {
	if m.Media == nil || m.Media.Path == "" {
		if m.Media != nil {
			return &ErrNotStored{State: m.Media.State, Reason: m.Media.Error}
		}
		return &ErrNotStored{State: "none"}
	}
	clean := filepath.Clean(m.Media.Path)
	if filepath.IsAbs(clean) || strings.HasPrefix(clean, "..") {
		return fmt.Errorf("media path %q escapes the data folder", m.Media.Path)
	}
	f, err := os.Open(filepath.Join(dataDir, clean))
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if m.Media.MimeType != "" {
		w.Header().Set("Content-Type", m.Media.MimeType)
	}
	w.Header().Set("Content-Security-Policy", "sandbox")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	if m.Media.Filename != "" {
		w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", m.Media.Filename))
	}
	http.ServeContent(w, r, "", st.ModTime(), f)
	return nil
}
