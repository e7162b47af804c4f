package inbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"sendbox/accounts"
	"sendbox/events"
	"sendbox/store"
	"sendbox/whatsapp"
)

// Limits of what an agent writes on a contact.
const (
	MaxContactName  = 100
	MaxContactNotes = 5000
	MaxAttributes   = 50
	MaxAttrKey      = 60
	MaxAttrValue    = 500
	MaxTags         = 30
	MaxTag          = 40
)

// ContactChange is what an agent changes on a contact; a nil field is
// left as it is (the panel's form sets them all, the API's PATCH those it
// names). Attributes and Tags replace the contact's whole set.
type ContactChange struct {
	Name, Email, Notes *string
	Attributes         *map[string]string
	Tags               *[]string
	// Consent is the marketing consent: unknown, opted_in or opted_out.
	// Setting it to what it is already changes nothing (its source and
	// time stay those of the customer's own choice).
	Consent *string
}

// Words words what a contact command stores as text (the source of a
// consent an agent set: "set by Maria"), from the panel's string keys: the
// panel in its reader's language, the API in English.
type Words func(key string, args ...any) string

// UpdateContact checks and saves a change to a contact. Nothing is saved
// if any field is refused. The consent's source is the actor's name in the
// front's words ("contacts.consent_by").
func UpdateContact(ctx context.Context, st *store.Store, id int64, ch ContactChange, w Words) error {
	c, err := st.ContactWithTags(ctx, id)
	if err != nil {
		return err
	}
	u := store.ContactUpdate{Name: c.Name, Email: c.Email, Notes: c.Notes, Attributes: c.Attributes, Tags: c.Tags}
	consent, err := ch.apply(&u)
	if err != nil {
		return err
	}
	if consent == "" || consent == c.Consent {
		return st.UpdateContact(ctx, id, u)
	}
	return st.UpdateContactConsent(ctx, id, u, consent, w("contacts.consent_by", events.ActorFrom(ctx).Name), time.Now())
}

// ErrContactExists: a contact with that number exists already.
var ErrContactExists = errors.New("a contact with this number exists already")

// CreateContact adds a contact by phone number before the customer has
// written (a number in any common notation, with its country code), with
// the fields ch sets, by the same rules as UpdateContact. A number that
// has a contact already is ErrContactExists (wrapped with its number).
func CreateContact(ctx context.Context, st *store.Store, phone string, ch ContactChange, w Words) (int64, error) {
	to, err := whatsapp.NormalizeRecipient(phone)
	if err != nil || !strings.HasPrefix(to, "+") {
		return 0, inputError("phone", CodeInvalidPhone, "%q is not a phone number with its country code (e.g. +393471234567)", phone)
	}
	var u store.ContactUpdate
	consent, err := ch.apply(&u)
	if err != nil {
		return 0, err
	}
	source := ""
	if consent != "" {
		source = w("contacts.consent_by", events.ActorFrom(ctx).Name)
	}
	id, err := st.CreateContact(ctx, to[1:], u, consent, source, time.Now())
	if errors.Is(err, store.ErrConflict) {
		return 0, fmt.Errorf("%s: %w", to, ErrContactExists)
	}
	return id, err
}

// ContactForPhone returns the contact of a number in E.164 ("+39…"),
// adding it (with no fields) if sendbox does not know it yet; a contact
// added meanwhile by someone else is the one returned.
func ContactForPhone(ctx context.Context, st *store.Store, to string, w Words) (int64, error) {
	digits := strings.TrimPrefix(to, "+")
	c, err := st.ContactByRecipient(ctx, digits, "")
	if err == nil {
		return c.ID, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	id, err := CreateContact(ctx, st, to, ContactChange{}, w)
	if errors.Is(err, ErrContactExists) {
		if c, err := st.ContactByRecipient(ctx, digits, ""); err == nil {
			return c.ID, nil
		}
	}
	return id, err
}

// EditTags adds and removes some of a contact's tags, leaving the others
// (the contact form and PATCH replace them all). Added tags follow
// CheckTags' rules; a tag both added and removed is added; the contact may
// end with at most MaxTags.
func EditTags(ctx context.Context, st *store.Store, id int64, add, remove []string) error {
	add, err := CheckTags(add)
	var ie *InputError
	if errors.As(err, &ie) {
		ie.Field = "add"
	}
	if err != nil {
		return err
	}
	var rm []string
	for _, t := range remove {
		if t = strings.TrimSpace(t); t != "" {
			rm = append(rm, t)
		}
	}
	if len(add) == 0 && len(rm) == 0 {
		return inputError("add", CodeInvalidTag, "give tags to add or to remove")
	}
	err = st.EditContactTags(ctx, id, add, rm, MaxTags)
	if errors.Is(err, store.ErrTooManyTags) {
		return inputError("add", CodeTooManyTags, "a contact has at most %d tags", MaxTags)
	}
	return err
}

// apply checks the fields ch sets and writes them into u; it returns the
// consent to record, "" if none.
func (ch ContactChange) apply(u *store.ContactUpdate) (string, error) {
	var err error
	if ch.Name != nil {
		u.Name = strings.TrimSpace(*ch.Name)
		if utf8.RuneCountInString(u.Name) > MaxContactName {
			return "", inputError("name", CodeInvalidName, "a name has at most %d characters", MaxContactName)
		}
	}
	if ch.Email != nil {
		u.Email = strings.TrimSpace(*ch.Email)
		if u.Email != "" {
			if u.Email, err = accounts.NormalizeEmail(u.Email); err != nil {
				return "", inputError("email", CodeInvalidEmail, "%q is not an e-mail address", *ch.Email)
			}
		}
	}
	if ch.Notes != nil {
		u.Notes = strings.TrimSpace(*ch.Notes)
		if utf8.RuneCountInString(u.Notes) > MaxContactNotes {
			return "", inputError("notes", CodeNotesTooLong, "notes have at most %d characters", MaxContactNotes)
		}
	}
	if ch.Attributes != nil {
		if u.Attributes, err = CheckAttributes(*ch.Attributes); err != nil {
			return "", err
		}
	}
	if ch.Tags != nil {
		if u.Tags, err = CheckTags(*ch.Tags); err != nil {
			return "", err
		}
	}
	if ch.Consent == nil {
		return "", nil
	}
	switch consent := *ch.Consent; consent {
	case store.ConsentUnknown, store.ConsentOptedIn, store.ConsentOptedOut:
		return consent, nil
	}
	return "", inputError("consent", CodeInvalidConsent, "consent is unknown, opted_in or opted_out, not %q", *ch.Consent)
}

// CheckAttributes checks a contact's attributes (trimmed keys of 1 to
// MaxAttrKey characters, values of at most MaxAttrValue, at most
// MaxAttributes of them) and returns them trimmed.
func CheckAttributes(in map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(in))
	for k, v := range in {
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "" || utf8.RuneCountInString(k) > MaxAttrKey || utf8.RuneCountInString(v) > MaxAttrValue {
			return nil, inputError("attributes", CodeInvalidAttr,
				"attribute %q: keys have 1 to %d characters, values at most %d", k, MaxAttrKey, MaxAttrValue)
		}
		out[k] = v
	}
	if len(out) > MaxAttributes {
		return nil, inputError("attributes", CodeTooManyAttrs, "at most %d attributes", MaxAttributes)
	}
	return out, nil
}

// CheckTags checks a contact's tags (trimmed, 1 to MaxTag characters, at
// most MaxTags) and returns them trimmed, without blanks and without
// repeats that differ only in case.
func CheckTags(in []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, t := range in {
		t = strings.TrimSpace(t)
		if t == "" || seen[strings.ToLower(t)] {
			continue
		}
		if utf8.RuneCountInString(t) > MaxTag || strings.ContainsAny(t, ",\n\r") {
			return nil, inputError("tags", CodeInvalidTag, "the tag %q: tags have at most %d characters and no commas or line breaks", t, MaxTag)
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	if len(out) > MaxTags {
		return nil, inputError("tags", CodeTooManyTags, "at most %d tags", MaxTags)
	}
	return out, nil
}
