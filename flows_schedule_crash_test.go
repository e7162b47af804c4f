package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sendbox/store"
)

// TestScheduledFlowOnceAcrossKills: a flow scheduled daily at 09:00 for
// the 2,000 contacts tagged "vip" (each run sets an attribute and sends a
// template). Its occurrence comes due while sendbox is down (killed with
// SIGKILL); the built binary starts, fires it, and is killed twice more
// while the audience's runs start. In the end every vip contact has
// exactly one run, got the template exactly once (counted at the stand-in
// for Meta), the occurrence's timer fired once and the next one is
// pending, alone. SENDBOX_BENCH_SCHEDULE_FLOW_CRASH=1: 10,000 contacts.
func TestScheduledFlowOnceAcrossKills(t *testing.T) {
	if testing.Short() {
		t.Skip("a crash test of the built binary")
	}
	n := 2000
	if os.Getenv("SENDBOX_BENCH_SCHEDULE_FLOW_CRASH") == "1" {
		n = 10_000
	}
	ctx := context.Background()
	const mps = 1000
	meta := newStandIn(t, mps)
	dir := t.TempDir()
	env := meta.env(mps)
	key, errOut, code := runCLI(t, append(env, "SENDBOX_DATA="+dir), "apikey", "create", "--name", "crash", "--role", "admin")
	if code != 0 {
		t.Fatal(errOut)
	}
	key = strings.TrimSpace(key)

	// The audience, and a few contacts outside it.
	st, err := store.Open(ctx, filepath.Join(dir, "sendbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	phone := func(i int) string { return fmt.Sprintf("3935%08d", i) }
	for i := range n + 20 {
		tags := []string{"vip"}
		if i >= n {
			tags = []string{"lead"}
		}
		if _, err := st.CreateContact(ctx, phone(i), store.ContactUpdate{Tags: tags}, "", "", time.Now()); err != nil {
			t.Fatal(err)
		}
	}

	p := start(t, dir, env...)
	meta.target.Store(p.addr)
	def := map[string]any{
		"triggers": []any{map[string]any{"type": "schedule", "at": "09:00", "tag": "vip"}},
		"steps": []any{
			map[string]any{"id": "mark", "type": "set", "attribute": "greeted_on", "value": "{{event.date}}"},
			map[string]any{"id": "hello", "type": "send", "template": map[string]any{"name": "order_confirmation", "language": "en",
				"params": []string{"{{event.date}}"}}},
			map[string]any{"id": "done", "type": "end", "outcome": "greeted"},
		},
	}
	if c, b := api(t, p, key, "POST", "/api/v1/flows", map[string]any{"name": "Mornings", "definition": def}); c != 201 {
		t.Fatalf("create: %d %s", c, b)
	}
	if c, b := api(t, p, key, "POST", "/api/v1/flows/1/publish", nil); c != 200 {
		t.Fatalf("publish: %d %s", c, b)
	}
	pending := func() []store.Timer {
		all, err := st.TimersOf(ctx, store.TimerFlowSchedule, 1)
		if err != nil {
			t.Fatal(err)
		}
		var out []store.Timer
		for _, tm := range all {
			if tm.State == store.TimerPending {
				out = append(out, tm)
			}
		}
		return out
	}
	pend := pending()
	if len(pend) != 1 {
		t.Fatalf("pending after publish: %+v", pend)
	}
	occurrence := pend[0].ID

	// Down when it comes due.
	meta.target.Store("")
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	if err := st.RescheduleTimer(ctx, occurrence, time.Now()); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		active, outcomes, err := st.FlowRunCounts(ctx, 1, 0)
		if err != nil {
			return 0
		}
		for _, c := range outcomes {
			active += c
		}
		return active
	}
	for k := range 2 {
		p = start(t, dir, env...)
		meta.target.Store(p.addr)
		target := (k + 1) * n / 3
		for deadline := time.Now().Add(2 * time.Minute); count() < target; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("kill %d: only %d runs after 2 minutes\n%s", k+1, count(), p.log)
			}
		}
		meta.target.Store("")
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
	p = start(t, dir, env...)
	meta.target.Store(p.addr)
	defer stopProc(p)
	ended := func() int {
		_, outcomes, _ := st.FlowRunCounts(ctx, 1, 0)
		return outcomes["greeted"]
	}
	for deadline := time.Now().Add(3 * time.Minute); ended() < n; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d runs ended 3 minutes after the last kill\n%s", ended(), n, p.log)
		}
	}
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		meta.mu.Lock()
		total := 0
		for _, c := range meta.byTo {
			total += c
		}
		meta.mu.Unlock()
		if total >= n || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(time.Second) // a run or a message too many would show now
	var bad []string
	if c := count(); c != n {
		bad = append(bad, fmt.Sprintf("%d runs for %d vip contacts", c, n))
	}
	today := time.Now().UTC().Format(time.DateOnly)
	meta.mu.Lock()
	twice, missing, outside := 0, 0, 0
	for i := range n + 20 {
		switch c := meta.byTo[phone(i)]; {
		case i >= n && c > 0:
			outside++
		case i >= n:
		case c > 1:
			twice++
		case c < 1:
			missing++
		}
	}
	meta.mu.Unlock()
	if twice+missing+outside > 0 {
		bad = append(bad, fmt.Sprintf("%d vip customers got the message twice, %d none; %d outside the audience got it", twice, missing, outside))
	}
	attrs := 0
	for i := range n {
		if c, err := st.ContactByRecipient(ctx, phone(i), ""); err == nil && c.Attributes["greeted_on"] == today {
			attrs++
		}
	}
	if attrs != n {
		bad = append(bad, fmt.Sprintf("%d of %d contacts greeted today", attrs, n))
	}
	if tm, err := st.TimerByID(ctx, occurrence); err != nil || tm.State != store.TimerFired {
		bad = append(bad, fmt.Sprintf("the occurrence's timer: %+v %v", tm, err))
	}
	if pend := pending(); len(pend) != 1 || pend[0].DueAt.UTC().Format(time.DateOnly) <= today {
		bad = append(bad, fmt.Sprintf("pending after the occurrence: %+v", pend))
	}
	if len(bad) > 0 {
		t.Fatalf("%s\n%s", strings.Join(bad, "; "), p.log)
	}
	t.Logf("a scheduled occurrence for %d contacts through 2 kills: each contact started and messaged once", n)
}
