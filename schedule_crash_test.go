package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sendbox/events"
	"sendbox/store"
)

// TestSnoozesWakeOnceAcrossKills snoozes 2,000 conversations to wake over
// four seconds, runs the built binary, kills it with SIGKILL three times
// while it wakes them (each time once that process has woken a share), and
// checks that every conversation woke exactly once (one wake-up
// line on its timeline), every timer fired once, in due order, with its
// lateness recorded. SENDBOX_BENCH_SCHEDULE_CRASH=1 runs the full figure
// instead: 100,000 snoozes and 20 kills.
func TestSnoozesWakeOnceAcrossKills(t *testing.T) {
	n, kills, spread := 2000, 3, 4*time.Second
	if os.Getenv("SENDBOX_BENCH_SCHEDULE_CRASH") == "1" {
		n, kills, spread = 100_000, 20, 20*time.Second
	}
	ctx := context.Background()
	dir := t.TempDir()

	// The conversations and their snoozes, written as the panel writes them.
	st, err := store.Open(ctx, filepath.Join(dir, "sendbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += 1000 {
		b := &store.IngestBatch{}
		for j := i; j < min(i+1000, n); j++ {
			phone := fmt.Sprintf("39340%07d", j)
			b.Messages = append(b.Messages, store.InboundMessage{WAMID: "wamid.snooze." + strconv.Itoa(j), PhoneNumberID: "100000000000001",
				WaID: phone, ProfileName: "Cliente", Type: "text", Text: "ciao", Preview: "ciao", Timestamp: time.Now(),
				Raw: []byte(`{"type":"text"}`)})
		}
		if _, err := st.Ingest(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	var convs []int64
	for cursor := ""; ; {
		page, _, next, err := st.ListConversations(ctx, store.ConversationFilter{After: cursor, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			convs = append(convs, c.ID)
		}
		if cursor = next; next == "" {
			break
		}
	}
	if len(convs) != n {
		t.Fatalf("%d conversations for %d customers", len(convs), n)
	}
	slices.Sort(convs)
	// Wake-ups start once the snoozes are written (about 0.4 ms each) and
	// the binary started, and are spread evenly; each conversation's due
	// time is a function of its place, so the order of firing can be checked.
	base := time.Now().Add(3*time.Second + time.Duration(n)*500*time.Microsecond)
	step := spread / time.Duration(n)
	prepared := time.Now()
	for i, id := range convs {
		if err := st.SetStatus(ctx, id, "snoozed", base.Add(time.Duration(i)*step)); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d snoozes written in %v", n, time.Since(prepared).Round(time.Millisecond))
	st.Close()

	key, errOut, code := runCLI(t, []string{"SENDBOX_DATA=" + dir}, "apikey", "create", "--name", "crash")
	if code != 0 {
		t.Fatal(errOut)
	}
	key = strings.TrimSpace(key)

	const fired = `sendbox_timers_total{kind="snooze.wake",outcome="fired"}`
	perLife := n / (kills + 2) // each process wakes about this many before it is killed
	var shares []int
	for k := 0; k < kills; k++ {
		p := start(t, dir)
		// Fewer if fewer are left: a share of them, so that every kill
		// falls while snoozes are waking.
		left := snoozed(t, p, key)
		if left == 0 {
			// On a loaded machine the earlier lives can wake them all
			// between the share and the kill: no kill is left to fall
			// while snoozes wake, and the last life checks the outcome.
			t.Logf("kill %d: every snooze already woke; the remaining kills are moot", k+1)
			p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
			break
		}
		share := max(1, min(perLife, left/(kills-k+1)))
		shares = append(shares, share)
		deadline := time.Now().Add(60 * time.Second)
		for {
			v, _ := strconv.Atoi(p.metric(t, fired))
			if v >= share {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("kill %d: only %d of %d woken in 60 s (shares %v)\n%s", k+1, v, left, shares, p.log)
			}
			time.Sleep(2 * time.Millisecond)
		}
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.done
	}

	// The last life wakes the rest, then stops cleanly.
	p := start(t, dir)
	deadline := time.Now().Add(base.Add(spread).Sub(time.Now()) + 60*time.Second)
	for {
		left := snoozed(t, p, key)
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d still snoozed\n%s", left, p.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	finished := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.done; err != nil {
		t.Fatalf("graceful shutdown: %v\n%s", err, p.log)
	}

	st, err = store.Open(ctx, filepath.Join(dir, "sendbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	counts, err := st.TimerCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[store.TimerFired] != n || len(counts) != 1 {
		t.Fatalf("timers by state: %v, want %d fired", counts, n)
	}
	var lastFired time.Time
	var worst time.Duration
	for i, id := range convs {
		evs, err := st.ConversationEvents(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		woke := 0
		for _, e := range evs {
			if e.Kind == events.ChangeWoke {
				woke++
			}
		}
		timers, _ := st.TimersOf(ctx, store.TimerSnoozeWake, id)
		if woke != 1 || len(timers) != 1 {
			t.Fatalf("conversation %d woke %d times, %d timers", id, woke, len(timers))
		}
		tm := timers[0]
		if tm.FiredAt.Before(lastFired) {
			t.Fatalf("timer %d (due %s) fired at %s, before the one due before it (%s)", i, tm.DueAt, tm.FiredAt, lastFired)
		}
		if got := tm.FiredAt.Sub(tm.DueAt); got < 0 || got != tm.Lateness {
			t.Fatalf("timer %d: fired %v after due, lateness recorded %v", i, got, tm.Lateness)
		}
		lastFired, worst = tm.FiredAt, max(worst, tm.Lateness)
	}
	t.Logf("%d snoozes woke once each across %d SIGKILLs (each process killed once it had woken %v); last woke %v after the last due; worst lateness %v",
		n, kills, shares, finished.Sub(base.Add(spread)).Round(time.Millisecond), worst)
}

// snoozed counts the snoozed conversations through the REST API.
func snoozed(t testing.TB, p *proc, key string) int {
	t.Helper()
	code, b := api(t, p, key, "GET", "/api/v1/conversations?status=snoozed&limit=1", nil)
	var page struct{ Total int }
	if err := json.Unmarshal(b, &page); code != 200 || err != nil {
		t.Fatalf("count snoozed conversations: %d %s", code, b)
	}
	return page.Total
}
