package store

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestMigrationTagAudiencesBecomeSegments: migration 21 gives each
// campaign made with a tag audience a segment "Tag: ..." with the rule
// "tag has ...", one per tag, and the campaign that segment; a campaign
// with a segment already keeps it.
func TestMigrationTagAudiencesBecomeSegments(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sendbox.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	undoMigrations(t, s, 21)
	var ids []int64
	for _, aud := range []string{`{"tag":"vip"}`, `{"tag":"vip"}`, `{"segment_id":0,"tag":"lead"}`} {
		c, err := s.CreateCampaign(ctx, &Campaign{Name: "old", Audience: json.RawMessage(aud)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	s.Close()
	if s, err = Open(ctx, path, nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	segs, err := s.ListSegments(ctx)
	if err != nil || len(segs) != 2 || segs[0].Name != "Tag: lead" || segs[1].Name != "Tag: vip" ||
		segs[1].Rule.Rules[0].Field != FieldTag || segs[1].Rule.Rules[0].Value != "vip" {
		t.Fatalf("segments %+v %v", segs, err)
	}
	for i, want := range []int64{segs[1].ID, segs[1].ID, segs[0].ID} {
		c, _ := s.CampaignByID(ctx, ids[i])
		var a struct {
			SegmentID int64 `json:"segment_id"`
		}
		if json.Unmarshal(c.Audience, &a); a.SegmentID != want {
			t.Errorf("campaign %d: %s, want segment %d", ids[i], c.Audience, want)
		}
	}
}
