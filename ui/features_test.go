package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"sendbox/business"
	"sendbox/schedule"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// TestInviteFlow: an admin invites an agent, who sets a password through
// the one-time link and signs in; the owner role stays the owners' to give.
func TestInviteFlow(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	owner.get("/settings/team")
	resp, body := owner.post("/settings/users", url.Values{"email": {"Luca@Clinica.it"}, "name": {"Luca"}, "role": {"agent"}})
	link := regexp.MustCompile(`http://[^<"]+/invite\?token=[A-Za-z0-9_-]+`).FindString(body)
	if resp.StatusCode != 200 || link == "" {
		t.Fatalf("invite: %d, link %q", resp.StatusCode, link)
	}
	if _, body := owner.get("/settings/team"); strings.Contains(body, link) {
		t.Fatal("the invitation link is shown again")
	}
	if resp, _ := owner.post("/settings/users", url.Values{"email": {"luca@clinica.it"}, "name": {"Luca 2"}, "role": {"agent"}}); resp.StatusCode != 422 {
		t.Fatalf("second invitation to the same address: %d", resp.StatusCode)
	}
	// An invited user cannot sign in before choosing a password.
	agent := newBrowser(t, a)
	agent.get("/login")
	if resp, _ := agent.post("/login", url.Values{"email": {"luca@clinica.it"}, "password": {""}}); resp.StatusCode != 401 {
		t.Fatalf("invited user logged in without a password: %d", resp.StatusCode)
	}
	u, _ := url.Parse(link)
	if resp, _ := agent.get(u.RequestURI()); resp.StatusCode != 200 {
		t.Fatalf("invite form: %d", resp.StatusCode)
	}
	resp, _ = agent.post("/invite", url.Values{"token": {u.Query().Get("token")}, "password": {"luca's own password"}, "password2": {"luca's own password"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/inbox" {
		t.Fatalf("accept invite: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := agent.get("/inbox"); resp.StatusCode != 200 {
		t.Fatalf("agent inbox: %d", resp.StatusCode)
	}
	if resp, _ := newBrowser(t, a).get(u.RequestURI()); resp.StatusCode != 404 {
		t.Fatalf("invite link reused: %d", resp.StatusCode)
	}
	// The last owner cannot be demoted, nor can people change their own role.
	me, _ := a.Store.UserByEmail(context.Background(), ownerEmail)
	owner.get("/settings/team")
	if resp, body := owner.post(fmt.Sprintf("/settings/users/%d", me.ID), url.Values{"name": {"Owner"}, "role": {"admin"}}); resp.StatusCode != 422 ||
		!strings.Contains(body, "own role") {
		t.Fatalf("owner demoting themselves: %d", resp.StatusCode)
	}
	// Disabling someone ends their sessions at once.
	luca, _ := a.Store.UserByEmail(context.Background(), "luca@clinica.it")
	owner.get("/settings/team")
	if resp, _ := owner.post(fmt.Sprintf("/settings/users/%d", luca.ID), url.Values{"name": {"Luca"}, "role": {"agent"}, "disabled": {"on"}}); resp.StatusCode != 303 {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	if resp, _ := agent.get("/inbox"); resp.StatusCode != 303 {
		t.Fatalf("a disabled user's session still works: %d", resp.StatusCode)
	}
}

// TestAPIKeysPage: a key made in the panel is shown once, works with the
// API, and stops working the moment it is revoked.
func TestAPIKeysPage(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	owner.get("/settings/api-keys")
	resp, body := owner.post("/settings/api-keys", url.Values{"name": {"booking system"}, "role": {"agent"}})
	key := regexp.MustCompile(`sbx_[a-z2-7]{32}`).FindString(body)
	if resp.StatusCode != 200 || key == "" {
		t.Fatalf("create key: %d", resp.StatusCode)
	}
	if code, _ := a.DoAs(key, "GET", "/api/v1/contacts", nil); code != 200 {
		t.Fatalf("new key: %d", code)
	}
	if _, body := owner.get("/settings/api-keys"); strings.Contains(body, key) || !strings.Contains(body, key[:10]) {
		t.Fatal("the key list shows the whole key, or not its prefix")
	}
	k, _ := a.Store.ListAPIKeys(context.Background())
	var id int64
	for _, x := range k {
		if x.Name == "booking system" {
			id = x.ID
		}
	}
	owner.get("/settings/api-keys")
	if resp, _ := owner.post(fmt.Sprintf("/settings/api-keys/%d/revoke", id), nil); resp.StatusCode != 303 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if code, _ := a.DoAs(key, "GET", "/api/v1/contacts", nil); code != 401 {
		t.Fatalf("revoked key still works: %d", code)
	}
}

// TestConversationActions: assign, team, labels, snooze and its waking,
// resolve and reopen, all on the timeline.
func TestConversationActions(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	ctx := context.Background()
	conv := conversation(t, a)
	path := fmt.Sprintf("/inbox/%d", conv)
	lbl, _ := a.Store.CreateLabel(ctx, "Preventivo", 3)
	team, _ := a.Store.CreateTeam(ctx, "Front desk")
	me, _ := a.Store.UserByEmail(ctx, ownerEmail)
	steps := []struct {
		path string
		form url.Values
		want int
	}{
		{"/assign", url.Values{"assignee": {"me"}}, 204},
		{"/assign", url.Values{"team": {fmt.Sprint(team.ID)}}, 204},
		{"/assign", url.Values{"assignee": {"99999"}}, 422},
		// A label deleted since the page was drawn is refused, not silently
		// dropped: the agent reloads and sees the labels there are.
		{"/labels", url.Values{"label": {fmt.Sprint(lbl.ID), "424242"}}, 422},
		{"/labels", url.Values{"label": {fmt.Sprint(lbl.ID)}}, 204},
		{"/status", url.Values{"action": {"snooze"}, "snooze": {"custom"}, "until": {"2001-01-01T10:00"}}, 422},
		{"/status", url.Values{"action": {"snooze"}, "snooze": {"1h"}}, 204},
		{"/status", url.Values{"action": {"explode"}}, 400},
	}
	for _, s := range steps {
		owner.get(path)
		if resp, _ := owner.post(path+s.path, s.form); resp.StatusCode != s.want {
			t.Fatalf("%s %v: %d, want %d", s.path, s.form, resp.StatusCode, s.want)
		}
	}
	c, _ := a.Store.ConversationByID(ctx, conv)
	if c.AssigneeID != me.ID || c.TeamID != team.ID || len(c.Labels) != 1 || c.Status != "snoozed" || c.SnoozedUntil.IsZero() {
		t.Fatalf("conversation: %+v", c)
	}
	// The snooze wakes when its time has come, once.
	if n, _ := a.Scheduler.FireDue(ctx, time.Now()); n != 0 {
		t.Fatal("woke too early")
	}
	if n, _ := a.Scheduler.FireDue(ctx, time.Now().Add(2*time.Hour)); n != 1 {
		t.Fatal("did not wake")
	}
	if n, _ := a.Scheduler.FireDue(ctx, time.Now().Add(2*time.Hour)); n != 0 {
		t.Fatal("woke twice")
	}
	// Until we open: the business profile's next opening time, in its time zone.
	owner.get(path)
	if resp, body := owner.post(path+"/status", url.Values{"action": {"snooze"}, "snooze": {"open"}}); resp.StatusCode != 204 {
		t.Fatalf("snooze until we open: %d %s", resp.StatusCode, body)
	}
	prof, _ := business.Load(ctx, a.Store)
	want, _ := schedule.NextOpen(prof, time.Now())
	if c, _ := a.Store.ConversationByID(ctx, conv); c.Status != "snoozed" || !c.SnoozedUntil.Equal(want.Truncate(time.Millisecond)) {
		t.Fatalf("snoozed until %s, want the next opening %s", c.SnoozedUntil, want)
	}
	owner.get(path)
	owner.post(path+"/status", url.Values{"action": {"resolve"}})
	if c, _ := a.Store.ConversationByID(ctx, conv); c.Status != "resolved" {
		t.Fatalf("status %s", c.Status)
	}
	_, body := owner.get(path + "/details?part=details")
	for _, want := range []string{"Owner assigned the conversation to Owner",
		"Owner gave the conversation to the team Front desk", "Owner set the labels: Preventivo",
		"Snooze ended: Sendbox reopened the conversation", "Owner resolved the conversation"} {
		if !strings.Contains(body, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	// A new message from the customer after resolving starts a new conversation.
	conversation(t, a)
	list, _, _, _ := a.Store.ListConversations(ctx, store.ConversationFilter{})
	if len(list) != 2 {
		t.Fatalf("%d conversations after the customer wrote again", len(list))
	}
	// Filters of the list.
	for q, want := range map[string]string{"status=resolved": "Anna", "status=open&assignee=mine": "No conversations here",
		"status=&label=" + fmt.Sprint(lbl.ID): "Preventivo"} {
		if _, body := owner.get("/inbox/list?" + q); !strings.Contains(body, want) {
			t.Errorf("list %s lacks %q", q, want)
		}
	}
	// Words in the search box search the index, which follows the store a
	// moment later.
	sendboxtest.Eventually(t, 20*time.Second, "the search box to find the customer", func() bool {
		_, body := owner.get("/inbox/list?status=&q=ann")
		return strings.Contains(body, "<mark>Anna</mark>")
	})
	if _, body := owner.get("/inbox/list?status=&q=zzzqqq"); !strings.Contains(body, "Nothing found") {
		t.Error("a search for nothing does not say so")
	}
}

// TestReplyWithAttachmentAndCanned: an agent sends a photo with a caption;
// the simulator receives it by media id and the thread shows it from disk.
func TestReplyWithAttachmentAndCanned(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	conv := conversation(t, a)
	owner.get("/settings/canned")
	if resp, _ := owner.post("/settings/canned", url.Values{"shortcut": {"/orari"}, "body": {"Siamo aperti dalle 9 alle 18."}}); resp.StatusCode != 303 {
		t.Fatalf("canned: %d", resp.StatusCode)
	}
	if _, body := owner.get(fmt.Sprintf("/inbox/%d", conv)); !strings.Contains(body, "/orari") {
		t.Fatal("the composer does not offer the canned reply")
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", owner.csrf)
	mw.WriteField("body", "Ecco la mappa dello studio")
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{`form-data; name="file"; filename="mappa.png"`}
	h["Content-Type"] = []string{"image/png"}
	fw, _ := mw.CreatePart(h)
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 2000)...)
	fw.Write(png)
	mw.Close()
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/inbox/%d/reply", a.URL(), conv), &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if resp, body := owner.do(req); resp.StatusCode != 204 {
		t.Fatalf("reply with a file: %d %s", resp.StatusCode, body)
	}
	var m *store.Message
	sendboxtest.Eventually(t, 20*time.Second, "the photo to be sent", func() bool {
		msgs, _, _, _ := a.Store.ListMessages(context.Background(), store.MessageFilter{ConversationID: conv, Direction: store.Outbound})
		if len(msgs) == 1 && msgs[0].WAMID != "" {
			m = &msgs[0]
		}
		return m != nil
	})
	if m.Type != "image" || m.Media == nil || m.Media.Path == "" || m.Text != "Ecco la mappa dello studio" {
		t.Fatalf("sent: %+v %+v", m, m.Media)
	}
	resp, body := owner.get(fmt.Sprintf("/media/%d", m.ID))
	if resp.StatusCode != 200 || body != string(png) || resp.Header.Get("Content-Security-Policy") != "sandbox" {
		t.Fatalf("media: %d %d bytes %q", resp.StatusCode, len(body), resp.Header.Get("Content-Security-Policy"))
	}
	if phone := a.Sim.Phone("393471112222", false); len(phone) != 2 || phone[1].Type != "image" {
		t.Fatalf("the customer's phone: %+v", phone)
	}
}

func TestSettingsForms(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	// The business profile: validated, saved, shown back.
	form := url.Values{"name": {"Clinica Sorriso"}, "timezone": {"Europe/Rome"}, "address": {"Via Roma 1, Bologna"},
		"services": {"Pulizia dentale | €80 | 45 min\nSbiancamento | €250"}}
	for i := 0; i < 7; i++ {
		form.Set(fmt.Sprintf("open%d", i), "09:00")
		form.Set(fmt.Sprintf("close%d", i), "18:00")
	}
	form.Set("closed6", "on")
	owner.get("/settings/profile")
	if resp, body := owner.post("/settings/profile", form); resp.StatusCode != 303 {
		t.Fatalf("profile: %d %s", resp.StatusCode, body)
	}
	if _, body := owner.get("/settings/profile"); !strings.Contains(body, "Sbiancamento | €250") || !strings.Contains(body, "Clinica Sorriso") {
		t.Fatal("profile not shown back")
	}
	form.Set("timezone", "Mars/Olympus")
	if resp, body := owner.post("/settings/profile", form); resp.StatusCode != 422 || !strings.Contains(body, "unknown time zone") {
		t.Fatalf("bad time zone: %d", resp.StatusCode)
	}
	form.Set("timezone", "Europe/Rome")
	form.Set("close2", "08:00")
	if resp, body := owner.post("/settings/profile", form); resp.StatusCode != 422 || !strings.Contains(body, "Wednesday") {
		t.Fatalf("closing before opening: %d", resp.StatusCode)
	}
	form.Set("close2", "18:00")
	// Closed days and special hours: saved, shown back as written, and
	// what they get wrong said with the line to fix, the text kept.
	form.Set("closures", "2026-12-24 - 2026-12-26 | Natale\n2027-01-06")
	form.Set("special", "2026-12-31 | 09:00-13:00 | San Silvestro")
	if resp, body := owner.post("/settings/profile", form); resp.StatusCode != 303 {
		t.Fatalf("closures: %d %s", resp.StatusCode, body)
	}
	if _, body := owner.get("/settings/profile"); !strings.Contains(body, "2026-12-24 - 2026-12-26 | Natale") ||
		!strings.Contains(body, "2026-12-31 | 09:00-13:00 | San Silvestro") {
		t.Fatal("closures not shown back")
	}
	if p, _ := business.Load(context.Background(), a.Store); p.OpenAt(time.Date(2026, 12, 25, 10, 0, 0, 0, p.Location())) ||
		!p.OpenAt(time.Date(2026, 12, 31, 12, 0, 0, 0, p.Location())) || p.OpenAt(time.Date(2026, 12, 31, 14, 0, 0, 0, p.Location())) {
		t.Fatalf("stored closures %+v, special hours %+v", p.Closures, p.Special)
	}
	for field, c := range map[string]struct{ value, want string }{
		"closures": {"2026-12-26 - 2026-12-24 | Natale", "closure 1: it ends (2026-12-24) before it starts"},
		"special":  {"2026-12-31 | 13:00-09:00", "closing time must come after opening time"},
	} {
		good := form.Get(field)
		form.Set(field, c.value)
		if resp, body := owner.post("/settings/profile", form); resp.StatusCode != 422 || !strings.Contains(body, c.want) ||
			!strings.Contains(body, c.value) {
			t.Fatalf("%s %q: %d, want an error saying %q and the text kept", field, c.value, resp.StatusCode, c.want)
		}
		form.Set(field, good)
	}
	// Testing the connection asks the (simulated) Graph API about the number.
	owner.get("/settings/whatsapp")
	if resp, body := owner.post("/settings/whatsapp/test", nil); resp.StatusCode != 200 || !strings.Contains(body, "GREEN") ||
		!strings.Contains(body, "credentials work") {
		t.Fatalf("test connection: %d %s", resp.StatusCode, body)
	}
	// Templates sync from the (simulated) WhatsApp Business Account.
	owner.get("/settings/templates")
	if resp, _ := owner.post("/settings/templates/sync", nil); resp.StatusCode != 303 {
		t.Fatalf("sync: %d", resp.StatusCode)
	}
	if _, body := owner.get("/settings/templates"); !strings.Contains(body, "appointment_reminder") || !strings.Contains(body, "APPROVED") {
		t.Fatal("templates not listed")
	}
	// Labels: created, duplicate refused, deleted.
	owner.get("/settings/labels")
	owner.post("/settings/labels", url.Values{"name": {"VIP"}, "color": {"4"}})
	if resp, _ := owner.post("/settings/labels", url.Values{"name": {"vip"}, "color": {"1"}}); resp.StatusCode != 422 {
		t.Fatalf("duplicate label: %d", resp.StatusCode)
	}
	// Own password: the current one is required; other sessions end.
	owner.get("/settings/account")
	if resp, _ := owner.post("/settings/password", url.Values{"current": {"wrong"}, "password": {"a brand new passphrase"}, "password2": {"a brand new passphrase"}}); resp.StatusCode != 422 {
		t.Fatalf("password change without the current one: %d", resp.StatusCode)
	}
	if resp, _ := owner.post("/settings/password", url.Values{"current": {ownerPassword}, "password": {"a brand new passphrase"}, "password2": {"a brand new passphrase"}}); resp.StatusCode != 303 {
		t.Fatalf("password change: %d", resp.StatusCode)
	}
	if resp, _ := owner.get("/inbox"); resp.StatusCode != 200 {
		t.Fatal("the session that changed the password was signed out")
	}
}

func TestContactEdit(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	conv := conversation(t, a)
	c, _ := a.Store.ConversationByID(context.Background(), conv)
	path := fmt.Sprintf("/contacts/%d", c.ContactID)
	owner.get(path)
	resp, _ := owner.post(path, url.Values{"name": {"Anna Neri"}, "email": {"anna@example.com"}, "tags": {"vip, paziente, VIP"},
		"attributes": {"plate = AB123CD\nallergie = penicillina"}, "consent": {"opted_in"}, "notes": {"Preferisce il mattino"}})
	if resp.StatusCode != 303 {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	got, _ := a.Store.ContactWithTags(context.Background(), c.ContactID)
	if got.Name != "Anna Neri" || len(got.Tags) != 2 || got.Attributes["plate"] != "AB123CD" || got.Consent != "opted_in" ||
		!strings.Contains(got.ConsentSource, "Owner") {
		t.Fatalf("contact: %+v", got)
	}
	owner.get(path)
	if resp, body := owner.post(path, url.Values{"name": {"Anna"}, "attributes": {"no equals sign"}}); resp.StatusCode != 422 || !strings.Contains(body, "key = value") {
		t.Fatalf("bad attributes: %d", resp.StatusCode)
	}
	for q, want := range map[string]string{"q=anna": "Anna Neri", "tag=vip": "Anna Neri", "consent=opted_out": "No contacts match"} {
		if _, body := owner.get("/contacts?" + q); !strings.Contains(body, want) {
			t.Errorf("contacts?%s lacks %q", q, want)
		}
	}
	viewer := userBrowser(t, a, "viewer")
	if resp, _ := viewer.post(path, url.Values{"name": {"X"}}); resp.StatusCode != 403 {
		t.Fatalf("viewer edits a contact: %d", resp.StatusCode)
	}
}
