package inbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"sendbox/accounts"
	"sendbox/business"
	"sendbox/store"
)

// The commands agents give on conversations: assign, give to a team,
// change the status, snooze, label, write a private note, switch the
// assistant, clear the urgent flag. The panel and the REST API call these
// and nothing else, so both keep the same rules and refuse the same input
// with the same InputError; neither writes these to the store itself.
//
// Who gives the command travels in ctx (events.WithActor, set by the
// panel's and the API's authentication): the store records it on the
// events, and a person's id on the timeline row.

// InputError is a command's refusal of its input: Field names the input at
// fault (as the API's JSON calls it), Code is stable (the API answers it
// as is; the panel words it from its own strings), Message says it in
// English.
type InputError struct {
	Field   string
	Code    string
	Message string
}

func (e *InputError) Error() string { return e.Message }

func inputError(field, code, format string, args ...any) error {
	return &InputError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Codes of InputError, stable: the API answers them.
const (
	CodeInvalidAssignee = "invalid_assignee"
	CodeInvalidTeam     = "invalid_team"
	CodeInvalidStatus   = "invalid_status"
	CodeSnoozePast      = "snooze_past"
	CodeSnoozeTooFar    = "snooze_too_far"
	CodeSnoozeNeverOpen = "snooze_never_open"
	CodeInvalidSnooze   = "invalid_snooze"
	CodeUnknownLabel    = "unknown_label"
	CodeEmptyNote       = "empty_note"
	CodeNoteTooLong     = "note_too_long"
	CodeInvalidState    = "invalid_state"
	CodeInvalidName     = "invalid_name"
	CodeInvalidEmail    = "invalid_email"
	CodeNotesTooLong    = "notes_too_long"
	CodeInvalidAttr     = "invalid_attribute"
	CodeTooManyAttrs    = "too_many_attributes"
	CodeInvalidTag      = "invalid_tag"
	CodeTooManyTags     = "too_many_tags"
	CodeInvalidConsent  = "invalid_consent"
	CodeInvalidPhone    = "invalid_phone"
	CodeInvalidReason   = "invalid_reason"
)

// MaxSnooze is how far ahead a snooze may end: further is a typing
// mistake more often than a plan, and the conversation would be forgotten.
const MaxSnooze = 366 * 24 * time.Hour

// MaxNote is the length of a private note, in characters.
const MaxNote = 5000

// Assignment is whom a conversation is given to: a person (UserID, 0 for
// no one), a team (TeamID, 0 for none), or both; nil leaves it as it is.
type Assignment struct {
	UserID, TeamID *int64
}

// Assign gives a conversation to a person and/or a team. Only an active
// user who may work the inbox (agent, admin, owner) can be given
// conversations, and only a team that exists. Both are checked before
// either is written; giving it to whom it is given already changes nothing
// and writes nothing.
func Assign(ctx context.Context, st *store.Store, convID int64, as Assignment) error {
	c, err := st.ConversationByID(ctx, convID)
	if err != nil {
		return err
	}
	setUser := as.UserID != nil && *as.UserID != c.AssigneeID
	setTeam := as.TeamID != nil && *as.TeamID != c.TeamID
	if setUser {
		if err := checkAssignee(ctx, st, *as.UserID); err != nil {
			return err
		}
	}
	if setTeam && *as.TeamID != 0 {
		if _, err := teamName(ctx, st, *as.TeamID); err != nil {
			return err
		}
	}
	if setUser {
		if err := st.Assign(ctx, convID, *as.UserID); err != nil {
			return err
		}
	}
	if setTeam {
		return st.SetTeam(ctx, convID, *as.TeamID)
	}
	return nil
}

// checkAssignee checks that a conversation may be given to the user (0:
// no one).
func checkAssignee(ctx context.Context, st *store.Store, userID int64) error {
	if userID == 0 {
		return nil
	}
	u, err := st.UserByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || err == nil && (!u.Active() || !accounts.Can(u.Role, accounts.Agent)) {
		return inputError("user_id", CodeInvalidAssignee,
			"conversations can be assigned only to active agents, admins and owners; user %d is not one", userID)
	}
	return err
}

// teamName is the name of a team that exists, or an InputError.
func teamName(ctx context.Context, st *store.Store, teamID int64) (string, error) {
	teams, err := st.ListTeams(ctx)
	if err != nil {
		return "", err
	}
	for _, t := range teams {
		if t.ID == teamID {
			return t.Name, nil
		}
	}
	return "", inputError("team_id", CodeInvalidTeam, "there is no team %d", teamID)
}

// SetStatus opens (wakes), marks pending or resolves a conversation;
// snoozed is set by SnoozeConversation, which needs a time to wake up.
func SetStatus(ctx context.Context, st *store.Store, convID int64, status string) error {
	if status != "open" && status != "pending" && status != "resolved" {
		return inputError("status", CodeInvalidStatus,
			"status is open, pending or resolved (snooze a conversation with its own command), not %q", status)
	}
	return st.SetStatus(ctx, convID, status, time.Time{})
}

// Snooze says until when a conversation sleeps: one of SnoozeUntil's
// choices ("1h", "tomorrow", "week", "open", or "custom" with Custom, a
// wall time of the business), or an instant (Until), whichever is set.
type Snooze struct {
	Choice, Custom string
	Until          time.Time
}

// SnoozeConversation snoozes a conversation until s says, which must be in
// the future and within MaxSnooze; the customer writing wakes it earlier.
// It returns when it wakes, in the business's time zone.
func SnoozeConversation(ctx context.Context, st *store.Store, convID int64, s Snooze) (time.Time, error) {
	prof, err := business.Load(ctx, st)
	if err != nil {
		return time.Time{}, err
	}
	now := time.Now()
	until := s.Until.In(prof.Location())
	if s.Until.IsZero() {
		until, err = SnoozeUntil(prof, s.Choice, s.Custom, now)
		switch {
		case errors.Is(err, ErrSnoozeNeverOpen):
			return time.Time{}, inputError("for", CodeSnoozeNeverOpen, "the business profile has no opening hours in the coming year")
		case errors.Is(err, ErrSnoozeChoice):
			return time.Time{}, inputError("for", CodeInvalidSnooze, "snooze for 1h, tomorrow, week or open, or until a time; not %q", s.Choice)
		case err != nil:
			return time.Time{}, inputError("until", CodeSnoozePast, "a snooze must end in the future")
		}
	}
	if !until.After(now) {
		return time.Time{}, inputError("until", CodeSnoozePast, "a snooze must end in the future")
	}
	if until.Sub(now) > MaxSnooze {
		return time.Time{}, inputError("until", CodeSnoozeTooFar, "a snooze must end within a year")
	}
	err = st.SetStatus(ctx, convID, "snoozed", until)
	return until, err
}

// SetLabels replaces a conversation's labels; every one must exist.
func SetLabels(ctx context.Context, st *store.Store, convID int64, labelIDs []int64) error {
	all, err := st.ListLabels(ctx)
	if err != nil {
		return err
	}
	byID := map[int64]string{}
	for _, l := range all {
		byID[l.ID] = l.Name
	}
	seen := map[int64]bool{}
	var ids []int64
	for _, id := range labelIDs {
		if byID[id] == "" {
			return inputError("label_ids", CodeUnknownLabel, "there is no label %d", id)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return st.SetConversationLabels(ctx, convID, ids)
}

// AddNote adds a private note, which the customer never sees.
func AddNote(ctx context.Context, st *store.Store, convID int64, body string) error {
	body = strings.TrimSpace(body)
	if body == "" {
		return inputError("body", CodeEmptyNote, "the note is empty")
	}
	if utf8.RuneCountInString(body) > MaxNote {
		return inputError("body", CodeNoteTooLong, "a note has at most %d characters", MaxNote)
	}
	return st.AddNote(ctx, convID, body)
}

// SetBot switches the assistant on or off in a conversation. Paused is
// not a choice: it is what a person answering does to it.
func SetBot(ctx context.Context, st *store.Store, convID int64, state string) error {
	if state != store.BotOn && state != store.BotOff {
		return inputError("state", CodeInvalidState, "state is on or off, not %q", state)
	}
	return st.SetBot(ctx, convID, state, "")
}

// ClearUrgent takes the urgent flag off: someone has the matter in hand.
func ClearUrgent(ctx context.Context, st *store.Store, convID int64) error {
	return st.ClearUrgent(ctx, convID)
}

// MaxHandoffReason is the length of a handoff's reason, in characters.
const MaxHandoffReason = 500

// Handoff is a request that a person take over a conversation.
type Handoff struct {
	Reason string // why, for the timeline and the routing's detail
	TeamID int64  // the team to give it to; 0 leaves the team as it is
	Urgent bool   // flags the conversation urgent
}

// HandOff asks a person to take a conversation over, as the assistant does
// when it cannot answer: the assistant pauses (unless switched off), the
// conversation reopens unless resolved, and the router's decision becomes
// "person", reason handoff, with h.Reason as its detail.
func HandOff(ctx context.Context, st *store.Store, convID int64, h Handoff) error {
	h.Reason = strings.TrimSpace(h.Reason)
	if h.Reason == "" || utf8.RuneCountInString(h.Reason) > MaxHandoffReason {
		return inputError("reason", CodeInvalidReason, "give a reason of 1 to %d characters", MaxHandoffReason)
	}
	if h.TeamID != 0 {
		if _, err := teamName(ctx, st, h.TeamID); err != nil {
			return err
		}
	}
	return st.Escalate(ctx, convID, store.Escalation{TeamID: h.TeamID, Urgent: h.Urgent,
		Detail:  h.Reason,
		Routing: &store.Routing{To: store.RoutePerson, Reason: ReasonHandoff, Detail: h.Reason}})
}
