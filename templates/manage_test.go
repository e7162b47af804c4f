package templates

import (
	"encoding/json"
	"fmt"
	"testing"

	"sendbox/store"
	"sendbox/whatsapp"
)

// TestParamsFor: the parameters filled from a template's default mapping
// pass the same check sendbox applies to every template send (Meta's
// 132000 rules), named or positional, URL button included; what cannot be
// filled is named.
func TestParamsFor(t *testing.T) {
	comps, _ := json.Marshal([]whatsapp.TemplateDefComponent{
		{Type: "HEADER", Format: "TEXT", Text: "For {{1}}"},
		{Type: "BODY", Text: "Hi {{1}}, your {{2}} is ready."},
		{Type: "BUTTONS", Buttons: []whatsapp.TemplateDefButton{{Type: "QUICK_REPLY", Text: "OK"}, {Type: "URL", Text: "Track", URL: "https://t.example.com/{{1}}"}}},
	})
	tp := &store.Template{Name: "ready", Language: "en", Components: comps, VariableMap: store.VariableMap{
		"1": {From: "first_name", Fallback: "there"}, "2": {From: "attribute:product"}, "button_1": {From: "attribute:order"}}}
	c := store.ContactFields{Name: "Anna Rossi", Attributes: map[string]string{"product": "serum", "order": "A42"}}
	got, missing, err := ParamsFor(tp, c)
	if err != nil || len(missing) != 0 {
		t.Fatalf("params: %v %v", missing, err)
	}
	spec, _ := whatsapp.ParseTemplate(comps)
	if err := spec.CheckParams(&whatsapp.Template{Name: "ready", Components: got}); err != nil {
		t.Fatalf("the filled parameters fail the send check: %v\n%+v", err, got)
	}
	if b, _ := json.Marshal(got); string(b) != `[{"type":"header","parameters":[{"type":"text","text":"Anna"}]},{"type":"body","parameters":[{"type":"text","text":"Anna"},{"type":"text","text":"serum"}]},{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"A42"}]}]` {
		t.Errorf("components: %s", b)
	}
	_, missing, _ = ParamsFor(tp, store.ContactFields{Name: "Bo"})
	if fmt.Sprint(missing) != "[2 button_1]" {
		t.Errorf("missing: %v", missing)
	}

	named, _ := json.Marshal([]whatsapp.TemplateDefComponent{{Type: "BODY", Text: "Hi {{first_name}}, use {{code}}."}})
	tn := &store.Template{Components: named, VariableMap: store.VariableMap{"first_name": {From: "name"}, "code": {From: "text", Value: "SPRING"}}}
	got, missing, _ = ParamsFor(tn, store.ContactFields{Name: "Anna"})
	spec, _ = whatsapp.ParseTemplate(named)
	if len(missing) != 0 || spec.CheckParams(&whatsapp.Template{Components: got}) != nil || got[0].Parameters[1].ParameterName != "code" {
		t.Errorf("named: %+v %v", got, missing)
	}
}

// TestCatalogueSubmittable: every suggested wording passes the checks Meta
// applies at submission, so the one-click shortcut never ends in a refusal.
func TestCatalogueSubmittable(t *testing.T) {
	for _, c := range Catalogue() {
		sub, ok := FromCatalogue(c.Name, c.Language)
		if !ok {
			t.Fatalf("%s/%s not found", c.Name, c.Language)
		}
		if err := sub.Definition.Validate(true); err != nil {
			t.Errorf("%s/%s: %v", c.Name, c.Language, err)
		}
	}
}
