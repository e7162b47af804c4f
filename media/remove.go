package media

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Remove deletes stored media files (paths relative to the data folder), as
// after an erasure; a file already gone is not an error.
func Remove(dataDir string, paths []string) error {
	var errs []error
	for _, p := range paths {
		clean := filepath.Clean(p)
		if filepath.IsAbs(clean) || strings.HasPrefix(clean, "..") || !strings.HasPrefix(clean, "media"+string(filepath.Separator)) {
			errs = append(errs, errors.New("refusing to remove "+p+": not a media file"))
			continue
		}
		if err := os.Remove(filepath.Join(dataDir, clean)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
