package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sendbox/business"
	"sendbox/outbound"
	"sendbox/sendboxtest"
	"sendbox/store"
)

type segmentResp struct {
	Data struct {
		ID       int64
		Name     string
		Kind     string
		Count    int
		FrozenAt string `json:"frozen_at"`
		Rule     store.SegmentRule
	}
}

func segContact(t *testing.T, a *sendboxtest.App, phone string, tags []string, attrs map[string]string, consent string) int64 {
	t.Helper()
	req := map[string]any{"phone": phone, "name": "C " + phone, "tags": tags, "attributes": attrs}
	if consent != "" {
		req["consent"] = consent
	}
	code, body := a.Do("POST", "/api/v1/contacts", req)
	if code != http.StatusCreated {
		t.Fatalf("create contact: %d %s", code, body)
	}
	return sendboxtest.JSON[struct{ Data struct{ ID int64 } }](t, body).Data.ID
}

func segmentCount(t *testing.T, a *sendboxtest.App, rule any) int {
	t.Helper()
	code, body := a.Do("POST", "/api/v1/segments/count", map[string]any{"rule": rule})
	if code != http.StatusOK {
		t.Fatalf("count: %d %s", code, body)
	}
	return sendboxtest.JSON[struct{ Data struct{ Count int } }](t, body).Data.Count
}

// TestEventsAreKeptPerContact: POST /api/v1/events keeps the event for its
// contact once per key, and segments find who ordered.
func TestEventsAreKeptPerContact(t *testing.T) {
	a := sendboxtest.New(t)
	ev := map[string]any{"name": "order.created", "contact": "+39 347 123 4567", "key": "A-1", "data": map[string]string{"total": "49.90"}}
	var contactID int64
	for i, want := range []string{`"recorded":true`, `"recorded":false`} {
		code, body := a.Do("POST", "/api/v1/events", ev)
		if code != http.StatusAccepted || !strings.Contains(string(body), want) {
			t.Fatalf("send %d: %d %s", i, code, body)
		}
		contactID = sendboxtest.JSON[struct {
			Data struct {
				ContactID int64 `json:"contact_id"`
			}
		}](t, body).Data.ContactID
	}
	ev["key"] = "A-2"
	if code, body := a.Do("POST", "/api/v1/events", ev); code != http.StatusAccepted {
		t.Fatalf("second order: %d %s", code, body)
	}
	code, body := a.Do("GET", fmt.Sprintf("/api/v1/contacts/%d/events", contactID), nil)
	got := sendboxtest.JSON[struct {
		Data []store.ContactEvent
	}](t, body).Data
	if code != http.StatusOK || len(got) != 2 || got[0].Name != "order.created" || got[0].Data["total"] != "49.90" {
		t.Fatalf("events: %d %s", code, body)
	}
	segContact(t, a, "+393470000009", nil, nil, "")
	ordered := map[string]any{"field": "event", "op": "occurred", "key": "order.created", "days": 30}
	if n := segmentCount(t, a, ordered); n != 1 {
		t.Fatalf("ordered within 30 days: %d", n)
	}
	ordered["count"] = 2
	if n := segmentCount(t, a, ordered); n != 1 {
		t.Fatalf("ordered twice: %d", n)
	}
	ordered["count"] = 3
	if n := segmentCount(t, a, ordered); n != 0 {
		t.Fatalf("ordered three times: %d", n)
	}
}

// TestSegmentsAPI: the live count, create, read, members, freeze, change,
// delete, and bad rules refused with where they are wrong.
func TestSegmentsAPI(t *testing.T) {
	a := sendboxtest.New(t)
	for i := range 6 {
		tags := []string{"lead"}
		if i%2 == 0 {
			tags = []string{"vip"}
		}
		consent := "opted_in"
		if i == 4 {
			consent = "opted_out"
		}
		segContact(t, a, fmt.Sprintf("+3934700000%02d", i), tags, map[string]string{"city": []string{"Milano", "Roma"}[i%2]}, consent)
	}
	segContact(t, a, "+33612345678", []string{"vip"}, map[string]string{"city": "Paris"}, "opted_in")
	vipIT := map[string]any{"group": "and", "rules": []any{
		map[string]any{"field": "tag", "op": "has", "value": "VIP"},
		map[string]any{"field": "country", "op": "is", "value": "IT"},
		map[string]any{"group": "not", "rules": []any{map[string]any{"field": "consent", "op": "is", "value": "opted_out"}}},
	}}
	if n := segmentCount(t, a, vipIT); n != 2 {
		t.Fatalf("Italian VIPs with consent: %d, want 2", n)
	}
	if n := segmentCount(t, a, map[string]any{}); n != 7 {
		t.Fatalf("the empty rule: %d, want everyone (7)", n)
	}

	for _, bad := range []struct {
		rule  any
		field string
	}{
		{map[string]any{"field": "c.id) OR (1=1", "op": "has"}, "rule.field"},
		{map[string]any{"group": "and", "rules": []any{map[string]any{"field": "tag", "op": "has", "value": "a"},
			map[string]any{"field": "attribute", "op": "lt", "key": "age", "value": "1; DROP TABLE contacts"}}}, "rule.rules[1].value"},
		{map[string]any{"group": "xor", "rules": []any{}}, "rule.group"},
	} {
		code, body := a.Do("POST", "/api/v1/segments/count", map[string]any{"rule": bad.rule})
		e := sendboxtest.JSON[apiErr](t, body).Error
		if code != http.StatusUnprocessableEntity || e.Code != "invalid_segment" || e.Field != bad.field {
			t.Fatalf("%v: %d %s, want 422 at %s", bad.rule, code, body, bad.field)
		}
	}
	if code, body := a.Do("POST", "/api/v1/segments/count", map[string]any{"rule": map[string]any{"field": "tag", "op": "has", "value": "x", "sql": "1"}}); code != http.StatusBadRequest {
		t.Fatalf("an unknown member of a rule: %d %s", code, body)
	}

	code, body := a.Do("POST", "/api/v1/segments", map[string]any{"name": "Italian VIPs", "rule": vipIT})
	seg := sendboxtest.JSON[segmentResp](t, body).Data
	if code != http.StatusCreated || seg.Kind != "dynamic" || seg.Count != 2 || len(seg.Rule.Rules) != 3 {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, body := a.Do("POST", "/api/v1/segments", map[string]any{"name": "italian vips", "rule": vipIT}); code != http.StatusConflict {
		t.Fatalf("the same name again: %d %s", code, body)
	}
	if code, body := a.Do("POST", "/api/v1/segments", map[string]any{"name": " ", "rule": vipIT}); code != http.StatusUnprocessableEntity ||
		sendboxtest.JSON[apiErr](t, body).Error.Field != "name" {
		t.Fatalf("no name: %d %s", code, body)
	}
	code, body = a.Do("GET", "/api/v1/segments", nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"Italian VIPs"`) || !strings.Contains(string(body), `"total":1`) {
		t.Fatalf("list: %d %s", code, body)
	}
	path := fmt.Sprintf("/api/v1/segments/%d", seg.ID)
	code, body = a.Do("GET", path+"/contacts?limit=1", nil)
	page := sendboxtest.JSON[struct {
		Data       []store.Contact
		Total      int
		NextCursor string `json:"next_cursor"`
	}](t, body)
	if code != http.StatusOK || page.Total != 2 || len(page.Data) != 1 || page.NextCursor == "" || !strings.HasPrefix(page.Data[0].WaID, "39") {
		t.Fatalf("members: %d %s", code, body)
	}

	code, body = a.Do("POST", path+"/freeze", nil)
	if seg := sendboxtest.JSON[segmentResp](t, body).Data; code != http.StatusOK || seg.Kind != "frozen" || seg.FrozenAt == "" || seg.Count != 2 {
		t.Fatalf("freeze: %d %s", code, body)
	}
	segContact(t, a, "+393470000099", []string{"vip"}, nil, "opted_in")
	if n := segmentCount(t, a, vipIT); n != 3 {
		t.Fatalf("the rule now: %d", n)
	}
	if code, body := a.Do("GET", path, nil); code != http.StatusOK || sendboxtest.JSON[segmentResp](t, body).Data.Count != 2 {
		t.Fatalf("frozen: the new VIP is not a member: %d %s", code, body)
	}
	code, body = a.Do("PUT", path, map[string]any{"name": "Italian VIPs", "kind": "dynamic", "rule": vipIT})
	if seg := sendboxtest.JSON[segmentResp](t, body).Data; code != http.StatusOK || seg.Kind != "dynamic" || seg.Count != 3 {
		t.Fatalf("back to dynamic: %d %s", code, body)
	}
	if code, body := a.Do("PUT", path, map[string]any{"name": "x", "kind": "sometimes", "rule": vipIT}); code != http.StatusUnprocessableEntity {
		t.Fatalf("a bad kind: %d %s", code, body)
	}
	if code, body := a.Do("DELETE", path, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", code, body)
	}
	for _, m := range []string{"GET", "DELETE"} {
		if code, _ := a.Do(m, path, nil); code != http.StatusNotFound {
			t.Fatalf("%s a deleted segment: %d", m, code)
		}
	}
	if code, _ := a.Do("POST", path+"/freeze", nil); code != http.StatusNotFound {
		t.Fatalf("freeze a deleted segment: %d", code)
	}
}

// TestSegmentsCountInTheBusinesssZone: the zone of the business's profile
// is the one segment rules count days in. The zone is chosen so that its
// date is not UTC's now (Kiritimati, UTC+14, late in the UTC day; Pago
// Pago, UTC-11, early): a contact whose attribute holds the business's
// today is "within 1 day", one holding UTC's today only when that is the
// business's yesterday.
func TestSegmentsCountInTheBusinesssZone(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	zone := "Pacific/Kiritimati"
	if time.Now().UTC().Hour() < 11 {
		zone = "Pacific/Pago_Pago"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	p, _ := business.Load(ctx, a.Store)
	p.Timezone = zone
	if err := business.Save(ctx, a.Store, p); err != nil {
		t.Fatal(err)
	}
	local, utc := time.Now().In(loc).Format(time.DateOnly), time.Now().UTC().Format(time.DateOnly)
	if local == utc {
		t.Fatalf("%s's date is UTC's: the test proves nothing", zone)
	}
	segContact(t, a, "+393470000001", nil, map[string]string{"visit": local}, "")
	segContact(t, a, "+393470000002", nil, map[string]string{"visit": utc}, "")
	within := map[string]any{"field": "attribute", "op": "within_days", "key": "visit", "days": 1}
	want := 1 // the business's today
	if local > utc {
		want = 2 // UTC's today is the business's yesterday
	}
	if n := segmentCount(t, a, within); n != want {
		t.Fatalf("visited within 1 day in %s (today %s, UTC %s): %d, want %d", zone, local, utc, n, want)
	}
	if n := segmentCount(t, a, map[string]any{"field": "attribute", "op": "after", "key": "visit", "value": min(local, utc)}); n != 1 {
		t.Fatalf("after %s: %d, want 1", min(local, utc), n)
	}
}

// TestDeletingASegmentInUse: a segment that a draft, scheduled, running or
// paused campaign goes to cannot be deleted (409, naming them); once they
// are cancelled, deleted or done, it can. A segment that vanishes anyway
// (deleted behind sendbox's back here) still pauses the campaign that was
// to take its audience.
func TestDeletingASegmentInUse(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	rome, _ := time.LoadLocation("Europe/Rome")
	now := time.Now().In(rome)
	q := outbound.QuietHours{On: true, From: now.Add(-time.Hour).Format("15:04"), To: now.Add(2 * time.Hour).Format("15:04"), Business: rome}
	if err := outbound.SaveQuietHours(ctx, a.Store, q); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		addTagged(t, a, fmt.Sprintf("+3933355%05d", i), "S", "opted_in", "spring")
	}
	seg := tagSegment(t, a, "spring")
	path := fmt.Sprintf("/api/v1/segments/%d", seg)
	mk := func(name string, settings map[string]any) int64 {
		return createCampaign(t, a, map[string]any{"name": name, "template": "seasonal_offer", "language": "en_US",
			"params": offer("SPRING"), "segment_id": seg, "settings": settings})
	}
	// Done: sent outside the quiet hours; it does not hold the segment.
	done := mk("Sent last week", map[string]any{"quiet_hours": false})
	campaignAction(t, a, done, "launch", nil)
	sendboxtest.Eventually(t, 30*time.Second, "the first campaign done", func() bool {
		return campaignState(t, a, done).State == store.CampaignDone
	})
	draft := mk("Spring draft", nil)
	scheduled := mk("Spring later", nil)
	campaignAction(t, a, scheduled, "schedule", map[string]any{"scheduled_at": time.Now().Add(time.Hour)})
	running := mk("Spring held", nil) // held by the quiet hours
	campaignAction(t, a, running, "launch", nil)
	paused := mk("Spring paused", nil)
	campaignAction(t, a, paused, "launch", nil)
	campaignAction(t, a, paused, "pause", nil)

	type inUse struct {
		Error struct {
			Code, Message string
			Campaigns     []store.SegmentUser
		}
	}
	code, body := a.Do("DELETE", path, nil)
	e := sendboxtest.JSON[inUse](t, body).Error
	if code != http.StatusConflict || e.Code != "segment_in_use" || len(e.Campaigns) != 4 {
		t.Fatalf("delete a segment in use: %d %s", code, body)
	}
	for i, want := range []struct {
		id          int64
		name, state string
	}{{draft, "Spring draft", "draft"}, {scheduled, "Spring later", "scheduled"}, {running, "Spring held", "running"}, {paused, "Spring paused", "paused"}} {
		if c := e.Campaigns[i]; c.ID != want.id || c.Name != want.name || c.State != want.state ||
			!strings.Contains(e.Message, fmt.Sprintf("%q (%s)", want.name, want.state)) {
			t.Errorf("campaign %d: %+v in %q, want %+v", i, c, e.Message, want)
		}
	}
	if strings.Contains(e.Message, "Sent last week") {
		t.Errorf("a done campaign named: %s", e.Message)
	}
	if code, _ := a.Do("GET", path, nil); code != http.StatusOK {
		t.Fatalf("the segment is gone after a refusal: %d", code)
	}
	// One at a time out of the way: still refused while any is left.
	for _, step := range []struct {
		method, path string
	}{
		{"DELETE", fmt.Sprintf("/api/v1/campaigns/%d", draft)},
		{"POST", fmt.Sprintf("/api/v1/campaigns/%d/cancel", scheduled)},
		{"POST", fmt.Sprintf("/api/v1/campaigns/%d/cancel", running)},
		{"POST", fmt.Sprintf("/api/v1/campaigns/%d/cancel", paused)},
	} {
		if code, body := a.Do("DELETE", path, nil); code != http.StatusConflict {
			t.Fatalf("before %s %s: %d %s", step.method, step.path, code, body)
		}
		if code, body := a.Do(step.method, step.path, nil); code != http.StatusOK && code != http.StatusNoContent {
			t.Fatalf("%s %s: %d %s", step.method, step.path, code, body)
		}
	}
	if code, body := a.Do("DELETE", path, nil); code != http.StatusNoContent {
		t.Fatalf("delete once only done and cancelled campaigns use it: %d %s", code, body)
	}

	// The last line: a scheduled campaign whose segment vanished anyway is
	// paused when it launches, saying why.
	other := tagSegment(t, a, "autumn")
	addTagged(t, a, "+393335599999", "A", "opted_in", "autumn")
	late := createCampaign(t, a, map[string]any{"name": "Autumn", "template": "seasonal_offer", "language": "en_US",
		"params": offer("AUTUMN"), "segment_id": other})
	campaignAction(t, a, late, "schedule", map[string]any{"scheduled_at": time.Now().Add(1500 * time.Millisecond)})
	db, err := sql.Open("sqlite", "file:"+a.Store.Path()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM segments WHERE id = ?`, other); err != nil {
		t.Fatal(err)
	}
	sendboxtest.Eventually(t, 20*time.Second, "the campaign paused", func() bool {
		c := campaignState(t, a, late)
		return c.State == store.CampaignPaused && strings.Contains(c.PausedReason, "segment was deleted")
	})
}

// TestSegmentLanguageOfContactsWithoutConversation: imported contacts who
// never wrote have no conversation, so no detected language; the file's
// language column (as a code, a code with a region, or a name) is theirs,
// and the language condition finds them, as it finds who wrote in it.
func TestSegmentLanguageOfContactsWithoutConversation(t *testing.T) {
	a := sendboxtest.New(t)
	csv := "phone,name,language\n+393470000101,Anna,it\n+393470000102,Bruno,it-IT\n+393470000103,Carla,Italiano\n" +
		"+33612340104,Denis,fr_FR\n+393470000105,Elio,\n+393470000106,Fede,itx\n"
	code, body := upload(t, a, a.Key, "contacts.csv", csv)
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	up := sendboxtest.JSON[importResp](t, body).Data
	if fmt.Sprint(up.Preview.Suggested) != "[phone name attributes.language]" {
		t.Fatalf("the language column is not an attribute: %s", body)
	}
	path := fmt.Sprintf("/api/v1/contacts/imports/%d", up.ID)
	if code, body := a.Do("POST", path+"/start", map[string]any{"mapping": up.Preview.Suggested, "mode": "upsert"}); code != http.StatusAccepted {
		t.Fatalf("start: %d %s", code, body)
	}
	sendboxtest.Eventually(t, 10*time.Second, "the import to finish", func() bool {
		_, body := a.Do("GET", path, nil)
		return sendboxtest.JSON[importResp](t, body).Data.State == store.ImportDone
	})
	// Someone who wrote in Italian, with no language of their own.
	inbound(t, a, "393470000107", "Buongiorno, vorrei sapere se avete ancora la borsa rossa in negozio")
	sendboxtest.Eventually(t, 10*time.Second, "Gino's conversation in Italian", func() bool {
		return segmentCount(t, a, map[string]any{"field": "language", "op": "is", "value": "it"}) == 4
	})
	if n := segmentCount(t, a, map[string]any{"field": "language", "op": "is", "value": "fr"}); n != 1 {
		t.Fatalf("French: %d, want 1 (Denis)", n)
	}
	if n := segmentCount(t, a, map[string]any{"field": "language", "op": "is_not", "value": "it"}); n != 3 {
		t.Fatalf("not Italian: %d, want 3 (Denis, Elio, Fede)", n)
	}
}
