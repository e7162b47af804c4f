package store

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
)

// TestUpgradeGivesTheDefaultTeam: an install from before migration 8 with
// people but no team gets the default team with its owner, admins and
// agents in it, and the assistant's escalations go to it; it happens once.
func TestUpgradeGivesTheDefaultTeam(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sendbox.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := s.CreateUser(ctx, "owner@example.com", "Owner", "owner", "hash")
	agent, _ := s.CreateUser(ctx, "agent@example.com", "Agent", "agent", "hash")
	viewer, _ := s.CreateUser(ctx, "viewer@example.com", "Viewer", "viewer", "hash")
	if err := s.SetSetting(ctx, "assistant", `{"enabled":true,"tone":"warm","team_id":0}`); err != nil {
		t.Fatal(err)
	}
	// Back to the schema before migration 8, as an older sendbox left it.
	undoMigrations(t, s, 8)
	s.Close()

	s, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	teams, err := s.ListTeams(ctx)
	if err != nil || len(teams) != 1 || teams[0].Name != DefaultTeamName {
		t.Fatalf("teams after the upgrade: %+v %v", teams, err)
	}
	if m := teams[0].Members; !slices.Contains(m, owner.ID) || !slices.Contains(m, agent.ID) || slices.Contains(m, viewer.ID) {
		t.Fatalf("the default team's members: %v", m)
	}
	v, _ := s.Setting(ctx, "assistant")
	var as struct {
		Tone   string `json:"tone"`
		TeamID int64  `json:"team_id"`
	}
	if err := json.Unmarshal([]byte(v), &as); err != nil || as.TeamID != teams[0].ID || as.Tone != "warm" {
		t.Fatalf("the assistant's settings after the upgrade: %s", v)
	}
	// Someone invited later joins it.
	late, _ := s.CreateUser(ctx, "late@example.com", "Late", "agent", "")
	if err := s.JoinDefaultTeam(ctx, late.ID); err != nil {
		t.Fatal(err)
	}
	if teams, _ := s.ListTeams(ctx); !slices.Contains(teams[0].Members, late.ID) {
		t.Fatalf("an invited agent did not join the default team: %v", teams[0].Members)
	}
	// An owner who deletes every team does not see it come back.
	if err := s.DeleteTeam(ctx, teams[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.JoinDefaultTeam(ctx, late.ID); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if teams, _ := s.ListTeams(ctx); len(teams) != 0 {
		t.Fatalf("a deleted default team came back: %+v", teams)
	}
}
