package templates

import (
	"fmt"
	"regexp"
	"testing"
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
	if tp, ok := Find("shipping_update", "en_US"); !ok || tp.Language != "en_US" || tp.Body != "Your order {{1}} is on its way with {{2}}. Track it here: {{3}}" {
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
