package flows_test

import (
	"encoding/json"
	"testing"

	"sendbox/flows"
	"sendbox/templates"
	"sendbox/whatsapp/sim"
)

// TestReadyTemplatesInCatalogue: every template a ready-made flow sends is
// in the catalogue with as many parameters as the step gives it, and the
// sandbox's simulator approves the catalogue as it is (one source).
func TestReadyTemplatesInCatalogue(t *testing.T) {
	approved := map[string]sim.Template{}
	for _, s := range sim.DefaultTemplates() {
		approved[s.Name+"/"+s.Language] = s
	}
	for _, c := range templates.Catalogue() {
		s, ok := approved[c.Name+"/"+c.Language]
		if !ok || s.Body != c.Body || s.Category != c.Category || len(s.Buttons) != len(c.Buttons) {
			t.Errorf("the simulator's %s/%s is %+v, the catalogue's %+v", c.Name, c.Language, s, c)
		}
	}
	ready, err := flows.Ready()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range ready {
		var d flows.Definition
		if err := json.Unmarshal(r.Definition, &d); err != nil {
			t.Fatal(err)
		}
		for _, s := range d.Steps {
			if s.Template == nil {
				continue
			}
			n++
			c, ok := templates.Find(s.Template.Name, s.Template.Language)
			if !ok || len(c.Example) != len(s.Template.Params) {
				t.Errorf("%s, step %s: %s/%s is not in the catalogue with %d parameters", r.Key, s.ID, s.Template.Name, s.Template.Language, len(s.Template.Params))
			}
		}
	}
	if n == 0 {
		t.Fatal("no ready-made flow sends a template")
	}
}
