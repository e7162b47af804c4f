package consent

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"sendbox/events"
	"sendbox/store"
)

// Entry is a consent a person or an integration records by hand (the
// panel, POST /api/v1/contacts/{id}/consent).
type Entry struct {
	Purpose        string         `json:"purpose"` // marketing (default) or utility
	Status         string         `json:"status"`  // opted_in, opted_out or unknown
	Source         string         `json:"source"`  // api (default) or agent
	Wording        string         `json:"wording"`
	WordingVersion string         `json:"wording_version"`
	Proof          map[string]any `json:"proof"`
	At             time.Time      `json:"at"` // when the customer chose; default now
}

// InvalidError is an entry refused, naming its field.
type InvalidError struct{ Field, Message string }

func (e *InvalidError) Error() string { return e.Field + ": " + e.Message }

// Limits of a recorded entry.
const (
	maxWording = 2000
	maxProof   = 8 << 10
)

// Record checks an entry and appends it to the contact's ledger; key, if
// not "", makes it once. An opt-in refused for a suppressed number is
// recorded and returned with store.ErrConsentRefused.
func Record(ctx context.Context, st *store.Store, contactID int64, e Entry, key string) (*store.ConsentRecord, error) {
	if e.Purpose == "" {
		e.Purpose = store.PurposeMarketing
	}
	if e.Source == "" {
		e.Source = store.ConsentSourceAPI
	}
	switch {
	case e.Purpose != store.PurposeMarketing && e.Purpose != store.PurposeUtility:
		return nil, &InvalidError{"purpose", fmt.Sprintf("is marketing or utility, not %q", e.Purpose)}
	case e.Status != store.ConsentOptedIn && e.Status != store.ConsentOptedOut && e.Status != store.ConsentUnknown:
		return nil, &InvalidError{"status", fmt.Sprintf("is opted_in, opted_out or unknown, not %q", e.Status)}
	case e.Source != store.ConsentSourceAPI && e.Source != store.ConsentSourceAgent:
		return nil, &InvalidError{"source", fmt.Sprintf("is api or agent here, not %q (the other sources are recorded by sendbox itself)", e.Source)}
	case utf8.RuneCountInString(e.Wording) > maxWording || utf8.RuneCountInString(e.WordingVersion) > 100:
		return nil, &InvalidError{"wording", fmt.Sprintf("has at most %d characters, its version 100", maxWording)}
	case e.At.After(time.Now().Add(5 * time.Minute)):
		return nil, &InvalidError{"at", "is in the future"}
	}
	if b, _ := json.Marshal(e.Proof); len(b) > maxProof {
		return nil, &InvalidError{"proof", "is over " + strconv.Itoa(maxProof) + " bytes of JSON"}
	}
	detail := e.Source
	if a := events.ActorFrom(ctx); a.Name != "" {
		detail += " (" + a.Name + ")"
	}
	return st.RecordConsent(ctx, store.ConsentEntry{ContactID: contactID, Purpose: e.Purpose, Status: e.Status, Source: e.Source,
		Detail: detail, Wording: e.Wording, WordingVersion: e.WordingVersion, Proof: e.Proof, At: e.At, Key: key})
}
