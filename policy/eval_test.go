package policy

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// misses lists the messages an evaluation split gets wrong, for tuning:
// go test ./policy -run TestEvaluation/dev -v -args -misses
var misses = flag.Bool("misses", false, "list the messages the evaluation gets wrong")

// evalItem is one message of the evaluation set (testdata/eval/README.md).
type evalItem struct {
	Text  string   `json:"text"`
	Lang  string   `json:"lang"`
	Label string   `json:"label"`
	Trap  string   `json:"trap,omitempty"`
	Also  []string `json:"also,omitempty"`
}

// Labels of the evaluation set besides the escalation categories.
const (
	labelOptOut     = "opt_out"
	labelOptIn      = "opt_in"
	labelNone       = "none"
	labelEscalation = "escalation" // any of Categories
)

func (it evalItem) is(label string) bool {
	if label == labelEscalation {
		return slices.ContainsFunc(Categories, it.is)
	}
	return it.Label == label || slices.Contains(it.Also, label)
}

// traps reports whether a hard negative is a trap for label.
func (it evalItem) trapFor(label string) bool {
	if label == labelEscalation {
		return slices.Contains(Categories, it.Trap)
	}
	return it.Trap == label
}

func loadEval(t testing.TB, split string) []evalItem {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "eval", split+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	labels := append([]string{labelOptOut, labelOptIn}, Categories...)
	var items []evalItem
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		var it evalItem
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&it); err != nil {
			t.Fatalf("%s.jsonl:%d: %v", split, n, err)
		}
		ok := slices.Contains(Langs, it.Lang) && strings.TrimSpace(it.Text) != ""
		if it.Label == labelNone {
			ok = ok && slices.Contains(labels, it.Trap)
		} else {
			ok = ok && slices.Contains(labels, it.Label) && it.Trap == ""
		}
		for _, a := range it.Also {
			ok = ok && slices.Contains(labels, a) && a != it.Label
		}
		if !ok {
			t.Fatalf("%s.jsonl:%d: not a valid item: %s", split, n, sc.Text())
		}
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return items
}

// The test split keeps the size the issue settled: at least 150 positives
// and 150 hard negatives for opt-out, for escalation and for re-subscribe,
// over the five languages, with no message twice.
func TestEvaluationSetShape(t *testing.T) {
	items := loadEval(t, "test")
	seen := map[string]bool{}
	for _, it := range items {
		k := fold(strings.TrimSpace(it.Text))
		if seen[k] {
			t.Errorf("%q is in the test split twice", it.Text)
		}
		seen[k] = true
	}
	for _, label := range []string{labelOptOut, labelEscalation, labelOptIn} {
		byLang := map[string][2]int{}
		for _, it := range items {
			c := byLang[it.Lang]
			if it.is(label) {
				c[0]++
			} else if it.Label == labelNone && it.trapFor(label) {
				c[1]++
			}
			byLang[it.Lang] = c
		}
		var pos, neg int
		for _, l := range Langs {
			pos, neg = pos+byLang[l][0], neg+byLang[l][1]
		}
		if pos < 150 || neg < 150 {
			t.Errorf("%s: %d positives and %d hard negatives, want at least 150 of each", label, pos, neg)
		}
		for _, l := range Langs {
			if c := byLang[l]; c[0] < pos/7 || c[1] < neg/7 {
				t.Errorf("%s in %s: %d positives, %d hard negatives: languages should weigh about a fifth each", label, l, c[0], c[1])
			}
		}
	}
	for _, c := range Categories {
		n := 0
		for _, it := range items {
			if it.is(c) {
				n++
			}
		}
		if n < 25 {
			t.Errorf("%s: %d positives, want escalations spread over the five categories", c, n)
		}
	}
}

// evalRow counts, for one label and language, the positives found and the
// negatives wrongly flagged.
type evalRow struct {
	label, lang string
	pos, found  int
	neg, fp     int
}

func (r evalRow) recall() float64 { return ratio(r.found, r.pos) }
func (r evalRow) fpRate() float64 { return ratio(r.fp, r.neg) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// flagged reports whether the result says label: for a category, any
// match of it that is not negated (a message may rightly carry two).
func flagged(r Result, label string) bool {
	switch label {
	case labelOptOut:
		return r.OptOut
	case labelOptIn:
		return r.OptIn
	case labelEscalation:
		return r.Escalate
	}
	for _, m := range r.Matched {
		if m.Category == label && !m.Negated {
			return true
		}
	}
	return false
}

// evaluate runs the matcher over items and returns, for each label, a row
// for all languages then one per language. The false positives of a label
// are counted over all its negatives: every message not carrying it.
func evaluate(m *Matcher, items []evalItem, wrong func(evalItem, string, Result)) []evalRow {
	labels := append([]string{labelOptOut, labelOptIn, labelEscalation}, Categories...)
	results := make([]Result, len(items))
	for i, it := range items {
		results[i] = m.Check(it.Text)
	}
	var rows []evalRow
	for _, label := range labels {
		for _, lang := range append([]string{"all"}, Langs...) {
			row := evalRow{label: label, lang: lang}
			for i, it := range items {
				if lang != "all" && it.Lang != lang {
					continue
				}
				got := flagged(results[i], label)
				if it.is(label) {
					row.pos++
					if got {
						row.found++
					}
				} else {
					row.neg++
					if got {
						row.fp++
					}
				}
				if got != it.is(label) && lang == "all" && wrong != nil {
					wrong(it, label, results[i])
				}
			}
			rows = append(rows, row)
		}
	}
	return rows
}

func table(rows []evalRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %-4s %6s %-11s %7s %-9s\n", "label", "lang", "recall", "", "FP rate", "")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-16s %-4s %6.3f %-11s %6.1f%% %-9s\n", r.label, r.lang, r.recall(),
			fmt.Sprintf("(%d/%d)", r.found, r.pos), 100*r.fpRate(), fmt.Sprintf("(%d/%d)", r.fp, r.neg))
	}
	return b.String()
}

// The target on the test split, for opt-out and for escalation.
const (
	targetRecall = 0.98
	targetFP     = 0.01
)

// TestEvaluation prints recall and false-positive rates of the default
// rules on the evaluation set, per label and language, and fails when the
// test split falls below the target for opt-out or escalation.
func TestEvaluation(t *testing.T) {
	m := matcher(t)
	for _, split := range []string{"test", "dev"} {
		t.Run(split, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join("testdata", "eval", split+".jsonl")); split == "dev" && err != nil {
				t.Skip("no development split")
			}
			items := loadEval(t, split)
			var wrong func(evalItem, string, Result)
			if *misses {
				wrong = func(it evalItem, label string, r Result) {
					kind := "missed"
					if !it.is(label) {
						kind = "false positive"
					}
					t.Logf("%s %s [%s %s]: %q → %s", label, kind, it.Lang, it.Label+it.Trap, it.Text, r.Describe())
				}
			}
			rows := evaluate(m, items, wrong)
			t.Logf("%s split, %d messages:\n%s", split, len(items), table(rows))
			for _, r := range rows {
				if r.lang != "all" || r.label != labelOptOut && r.label != labelEscalation {
					continue
				}
				if r.recall() < targetRecall || r.fpRate() > targetFP {
					t.Errorf("%s: recall %.3f, false positives %.1f%%; the target is recall ≥ %.2f with ≤ %.0f%% false positives",
						r.label, r.recall(), 100*r.fpRate(), targetRecall, 100*targetFP)
				}
			}
		})
	}
}

// explain prints how each language reads a message, for tuning:
// go test ./policy -run TestExplain -v -args -explain "text"
var explain = flag.String("explain", "", "print how the matcher reads this text")

func TestExplain(t *testing.T) {
	if *explain == "" {
		t.Skip("no -explain text")
	}
	m := matcher(t)
	toks := tokenize(*explain)
	for _, tk := range toks {
		t.Logf("token %q s%d c%d q%v", tk.word, tk.sentence, tk.clause, tk.question)
	}
	for _, l := range Langs {
		v := analyse(toks, l, builtin[l], m.negations)
		var b strings.Builder
		for i, tk := range toks {
			var cs []string
			for c := concept(0); c < nConcepts; c++ {
				if v.cs[i].has(c) {
					cs = append(cs, fmt.Sprint(c))
				}
			}
			if len(cs) > 0 {
				fmt.Fprintf(&b, " %s%v", tk.word, cs)
			}
		}
		t.Logf("%s:%s", l, b.String())
	}
	t.Logf("%s", m.Check(*explain).Describe())
}
