package store

import (
	"reflect"
	"testing"

	"sendbox/events"
)

// TestChangeData: a contact event names the tags added and removed
// (without regard to case) and the attributes set or removed, and nothing
// when nothing changed.
func TestChangeData(t *testing.T) {
	before := contactState{attrs: map[string]string{"city": "Roma", "status": "new", "gone": "x"}, tags: []string{"VIP", "lead"}}
	after := contactState{attrs: map[string]string{"city": "Roma", "status": "paid"}, tags: []string{"vip", "customer"}}
	got := changeData(before, after)
	want := map[string]any{
		events.DataTagsAdded:   []string{"customer"},
		events.DataTagsRemoved: []string{"lead"},
		events.DataAttributes:  map[string]string{"status": "paid", "gone": ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if d := changeData(before, before); d != nil {
		t.Fatalf("no change gave %v", d)
	}
}
