package outbound

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"sendbox/store"
	"sendbox/whatsapp"
)

// Why a marketing template may not go to a customer: the ConsentError codes,
// stable in the API.
const (
	RefusedOptedOut  = "opted_out"      // the customer opted out, or their number is on the suppression list
	RefusedNoConsent = "no_consent"     // no recorded opt-in, and the owner did not allow unknown consent
	RefusedHold      = "marketing_hold" // Meta's per-user marketing limit (131049): wait until Until
	// RefusedUtilityOptedOut: the customer's latest choice for utility
	// messages (order updates, reminders) in the consent ledger is an opt-out.
	RefusedUtilityOptedOut = "utility_opted_out"
)

// ConsentError refuses a template the customer may not receive now: a
// marketing template without consent, or a utility template after the
// customer opted out of utility messages. Utility templates need no
// recorded opt-in; authentication templates (codes the customer asked for)
// and free-form replies within the 24-hour window are never refused for
// consent.
type ConsentError struct {
	Code       string       // RefusedOptedOut, RefusedNoConsent or RefusedHold
	Suppressed bool         // opted_out: from the suppression list (the contact was erased)
	Source     string       // opted_out: where the opt-out came from
	At         time.Time    // opted_out: when
	Until      time.Time    // marketing_hold: when marketing may go again
	Cap        FrequencyCap // capped: the business's frequency cap
}

func (e *ConsentError) Error() string {
	const rest = "utility templates, and replies within 24 hours of their last message, still go"
	switch e.Code {
	case RefusedOptedOut:
		if e.Suppressed {
			return "this number opted out of marketing before its contact was erased (it is on the suppression list): " +
				"a marketing template cannot be sent to it; " + rest
		}
		how := ""
		if e.Source != "" {
			how = " (" + e.Source
			if !e.At.IsZero() {
				how += ", " + e.At.UTC().Format("2 Jan 2006 15:04 MST")
			}
			how += ")"
		}
		return "the customer opted out of marketing messages" + how + ": a marketing template cannot be sent to them; " + rest
	case RefusedCapped:
		return fmt.Sprintf("the customer has had %d marketing messages in the last %d days, the most the business's frequency cap allows: %s",
			e.Cap.Count, e.Cap.Days, rest)
	case RefusedHold:
		return "Meta limited the marketing messages this customer receives (error 131049): sendbox holds marketing to them until " +
			e.Until.UTC().Format("2 Jan 2006 15:04 MST") + "; " + rest
	case RefusedUtilityOptedOut:
		how := ""
		if e.Source != "" {
			how = " (" + e.Source + ", " + e.At.UTC().Format("2 Jan 2006 15:04 MST") + ")"
		}
		return "the customer opted out of utility messages such as order updates and reminders" + how +
			": a utility template cannot be sent to them until they opt in again; replies within 24 hours of their last message still go"
	}
	return "the customer has not opted in to marketing messages: record their consent on their contact page first " +
		"(or, if your contacts gave marketing consent outside sendbox, an owner can allow marketing to contacts whose consent is unknown in Settings → Templates); " +
		rest
}

// SettingAllowUnknownConsent is the settings key of the owner's choice to
// send marketing to contacts whose consent is unknown.
const SettingAllowUnknownConsent = "marketing.allow_unknown_consent"

// AllowUnknownConsent reports whether the owner allowed marketing to
// contacts whose consent is unknown (consent gathered outside sendbox).
func AllowUnknownConsent(ctx context.Context, st *store.Store) (bool, error) {
	v, err := st.Setting(ctx, SettingAllowUnknownConsent)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return v == "on", err
}

// SetAllowUnknownConsent records the owner's choice.
func SetAllowUnknownConsent(ctx context.Context, st *store.Store, allow bool) error {
	v := "off"
	if allow {
		v = "on"
	}
	return st.SetSetting(ctx, SettingAllowUnknownConsent, v)
}

// checkMarketing decides whether a marketing template may go now to the
// contact c (nil when sendbox does not know them yet), addressed as waID or
// userID. It returns a *ConsentError, nil, or a storage error.
func checkMarketing(ctx context.Context, st *store.Store, c *store.Contact, waID, userID string, now time.Time) error {
	consent := store.ConsentUnknown
	if c != nil {
		consent = c.Consent
		waID, userID = cmp.Or(c.WaID, waID), cmp.Or(c.UserID, userID)
	}
	if consent == store.ConsentOptedOut {
		return &ConsentError{Code: RefusedOptedOut, Source: c.ConsentSource, At: c.ConsentAt}
	}
	// An opt-in takes a number off the list, so only a number that has not
	// opted in since can be on it.
	if consent != store.ConsentOptedIn {
		switch sup, err := st.Suppressed(ctx, waID, userID); {
		case err != nil:
			return fmt.Errorf("suppression list: %w", err)
		case sup:
			return &ConsentError{Code: RefusedOptedOut, Suppressed: true}
		}
	}
	if c != nil && now.Before(c.MarketingHoldUntil) {
		return &ConsentError{Code: RefusedHold, Until: c.MarketingHoldUntil}
	}
	if consent == store.ConsentUnknown {
		allow, err := AllowUnknownConsent(ctx, st)
		if err != nil {
			return fmt.Errorf("marketing setting: %w", err)
		}
		if !allow {
			return &ConsentError{Code: RefusedNoConsent}
		}
	}
	return nil
}

// checkUtility refuses a utility template to a contact whose latest
// utility choice in the consent ledger is an opt-out.
func checkUtility(ctx context.Context, st *store.Store, c *store.Contact) error {
	if c == nil {
		return nil
	}
	rec, err := st.CurrentConsent(ctx, c.ID, store.PurposeUtility)
	if err != nil {
		return fmt.Errorf("utility consent: %w", err)
	}
	if rec != nil && rec.Status == store.ConsentOptedOut {
		return &ConsentError{Code: RefusedUtilityOptedOut, Source: rec.Detail, At: rec.At}
	}
	return nil
}

// CheckedBeforeMeta ends the detail of a message sendbox failed itself,
// without calling Meta, because a rule it checks at send time refused it.
const CheckedBeforeMeta = " (checked by sendbox before calling Meta)"

// consentTitles are the titles of those failures, by ConsentError code.
var consentTitles = map[string]string{
	RefusedOptedOut:        "Not sent: the customer opted out of marketing",
	RefusedNoConsent:       "Not sent: no marketing consent",
	RefusedHold:            "Not sent: marketing to this customer is on hold",
	RefusedUtilityOptedOut: "Not sent: the customer opted out of utility messages",
}

// consentCheck checks a queued marketing template against the customer's
// consent once more just before the Graph call, because it may have changed
// while the message waited: a STOP, an agent's edit, Meta's 131049 on
// another message. It returns the failure to record (Meta is then not
// called), or nil to send. Its code is 0: the refusal is sendbox's, not Meta's.
func (s *Sender) consentCheck(ctx context.Context, msg *store.Message, om *whatsapp.OutboundMessage) (*store.MessageError, error) {
	if !om.IsTemplate() {
		return nil, nil
	}
	tp, err := s.Store.TemplateByName(ctx, om.Template.Name, om.Template.Language.Code)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Gone from the synced list since it was queued: checked as
		// marketing, the strictest.
	case err != nil:
		return nil, err
	case tp.Category == Utility:
	case tp.Category != Marketing:
		return nil, nil
	}
	c, err := s.Store.ContactByID(ctx, msg.ContactID)
	if err != nil {
		return nil, err
	}
	if tp != nil && tp.Category == Utility {
		err = checkUtility(ctx, s.Store, c)
	} else {
		err = checkMarketing(ctx, s.Store, c, "", "", time.Now())
	}
	var ce *ConsentError
	if !errors.As(err, &ce) {
		return nil, err
	}
	return &store.MessageError{Title: consentTitles[ce.Code], Detail: "Not sent: " + ce.Error() + CheckedBeforeMeta}, nil
}
