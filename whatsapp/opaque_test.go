package whatsapp

import (
	"errors"
	"strings"
	"testing"
)

func TestOpaqueKeepsTheCallersValue(t *testing.T) {
	id := strings.Repeat("a", SendIDLen)
	for _, caller := range []string{"", "crm-42", "sbx:zzzz;theirs", ";", strings.Repeat("é", MaxCallerOpaque)} {
		v := TagOpaque(id, caller)
		gotID, gotCaller := SplitOpaque(v)
		if gotID != id || gotCaller != caller {
			t.Errorf("%q: split into %q, %q", caller, gotID, gotCaller)
		}
		if err := validateOpaque(v); err != nil {
			t.Errorf("%q: the tagged value is refused: %v", caller, err)
		}
	}
	// Values sendbox did not tag are the caller's, whole.
	for _, v := range []string{"", "ticket-7", "sbx:", "sbx:;x", "sbx:abc"} {
		if id, caller := SplitOpaque(v); id != "" || caller != v {
			t.Errorf("%q: split into %q, %q", v, id, caller)
		}
	}
	m := &OutboundMessage{To: "+16505551234", Type: "text", Text: &Text{Body: "hi"}, BizOpaque: strings.Repeat("x", MaxBizOpaque+1)}
	var ve *ValidationError
	if err := m.Validate(); !errors.As(err, &ve) || ve.Code != "biz_opaque_too_long" || ve.Field != "biz_opaque_callback_data" {
		t.Fatalf("513 characters: %v", err)
	}
	m.BizOpaque = m.BizOpaque[1:]
	if err := m.Validate(); err != nil {
		t.Fatalf("512 characters: %v", err)
	}
}
