package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"sendbox/accounts"
	"sendbox/sendboxtest"
)

// TestMyAccountForEveryRole: "My account" is each user's own page, for
// every role: their name and address, the password form and their
// notification choices, and never the WhatsApp settings (with the webhook's
// verify token) that it showed before.
func TestMyAccountForEveryRole(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	browsers := map[string]*browser{"owner": owner}
	for _, role := range []string{"admin", "agent", "viewer"} {
		browsers[role] = userBrowser(t, a, role)
	}
	for role, b := range browsers {
		resp, body := b.get("/settings/account")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: My account answers %d", role, resp.StatusCode)
		}
		if strings.Contains(body, sendboxtest.VerifyToken) || strings.Contains(body, "/settings/whatsapp/test") {
			t.Errorf("%s: My account shows the WhatsApp settings", role)
		}
		wants := []string{`action="/settings/password"`, `action="/settings/account"`, `name="email"`, `id="pw-current"`}
		if role == "viewer" {
			wants = append(wants, "Viewers are not alerted")
		} else {
			wants = append(wants, `name="email_urgent"`, `id="nf-browser"`)
		}
		for _, want := range wants {
			if !strings.Contains(body, want) {
				t.Errorf("%s: My account lacks %s", role, want)
			}
		}
	}

	// An agent renames themselves and changes their address; the address
	// needs their password.
	agent := browsers["agent"]
	resp, body := agent.post("/settings/account", url.Values{"name": {"Anna Agente"}, "email": {"anna@example.com"},
		"current": {"not my password"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "current password is not right") {
		t.Fatalf("a new address without the password: %d", resp.StatusCode)
	}
	if u, _ := a.Store.UserByEmail(context.Background(), "agent@example.com"); u == nil || u.Name != "Agent" {
		t.Fatalf("a refused change was half-written: %+v", u)
	}
	resp, _ = agent.post("/settings/account", url.Values{"name": {"Anna Agente"}, "email": {"anna@example.com"},
		"current": {"password-of-agent"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save my account: %d", resp.StatusCode)
	}
	u, err := a.Store.UserByEmail(context.Background(), "anna@example.com")
	if err != nil || u.Name != "Anna Agente" || u.Role != accounts.Agent {
		t.Fatalf("after saving: %+v %v", u, err)
	}
	// A name alone needs no password; an address taken by another is refused.
	if resp, _ := agent.post("/settings/account", url.Values{"name": {"Anna A."}, "email": {"anna@example.com"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("rename: %d", resp.StatusCode)
	}
	resp, body = agent.post("/settings/account", url.Values{"name": {"Anna A."}, "email": {"admin@example.com"},
		"current": {"password-of-agent"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "already") {
		t.Fatalf("someone else's address: %d", resp.StatusCode)
	}

	// The password form of the page works for a viewer too.
	viewer := browsers["viewer"]
	viewer.get("/settings/account")
	resp, _ = viewer.post("/settings/password", url.Values{"current": {"password-of-viewer"},
		"password": {"a brand new passphrase"}, "password2": {"a brand new passphrase"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/settings/account?ok=password" {
		t.Fatalf("viewer's password change: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := viewer.get("/settings/account?ok=password"); !strings.Contains(body, `id="pw-current"`) {
		t.Fatal("after a password change My account does not show the account page")
	}
}

// TestSetupCreatesTheDefaultTeam: the owner's setup makes the team
// "Everyone" with the owner in it, the assistant's escalations go to it (so
// an urgent conversation is assigned to someone), and agents invited later
// join it; viewers do not.
func TestSetupCreatesTheDefaultTeam(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	owner := setupOwner(t, a)
	ctx := context.Background()
	teams, err := a.Store.ListTeams(ctx)
	if err != nil || len(teams) != 1 || teams[0].Name != "Everyone" || len(teams[0].Members) != 1 {
		t.Fatalf("teams after setup: %+v %v", teams, err)
	}
	if got := a.Assistant.Settings().TeamID; got != teams[0].ID {
		t.Fatalf("escalations go to team %d, not the default team %d", got, teams[0].ID)
	}
	for _, inv := range []struct{ email, role string }{{"ag@example.com", "agent"}, {"vw@example.com", "viewer"}} {
		owner.get("/settings/team")
		if resp, body := owner.post("/settings/users", url.Values{"name": {inv.role}, "email": {inv.email}, "role": {inv.role}}); resp.StatusCode != 200 {
			t.Fatalf("invite: %d %s", resp.StatusCode, body)
		}
	}
	teams, _ = a.Store.ListTeams(ctx)
	ag, _ := a.Store.UserByEmail(ctx, "ag@example.com")
	vw, _ := a.Store.UserByEmail(ctx, "vw@example.com")
	if len(teams[0].Members) != 2 || !contains(teams[0].Members, ag.ID) || contains(teams[0].Members, vw.ID) {
		t.Fatalf("the default team after two invitations: %v", teams[0].Members)
	}

	// An escalation is assigned to the team.
	m := say(t, a, "393471112223", "Maria", "ho un forte dolore e sanguina")
	sendboxtest.Eventually(t, 20*time.Second, "the escalation to reach the default team", func() bool {
		c, err := a.Store.ConversationByID(ctx, m.ConversationID)
		return err == nil && c.Urgent && c.TeamID == teams[0].ID
	})
}

func contains(list []int64, id int64) bool {
	for _, x := range list {
		if x == id {
			return true
		}
	}
	return false
}
