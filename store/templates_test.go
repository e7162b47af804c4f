package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

// TestTemplateLookupFollowsSync: TemplateByName keeps what it read, and a
// sync (ReplaceTemplates) is seen at once: a category Meta changed, a
// template Meta deleted, one Meta approved since.
func TestTemplateLookupFollowsSync(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	comps := json.RawMessage(`[{"type":"BODY","text":"Hi {{1}}"}]`)
	if err := s.ReplaceTemplates(ctx, []Template{{Name: "offer", Language: "it", Category: "UTILITY", Status: "APPROVED", Components: comps}}); err != nil {
		t.Fatal(err)
	}
	tp, err := s.TemplateByName(ctx, "offer", "it")
	if err != nil || tp.Category != "UTILITY" {
		t.Fatalf("first read: %+v %v", tp, err)
	}
	tp.Category = "changed by the caller"
	if again, _ := s.TemplateByName(ctx, "offer", "it"); again.Category != "UTILITY" {
		t.Fatalf("a caller's change leaked into the next read: %q", again.Category)
	}
	if err := s.ReplaceTemplates(ctx, []Template{{Name: "offer", Language: "it", Category: "MARKETING", Status: "APPROVED", Components: comps},
		{Name: "new_one", Language: "it", Category: "UTILITY", Status: "APPROVED", Components: comps}}); err != nil {
		t.Fatal(err)
	}
	if tp, _ := s.TemplateByName(ctx, "offer", "it"); tp.Category != "MARKETING" {
		t.Fatalf("after a sync that recategorised it: %q", tp.Category)
	}
	if _, err := s.TemplateByName(ctx, "new_one", "it"); err != nil {
		t.Fatalf("a template added by a sync: %v", err)
	}
	if err := s.ReplaceTemplates(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TemplateByName(ctx, "offer", "it"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a template the sync removed: %v", err)
	}
}
