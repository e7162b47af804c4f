package store_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"sendbox/store"
)

// TestFillVariables: a template's default mapping fills each variable from
// the contact (name, first name, phone, an attribute, a fixed text), uses
// the fallback when the contact has no value, and names what stays empty.
func TestFillVariables(t *testing.T) {
	comps, _ := json.Marshal([]map[string]any{
		{"type": "HEADER", "format": "TEXT", "text": "For {{1}}"},
		{"type": "BODY", "text": "Hi {{1}}, your {{2}} in {{3}} is ready; call {{4}}. {{5}}"},
	})
	tp := &store.Template{Components: comps, VariableMap: store.VariableMap{
		"1": {From: "first_name", Fallback: "there"},
		"2": {From: "attribute:product"},
		"3": {From: "attribute:city", Fallback: "our shop"},
		"4": {From: "text", Value: "+39 02 1234"},
	}}
	vals, missing := tp.FillVariables(store.ContactFields{Name: "Anna Rossi", WaID: "393331234567", Attributes: map[string]string{"product": "serum"}})
	if fmt.Sprint(vals) != "map[1:Anna 2:serum 3:our shop 4:+39 02 1234]" || fmt.Sprint(missing) != "[5]" {
		t.Errorf("filled %v, missing %v", vals, missing)
	}
	vals, missing = tp.FillVariables(store.ContactFields{})
	if vals["1"] != "there" || fmt.Sprint(missing) != "[2 5]" {
		t.Errorf("empty contact: filled %v, missing %v", vals, missing)
	}
	if err := (store.VariableMap{"1": {From: "email"}}).Check(); err == nil {
		t.Error("an unknown source was accepted")
	}
}
