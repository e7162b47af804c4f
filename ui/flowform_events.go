package ui

import (
	"strings"

	"sendbox/flows"
)

// The editor's fields for the ai step, the wait for an event and the
// flow's exit events (exit_on).

// parseExitOn reads the exit events, written as a list ("order.cancelled,
// order.refunded"); nil when none.
func parseExitOn(list string) []string {
	var out []string
	for _, name := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == '\n' || r == ' ' }) {
		out = append(out, name)
	}
	return out
}

// parseEventWait reads a wait step's event fields when the wait's kind is
// "event": the event (order.delivered until one is written), on_event, and
// the timeout and on_timeout; a timed wait's fields do not apply. Another
// kind drops what a wait for an event had.
func parseEventWait(get func(string) string, pre string, s *flows.Step) {
	if get(pre+"wait_kind") != "event" {
		if s.UntilEvent != "" {
			s.UntilEvent, s.OnEvent, s.Timeout, s.OnTimeout = "", "", "", ""
		}
		return
	}
	s.Duration, s.At, s.UntilReply, s.OnReply, s.Var = "", "", false, "", ""
	s.UntilEvent = strings.TrimSpace(get(pre + "until_event"))
	if s.UntilEvent == "" {
		s.UntilEvent = "order.delivered"
	}
	s.OnEvent, s.Timeout = get(pre+"on_event"), strings.TrimSpace(get(pre+"timeout"))
	if s.Timeout != "" {
		s.OnTimeout = get(pre + "on_timeout")
	}
}

// parseAIStep reads an ai step: its question (empty: the customer's next
// message), the variable that keeps the answer, and its ways out.
func parseAIStep(get func(string) string, pre string, s *flows.Step) {
	s.Question = strings.TrimSpace(strings.ReplaceAll(get(pre+"question"), "\r\n", "\n"))
	s.Var, s.Next, s.OnUnanswered = strings.TrimSpace(get(pre+"var")), get(pre+"next"), get(pre+"on_unanswered")
}
