package ui

import (
	"context"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"sendbox/store"
)

// TestSegFromFormOrder: conditions keep their order past ten (r.10 comes
// after r.9, not after r.1), nested groups land in their parents, and a
// forged form (an orphan, a path that is not one) builds no stray node.
func TestSegFromFormOrder(t *testing.T) {
	f := url.Values{"r:kind": {"group"}, "r:group": {"or"}}
	for i := range 12 {
		p := "r." + strconv.Itoa(i)
		f.Set(p+":kind", "cond")
		f.Set(p+":field", "tag")
		f.Set(p+":op", "has")
		f.Set(p+":value", "t"+strconv.Itoa(i))
	}
	f.Set("r.3:kind", "group")
	f.Set("r.3:group", "not")
	f.Set("r.3.0:kind", "cond")
	f.Set("r.3.0:field", "last_inbound")
	f.Set("r.3.0:op", "within_days")
	f.Set("r.3.0:days", "7")
	f.Set("r.99.0:kind", "cond") // no parent r.99
	f.Set("rx:kind", "cond")
	f.Set("r..:kind", "cond")
	rule := segFromForm(f)
	if rule.Group != store.GroupOr || len(rule.Rules) != 12 {
		t.Fatalf("%+v", rule)
	}
	for i, c := range rule.Rules {
		if i == 3 {
			if c.Group != store.GroupNot || len(c.Rules) != 1 || c.Rules[0].Days != 7 {
				t.Fatalf("the nested group: %+v", c)
			}
			continue
		}
		if c.Value != "t"+strconv.Itoa(i) {
			t.Fatalf("condition %d is %q", i, c.Value)
		}
	}
	if err := rule.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := segAction(rule, "remove:r.3"); len(got.Rules) != 11 || got.Rules[3].Value != "t4" {
		t.Fatalf("remove r.3: %+v", got.Rules[3])
	}
	if got := segAction(rule, "add:r.3"); len(got.Rules[3].Rules) != 2 {
		t.Fatalf("add to r.3: %+v", got.Rules[3])
	}
	if segPath("r.3.0") != "rules[3].rules[0]" || segPath("r") != "" {
		t.Fatal(segPath("r.3.0"))
	}
}

// TestSegmentCountKept: a count is kept segCountTTL, marked old (the list
// says when it was counted) from a minute on, and counted again after.
func TestSegmentCountKept(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "sendbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	g, err := st.CreateSegment(ctx, store.SegmentInput{Name: "All", Rule: store.SegmentRule{}})
	if err != nil {
		t.Fatal(err)
	}
	p := &Panel{Deps: Deps{Store: st}}
	if c := p.segmentCount(ctx, g); c.N != 0 || c.Old || c.Err {
		t.Fatalf("first count: %+v", c)
	}
	if _, err := st.CreateContact(ctx, "393470000001", store.ContactUpdate{Name: "A"}, "", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	age := func(d time.Duration) {
		p.segCounts.mu.Lock()
		c := p.segCounts.m[g.ID]
		c.At = time.Now().Add(-d)
		p.segCounts.m[g.ID] = c
		p.segCounts.mu.Unlock()
	}
	age(90 * time.Second)
	if c := p.segmentCount(ctx, g); c.N != 0 || !c.Old {
		t.Fatalf("a count 90 s old: %+v", c)
	}
	age(segCountTTL)
	if c := p.segmentCount(ctx, g); c.N != 1 || c.Old {
		t.Fatalf("a count older than %s: %+v", segCountTTL, c)
	}
}
