package inbox

import (
	"context"
	"fmt"

	"sendbox/media"
	"sendbox/store"
)

// EraseContact removes a customer and everything about them, files
// included: the right to erasure. The search index drops their documents
// when the events the store wrote reach it.
func EraseContact(ctx context.Context, st *store.Store, dataDir string, id int64) error {
	r, err := st.EraseContact(ctx, id)
	if err != nil {
		return err
	}
	if err := media.Remove(dataDir, r.MediaPaths); err != nil {
		return fmt.Errorf("contact %d erased, but some files were not: %w", id, err)
	}
	return nil
}

// DeleteMessage removes one message and, unless another message shares it,
// its file.
func DeleteMessage(ctx context.Context, st *store.Store, dataDir string, id int64) error {
	r, err := st.DeleteMessage(ctx, id)
	if err != nil {
		return err
	}
	return media.Remove(dataDir, r.MediaPaths)
}
