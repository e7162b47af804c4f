package flows

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"
)

// A set step's conversation labels: added or removed by name, in the run's
// transaction (store.RunTx.Label); the labels themselves are the
// business's, made in Settings → Labels.

func (s *Step) validateLabels() []Problem {
	var ps []Problem
	for _, l := range []struct{ field, name string }{{"add_label", s.AddLabel}, {"remove_label", s.RemoveLabel}} {
		if l.name == "" {
			continue
		}
		if n := utf8.RuneCountInString(l.name); strings.TrimSpace(l.name) != l.name || n > 100 {
			ps = append(ps, Problem{Field: l.field, Code: "invalid", Message: "a label's name is 1 to 100 characters, without spaces around"})
		}
	}
	if s.AddLabel != "" && strings.EqualFold(s.AddLabel, s.RemoveLabel) {
		ps = append(ps, Problem{Field: "remove_label", Code: "conflict", Message: "the step adds and removes the same label"})
	}
	return ps
}

// checkLabels finds the labels a draft's set steps name that the business
// has not made (a label deleted after publishing is then left alone).
func (e *Engine) checkLabels(ctx context.Context, d *Definition) ([]Problem, error) {
	var ps []Problem
	var known map[string]bool
	for _, s := range d.Steps {
		if s.Type != StepSet || s.AddLabel == "" && s.RemoveLabel == "" {
			continue
		}
		if known == nil {
			ls, err := e.Store.ListLabels(ctx)
			if err != nil {
				return nil, err
			}
			known = map[string]bool{}
			for _, l := range ls {
				known[strings.ToLower(l.Name)] = true
			}
		}
		for _, l := range []struct{ field, name string }{{"add_label", s.AddLabel}, {"remove_label", s.RemoveLabel}} {
			if l.name != "" && !known[strings.ToLower(l.name)] {
				ps = append(ps, Problem{Step: s.ID, Field: l.field, Code: "unknown_label",
					Message: fmt.Sprintf("no label is called %q: make it in Settings → Labels first", l.name)})
			}
		}
	}
	return ps, nil
}
