package inbox

import (
	"context"
	"errors"

	"sendbox/language"
	"sendbox/store"
)

// ErrInvalidLanguage: not a language sendbox writes to customers in.
var ErrInvalidLanguage = errors.New("not a language sendbox writes in")

// SetLanguage records an agent's choice of the language to write to the
// customer in ("" gives the choice back to detection), the panel and the
// API alike, by the context's actor.
func SetLanguage(ctx context.Context, st *store.Store, convID int64, lang string) error {
	if lang != "" && !language.Valid(lang) {
		return ErrInvalidLanguage
	}
	return st.SetConversationLanguage(ctx, convID, lang)
}
