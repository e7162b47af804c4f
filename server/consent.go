package server

import (
	"errors"
	"net/http"
	"strconv"

	"sendbox/consent"
	"sendbox/events"
	"sendbox/store"
)

// consentLedger is a contact's consent: the current state per purpose and
// every record, newest first.
type consentLedger struct {
	Current map[string]*store.ConsentRecord `json:"current"`
	Records []store.ConsentRecord           `json:"records"`
}

func (a *Server) ledgerOf(r *http.Request, id int64) (*consentLedger, error) {
	if _, err := a.Store.ContactByID(r.Context(), id); err != nil {
		return nil, err
	}
	out := &consentLedger{Current: map[string]*store.ConsentRecord{}}
	for _, p := range []string{store.PurposeMarketing, store.PurposeUtility} {
		c, err := a.Store.CurrentConsent(r.Context(), id, p)
		if err != nil {
			return nil, err
		}
		out.Current[p] = c
	}
	var err error
	out.Records, err = a.Store.ConsentLedger(r.Context(), id)
	return out, err
}

// handleContactConsent lists a contact's consent ledger.
func (a *Server) handleContactConsent(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	l, err := a.ledgerOf(r, id)
	if err != nil {
		a.notFoundOr(w, r, err, "contact")
		return
	}
	writeJSON(w, http.StatusOK, one[*consentLedger]{l})
}

// handleRecordConsent appends a consent to a contact's ledger:
// {"status": "opted_in", "source": "api", "wording": "...", "proof": {...}}.
// An Idempotency-Key makes it once.
func (a *Server) handleRecordConsent(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var e consent.Entry
	if !decodeJSON(w, r, 32<<10, &e) {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 255 {
		writeError(w, http.StatusBadRequest, "invalid_header", "Idempotency-Key is longer than 255 characters")
		return
	}
	if key != "" {
		key = "api:" + strconv.FormatInt(events.ActorFrom(r.Context()).ID, 10) + ":" + key
	}
	rec, err := consent.Record(r.Context(), a.Store, id, e, key)
	var ie *consent.InvalidError
	switch {
	case errors.As(err, &ie):
		writeFieldError(w, http.StatusBadRequest, "invalid_consent", ie.Field, ie.Error())
	case errors.Is(err, store.ErrConsentRefused):
		writeError(w, http.StatusConflict, "consent_suppressed", "recorded as refused (ledger record "+
			strconv.FormatInt(rec.ID, 10)+"): "+err.Error()+"; an api or agent opt-in needs proof")
	case err != nil:
		a.notFoundOr(w, r, err, "contact")
	default:
		writeJSON(w, http.StatusCreated, one[*store.ConsentRecord]{rec})
	}
}

// handleVerifyConsent walks the whole consent ledger's hash chain.
func (a *Server) handleVerifyConsent(w http.ResponseWriter, r *http.Request) {
	check, err := a.Store.VerifyConsentLedger(r.Context())
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[*store.LedgerCheck]{check})
}

// contactExport is everything sendbox keeps about one contact.
type contactExport struct {
	Contact  *store.Contact  `json:"contact"`
	Consent  *consentLedger  `json:"consent"`
	Messages []store.Message `json:"messages"`
}

// maxExportMessages bounds one export's messages (newest first).
const maxExportMessages = 10000

// handleExportContact returns a contact's data as one JSON document: the
// contact, its consent ledger and its messages (right of access).
func (a *Server) handleExportContact(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	c, err := a.Store.ContactWithTags(r.Context(), id)
	if err != nil {
		a.notFoundOr(w, r, err, "contact")
		return
	}
	out := contactExport{Contact: c, Messages: []store.Message{}}
	if out.Consent, err = a.ledgerOf(r, id); err != nil {
		a.internalError(w, r, err)
		return
	}
	var after int64
	for len(out.Messages) < maxExportMessages {
		page, _, next, err := a.Store.ListMessages(r.Context(), store.MessageFilter{ContactID: id, After: after, Limit: 500})
		if err != nil {
			a.internalError(w, r, err)
			return
		}
		out.Messages = append(out.Messages, page...)
		if next == 0 {
			break
		}
		after = next
	}
	w.Header().Set("Content-Disposition", `attachment; filename="contact-`+strconv.FormatInt(id, 10)+`.json"`)
	writeJSON(w, http.StatusOK, one[contactExport]{out})
}
