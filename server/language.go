package server

import (
	"errors"
	"fmt"
	"net/http"

	"sendbox/inbox"
)

// handleSetLanguage records an agent's choice of the language a
// conversation speaks ({"language": "it"}), or gives it back to detection
// ({"language": ""}).
func (a *Server) handleSetLanguage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req struct {
		Language *string `json:"language"`
	}
	if !decodeJSON(w, r, 1<<10, &req) {
		return
	}
	if req.Language == nil {
		writeFieldError(w, http.StatusUnprocessableEntity, "invalid_language", "language",
			`give "language": one of it, fr, en, es, de, or "" to detect it again`)
		return
	}
	lang := *req.Language
	if err := inbox.SetLanguage(r.Context(), a.Store, id, lang); err != nil {
		if errors.Is(err, inbox.ErrInvalidLanguage) {
			writeFieldError(w, http.StatusUnprocessableEntity, "invalid_language", "language",
				fmt.Sprintf("%q is not a language sendbox writes in: use it, fr, en, es or de, or \"\" to detect it again", lang))
			return
		}
		a.notFoundOr(w, r, err, "conversation")
		return
	}
	conv, err := a.Store.ConversationByID(r.Context(), id)
	if err != nil {
		a.notFoundOr(w, r, err, "conversation")
		return
	}
	writeJSON(w, http.StatusOK, one[any]{conv})
}
