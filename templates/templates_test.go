package templates

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestCatalogue: every template is in English, Italian and French, once
// each, with the same category and parameters in every language, and an
// example value for each parameter, as Meta asks with a submission.
func TestCatalogue(t *testing.T) {
	param := regexp.MustCompile(`\{\{(\d+)\}\}`)
	seen := map[string]bool{}
	type shape struct{ category, params string }
	shapes := map[string]shape{}
	langs := map[string]map[string]bool{}
	for _, c := range Catalogue() {
		key := c.Name + "/" + c.Language
		if seen[key] {
			t.Errorf("%s twice", key)
		}
		seen[key] = true
		if c.Category != "UTILITY" && c.Category != "MARKETING" {
			t.Errorf("%s: category %q", key, c.Category)
		}
		ps := param.FindAllStringSubmatch(c.Body, -1)
		for i, p := range ps {
			if p[1] != fmt.Sprint(i+1) {
				t.Errorf("%s: parameter %s where {{%d}} is due", key, p[0], i+1)
			}
		}
		if len(c.Example) != len(ps) {
			t.Errorf("%s: %d example values for %d parameters", key, len(c.Example), len(ps))
		}
		if param.MatchString(c.Sample()) {
			t.Errorf("%s: the sample keeps a parameter: %s", key, c.Sample())
		}
		s := shape{c.Category, fmt.Sprint(len(ps), len(c.Buttons))}
		if was, ok := shapes[c.Name]; ok && was != s {
			t.Errorf("%s: %v, other languages %v", key, s, was)
		}
		shapes[c.Name] = s
		if langs[c.Name] == nil {
			langs[c.Name] = map[string]bool{}
		}
		langs[c.Name][c.Language] = true
	}
	for name, ls := range langs {
		if !ls["en"] || !ls["it"] || !ls["fr"] || len(ls) != 3 {
			t.Errorf("%s is in %v, not en, it and fr", name, ls)
		}
	}
	if tp, ok := Find("shipping_update", "en_US"); !ok || tp.Language != "en_US" || tp.Body != "Your order {{1}} is on its way with {{2}}. Track it at {{3}} to see when it arrives." {
		t.Errorf("a regional code: %+v %v", tp, ok)
	}
	if _, ok := Find("shipping_update", "de"); ok {
		t.Error("a language the catalogue does not have")
	}
	c := Catalogue()
	c[0].Example[0] = "changed"
	if Catalogue()[0].Example[0] == "changed" {
		t.Error("Catalogue hands out its own slices")
	}
}

// reviewProblems lists what Meta refuses in a body at submission (error
// 2388299 for a variable at either end) or what its reviewers reject
// (INVALID_FORMAT): the rules written in Meta's template guidelines and
// its error pages, and those BSPs report from their reviews. A variable
// followed or preceded only by punctuation still counts as at the edge.
func reviewProblems(body string, examples int) []string {
	var out []string
	add := func(f string, a ...any) { out = append(out, fmt.Sprintf(f, a...)) }
	if n := utf8.RuneCountInString(body); n > 1024 {
		add("%d characters, Meta allows 1024", n)
	}
	vars := anyVar.FindAllStringSubmatchIndex(body, -1)
	if len(vars) == 0 {
		if examples != 0 {
			add("%d examples for no variable", examples)
		}
		return out
	}
	edge := func(s string) bool {
		return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) }) == ""
	}
	if edge(body[:vars[0][0]]) {
		add("starts with a variable")
	}
	if edge(body[vars[len(vars)-1][1]:]) {
		add("ends with a variable")
	}
	seen := map[int]bool{}
	for i, v := range vars {
		name := body[v[2]:v[3]]
		n, err := strconv.Atoi(name)
		if err != nil || n < 1 {
			add("{{%s}} is not a positional variable", name)
			continue
		}
		if !seen[n] && n != len(seen)+1 {
			add("{{%d}} comes where {{%d}} is due: variables are numbered in order without gaps", n, len(seen)+1)
		}
		seen[n] = true
		if i > 0 && edge(body[vars[i-1][1]:v[0]]) {
			add("{{%s}} sits next to the variable before it with no word between", name)
		}
	}
	if examples != len(seen) {
		add("%d examples for %d variables", examples, len(seen))
	}
	// Too many variables for the length: reviewers ask for at least 2n+1
	// words of text around n variables.
	words := len(strings.Fields(anyVar.ReplaceAllString(body, " ")))
	if words < 2*len(vars)+1 {
		add("%d words of text around %d variables; Meta's reviewers want at least %d", words, len(vars), 2*len(vars)+1)
	}
	return out
}

var anyVar = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// TestCatalogueWordingsPassReview walks the whole catalogue, every
// template in every language, and fails on any wording Meta would refuse
// or its reviewers reject; and what the flow editor and the Templates page
// show is exactly what the one-click submit sends.
func TestCatalogueWordingsPassReview(t *testing.T) {
	for _, c := range Catalogue() {
		key := c.Name + "/" + c.Language
		for _, p := range reviewProblems(c.Body, len(c.Example)) {
			t.Errorf("%s: %s\n  %s", key, p, c.Body)
		}
		for i, e := range c.Example {
			if strings.TrimSpace(e) == "" {
				t.Errorf("%s: the example of {{%d}} is empty", key, i+1)
			}
		}
		if n := utf8.RuneCountInString(c.Header); n > 60 || anyVar.MatchString(c.Header) {
			t.Errorf("%s: header %q (%d characters, at most 60 and no variable in the catalogue)", key, c.Header, n)
		}
		if n := utf8.RuneCountInString(c.Footer); n > 60 || anyVar.MatchString(c.Footer) {
			t.Errorf("%s: footer %q (%d characters, at most 60, no variable)", key, c.Footer, n)
		}
		if len(c.Buttons) > 10 {
			t.Errorf("%s: %d buttons", key, len(c.Buttons))
		}
		for _, b := range c.Buttons {
			if n := utf8.RuneCountInString(b.Text); n == 0 || n > 25 {
				t.Errorf("%s: button %q is %d characters, 1 to 25", key, b.Text, n)
			}
		}
		sub, ok := FromCatalogue(c.Name, c.Language)
		if !ok {
			t.Fatalf("%s not found", key)
		}
		for _, comp := range sub.Definition.Components {
			if comp.Type == "BODY" && comp.Text != c.Body {
				t.Errorf("%s: shown %q, submitted %q", key, c.Body, comp.Text)
			}
		}
	}
	// The check itself catches each kind of refusal.
	for body, want := range map[string]string{
		"{{1}}, your order is ready for pickup at the shop.":                 "starts with",
		"Your order is ready for pickup, see you soon {{1}}.":                "ends with",
		"Your order {{1}} {{2}} is ready for pickup at the shop today.":      "next to",
		"Your order {{1}}: {{2}} is ready for pickup at the shop today.":     "next to",
		"Your order {{1}} is ready for pickup at {{3}} in the shop today.":   "due",
		"Hi {{1}}, see {{2}} now.":                                           "words of text",
		"Your order " + strings.Repeat("x", 1024) + " {{1}} is ready today.": "1024",
	} {
		ex := strings.Count(body, "{{")
		if got := fmt.Sprint(reviewProblems(body, ex)); !strings.Contains(got, want) {
			t.Errorf("%q: %s, want %q", body, got, want)
		}
	}
}
