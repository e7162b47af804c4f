package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"sendbox/outbound"
	"sendbox/whatsapp"
)

// TestRefusalShowsAnyOutboundError: every error type of outbound and
// whatsapp reaches the person sending in plain words, however wrapped, so
// refusals added later (consent, unknown templates) show without a change
// in the panel; other errors stay internal.
func TestRefusalShowsAnyOutboundError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
		ok   bool
	}{
		{&outbound.WindowError{}, (&outbound.WindowError{}).Error(), true},
		{fmt.Errorf("queue: %w", &whatsapp.ValidationError{Code: "missing_parameter", Message: "The parameter 2 is missing."}), "The parameter 2 is missing.", true},
		{errors.Join(errors.New("sync"), &whatsapp.APIError{Code: 132001, Message: "template does not exist"}), "template does not exist", true},
		{fmt.Errorf("queue: %w", errors.New("database is locked")), "", false},
	} {
		got, ok := refusal(tc.err)
		if ok != tc.ok || (ok && !strings.Contains(got, tc.want)) {
			t.Errorf("refusal(%v) = %q, %v; want %q, %v", tc.err, got, ok, tc.want, tc.ok)
		}
	}
}
