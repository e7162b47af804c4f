package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sendbox/sendboxtest"
	"sendbox/store"
)

var liveCountRE = regexp.MustCompile(`<strong data-count="(\d+)">`)

func liveCount(t *testing.T, page string) int {
	t.Helper()
	m := liveCountRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no live count in:\n%s", page)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestSegmentBuilder builds a segment in the panel as a person would:
// conditions added and changed with the live count following, a NOT group,
// a refused rule shown at its condition, save, freeze, delete; a viewer
// sees but cannot change.
func TestSegmentBuilder(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	for i, c := range []struct {
		tags    []string
		consent string
	}{
		{[]string{"vip"}, store.ConsentOptedIn}, {[]string{"vip", "lead"}, store.ConsentOptedIn},
		{[]string{"vip"}, store.ConsentOptedOut}, {[]string{"lead"}, store.ConsentOptedIn}, {nil, store.ConsentUnknown},
	} {
		if _, err := a.Store.CreateContact(ctx, fmt.Sprintf("39347000000%d", i), store.ContactUpdate{Name: fmt.Sprintf("Customer %d", i), Tags: c.tags},
			c.consent, "test", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	b := setupOwner(t, a)
	resp, page := b.get("/segments")
	if resp.StatusCode != 200 || !strings.Contains(page, `href="/segments/new"`) || !strings.Contains(page, `class="page-tabs"`) {
		t.Fatalf("segments: %d\n%s", resp.StatusCode, page)
	}
	if _, page := b.get("/contacts"); !strings.Contains(page, `href="/segments"`) {
		t.Fatal("the contacts page does not lead to segments")
	}
	resp, page = b.get("/segments/new")
	if resp.StatusCode != 200 {
		t.Fatalf("new: %d %s", resp.StatusCode, page)
	}
	vals := formValues(t, page, "segment-form")
	if vals.Get("r:kind") != "group" || vals.Get("r.0:field") != "tag" || vals.Get("r.0:op") != "has" {
		t.Fatalf("a new segment starts with one tag condition: %v", vals)
	}

	// The live count follows the rule.
	vals.Set("r.0:value", "VIP")
	_, frag := b.htmx("POST", "/segments/live", vals)
	if n := liveCount(t, frag); n != 3 {
		t.Fatalf("tagged vip: %d, want 3\n%s", n, frag)
	}
	// Add a condition, make it about consent: the builder comes back with
	// consent's operators and values.
	vals.Set("action", "add:r")
	_, frag = b.htmx("POST", "/segments/builder", vals)
	if !strings.Contains(frag, `data-path="r.1"`) || !strings.Contains(frag, `hx-swap-oob="true"`) {
		t.Fatalf("add a condition:\n%s", frag)
	}
	vals = formValues(t, `<form id="segment-form">`+frag+`</form>`, "segment-form")
	vals.Set("r.1:field", "consent")
	_, frag = b.htmx("POST", "/segments/builder", vals)
	vals = formValues(t, `<form id="segment-form">`+frag+`</form>`, "segment-form")
	if vals.Get("r.1:op") != "is" || vals.Get("r.1:value") != "opted_in" || !strings.Contains(frag, `<option value="opted_out"`) {
		t.Fatalf("a consent condition: %v\n%s", vals, frag)
	}
	if n := liveCount(t, frag); n != 2 {
		t.Fatalf("vip and opted in: %d, want 2", n)
	}
	// A group of none: not tagged lead.
	vals.Set("action", "group:r")
	_, frag = b.htmx("POST", "/segments/builder", vals)
	vals = formValues(t, `<form id="segment-form">`+frag+`</form>`, "segment-form")
	vals.Set("r.2:group", "not")
	vals.Set("r.2.0:value", "lead")
	_, frag = b.htmx("POST", "/segments/live", vals)
	if n := liveCount(t, frag); n != 1 {
		t.Fatalf("vip, opted in, not lead: %d, want 1\n%s", n, frag)
	}
	if !strings.Contains(frag, "Customer 0") || strings.Contains(frag, "Customer 1") {
		t.Fatalf("the preview shows the members:\n%s", frag)
	}

	// A condition without its value is refused at that condition.
	vals.Set("name", "Loyal VIPs")
	vals.Set("kind", "dynamic")
	bad := url.Values{}
	for k, v := range vals {
		bad[k] = v
	}
	bad.Set("r.2.0:value", "")
	resp, page = b.post("/segments/new", bad)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `class="seg-error"`) {
		t.Fatalf("an incomplete rule: %d\n%s", resp.StatusCode, page)
	}
	// The error is in the condition r.2.0: the last node opened before it.
	before, _, _ := strings.Cut(page, `<p class="seg-error" role="alert">the tag is missing</p>`)
	if paths := regexp.MustCompile(`data-path="([r0-9.]+)"`).FindAllStringSubmatch(before, -1); len(paths) == 0 || paths[len(paths)-1][1] != "r.2.0" {
		t.Fatalf("the error is not at its condition:\n%s", page)
	}

	resp, body := b.post("/segments/new", vals)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	var id int64
	if _, err := fmt.Sscanf(resp.Header.Get("Location"), "/segments/%d", &id); err != nil {
		t.Fatal(resp.Header.Get("Location"))
	}
	g, err := a.Store.SegmentByID(ctx, id)
	if err != nil || g.Name != "Loyal VIPs" || len(g.Rule.Rules) != 3 || g.Rule.Rules[2].Group != store.GroupNot || g.Rule.Rules[2].Rules[0].Value != "lead" {
		t.Fatalf("saved: %+v %v", g, err)
	}
	if n, _ := a.Store.SegmentSize(ctx, g); n != 1 {
		t.Fatalf("members: %d", n)
	}
	_, page = b.get(fmt.Sprintf("/segments/%d", id))
	if liveCount(t, page) != 1 || !strings.Contains(page, `value="Loyal VIPs"`) {
		t.Fatalf("the saved segment:\n%s", page)
	}
	_, page = b.get("/segments")
	if !strings.Contains(page, "Loyal VIPs") || !strings.Contains(page, fmt.Sprintf(`hx-get="/segments/%d/count" hx-trigger="load"`, id)) {
		t.Fatalf("the list:\n%s", page)
	}
	if _, frag := b.htmx("GET", fmt.Sprintf("/segments/%d/count", id), nil); !strings.Contains(frag, `data-count="1"`) {
		t.Fatalf("the list's count:\n%s", frag)
	}

	// Without JavaScript, a builder button draws the page again with the change.
	noJS := url.Values{}
	for k, v := range vals {
		noJS[k] = v
	}
	noJS.Set("action", "remove:r.2")
	resp, page = b.post(fmt.Sprintf("/segments/%d", id), noJS)
	if resp.StatusCode != 200 || strings.Contains(page, `data-path="r.2"`) || liveCount(t, page) != 2 {
		t.Fatalf("remove without JavaScript: %d\n%s", resp.StatusCode, page)
	}
	if g, _ := a.Store.SegmentByID(ctx, id); len(g.Rule.Rules) != 3 {
		t.Fatal("a builder button saved the segment")
	}

	// A viewer sees it, and cannot change it.
	v := userBrowser(t, a, "viewer")
	if resp, page := v.get(fmt.Sprintf("/segments/%d", id)); resp.StatusCode != 200 || strings.Contains(page, "Save segment") || liveCount(t, page) != 1 {
		t.Fatalf("viewer: %d\n%s", resp.StatusCode, page)
	}
	if resp, _ := v.post(fmt.Sprintf("/segments/%d", id), vals); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a viewer saves: %d", resp.StatusCode)
	}

	// Freeze: a contact tagged later is not a member.
	if resp, _ := b.post(fmt.Sprintf("/segments/%d/freeze", id), nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("freeze: %d", resp.StatusCode)
	}
	if _, err := a.Store.CreateContact(ctx, "393479999999", store.ContactUpdate{Name: "Late", Tags: []string{"vip"}}, store.ConsentOptedIn, "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	_, page = b.get(fmt.Sprintf("/segments/%d?ok=segment_frozen", id))
	if !strings.Contains(page, `id="segment-frozen"`) || !strings.Contains(page, "with 1 members") {
		t.Fatalf("frozen:\n%s", page)
	}
	if resp, _ := b.post(fmt.Sprintf("/segments/%d/delete", id), nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if resp, _ := b.get(fmt.Sprintf("/segments/%d", id)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a deleted segment: %d", resp.StatusCode)
	}
}

// TestSegmentListCountsApart: the list of segments draws without counting
// (each row asks for its count once drawn), a row's count is kept a few
// minutes and counted again once the segment changes, and the segment's
// own page counts live.
func TestSegmentListCountsApart(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	add := func(phone string) {
		t.Helper()
		if _, err := a.Store.CreateContact(ctx, phone, store.ContactUpdate{Name: "C " + phone, Tags: []string{"vip"}}, store.ConsentOptedIn, "test", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	add("393470000001")
	vip := store.SegmentRule{Field: store.FieldTag, Op: "has", Value: "vip"}
	var ids []int64
	for i := range 3 {
		g, err := a.Store.CreateSegment(ctx, store.SegmentInput{Name: fmt.Sprintf("VIP %d", i), Rule: vip})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, g.ID)
	}
	b := setupOwner(t, a)
	_, page := b.get("/segments")
	if strings.Contains(page, "data-count") || strings.Count(page, `hx-trigger="load"`) != 3 {
		t.Fatalf("the list counts before it is drawn:\n%s", page)
	}
	count := func(id int64) string {
		t.Helper()
		resp, frag := b.htmx("GET", fmt.Sprintf("/segments/%d/count", id), nil)
		if resp.StatusCode != 200 {
			t.Fatalf("count %d: %d %s", id, resp.StatusCode, frag)
		}
		return frag
	}
	if frag := count(ids[0]); !strings.Contains(frag, `data-count="1"`) {
		t.Fatalf("count: %s", frag)
	}
	add("393470000002")
	if frag := count(ids[0]); !strings.Contains(frag, `data-count="1"`) {
		t.Fatalf("counted again at once: %s", frag)
	}
	if frag := count(ids[1]); !strings.Contains(frag, `data-count="2"`) {
		t.Fatalf("another segment, first counted now: %s", frag)
	}
	_, page = b.get(fmt.Sprintf("/segments/%d", ids[0]))
	if liveCount(t, page) != 2 {
		t.Fatalf("the segment's page counts live:\n%s", page)
	}
	if _, err := a.Store.UpdateSegment(ctx, ids[0], store.SegmentInput{Name: "VIPs", Rule: vip}); err != nil {
		t.Fatal(err)
	}
	if frag := count(ids[0]); !strings.Contains(frag, `data-count="2"`) {
		t.Fatalf("saved since: not counted again: %s", frag)
	}
	if resp, _ := b.htmx("GET", "/segments/999/count", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown segment's count: %d", resp.StatusCode)
	}
}

// TestSegmentDeleteRefusedInPanel: deleting a segment a draft campaign
// goes to is refused on the segment's page, naming the campaign with a
// link; once the draft is deleted, the segment goes.
func TestSegmentDeleteRefusedInPanel(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	g, err := a.Store.CreateSegment(ctx, store.SegmentInput{Name: "Spring", Rule: store.SegmentRule{Field: store.FieldTag, Op: "has", Value: "vip"}})
	if err != nil {
		t.Fatal(err)
	}
	code, body := a.Do("POST", "/api/v1/campaigns", map[string]any{"name": "Spring <sale>", "template": "seasonal_offer", "language": "en_US", "segment_id": g.ID})
	if code != http.StatusCreated {
		t.Fatalf("campaign: %d %s", code, body)
	}
	cid := sendboxtest.JSON[struct{ Data store.Campaign }](t, body).Data.ID
	b := setupOwner(t, a)
	resp, page := b.post(fmt.Sprintf("/segments/%d/delete", g.ID), nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, `id="segment-error"`) || !strings.Contains(page, "cannot be deleted") ||
		!strings.Contains(page, fmt.Sprintf(`<a href="/campaigns/%d">Spring &lt;sale&gt;</a>`, cid)) || !strings.Contains(page, ">Draft<") {
		t.Fatalf("delete a segment in use: %d\n%s", resp.StatusCode, page)
	}
	if _, err := a.Store.SegmentByID(ctx, g.ID); err != nil {
		t.Fatalf("deleted anyway: %v", err)
	}
	if code, body := a.Do("DELETE", fmt.Sprintf("/api/v1/campaigns/%d", cid), nil); code != http.StatusNoContent {
		t.Fatalf("delete the draft: %d %s", code, body)
	}
	if resp, _ := b.post(fmt.Sprintf("/segments/%d/delete", g.ID), nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if _, err := a.Store.SegmentByID(ctx, g.ID); err == nil {
		t.Fatal("the segment is still there")
	}
}
