package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"sendbox/events"
	"sendbox/inbox"
	"sendbox/schedule"
	"sendbox/store"
)

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "sendbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newScheduler is the scheduler as the app wires it: snoozes wake through it.
func newScheduler(st *store.Store) *schedule.Scheduler {
	s := schedule.New(st, nil, nil)
	s.Handle(store.TimerSnoozeWake, inbox.WakeSnooze)
	st.TimerAdded = s.Notify
	return s
}

// run starts s until the test ends.
func run(t testing.TB, s *schedule.Scheduler) {
	ctx, cancel := context.WithCancel(context.Background())
	go s.Run(ctx)
	t.Cleanup(func() { cancel(); <-s.Done() })
}

// customerWrites stores a message from phone and returns its conversation.
func customerWrites(t testing.TB, st *store.Store, phone, wamid string) int64 {
	t.Helper()
	ctx := context.Background()
	if _, err := st.Ingest(ctx, &store.IngestBatch{Messages: []store.InboundMessage{{WAMID: wamid, PhoneNumberID: "pn1",
		WaID: phone, ProfileName: "Maria", Type: "text", Text: "ciao", Preview: "ciao", Timestamp: time.Now(),
		Raw: []byte(`{"type":"text"}`)}}}); err != nil {
		t.Fatal(err)
	}
	c, err := st.ContactByRecipient(ctx, phone, "")
	if err != nil {
		t.Fatal(err)
	}
	list, _, _, err := st.ListConversations(ctx, store.ConversationFilter{ContactID: c.ID})
	if err != nil || len(list) == 0 {
		t.Fatal(err, len(list))
	}
	return list[0].ID
}

// wakes counts the wake-up lines of a conversation's timeline.
func wakes(t testing.TB, st *store.Store, conv int64) int {
	t.Helper()
	evs, err := st.ConversationEvents(context.Background(), conv)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Kind == events.ChangeWoke {
			n++
		}
	}
	return n
}

func status(t testing.TB, st *store.Store, conv int64) string {
	t.Helper()
	c, err := st.ConversationByID(context.Background(), conv)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

// TestSnoozeWakesOnceAtItsTime: a running scheduler, sleeping on a timer an
// hour away, wakes for a snooze of 300 ms added meanwhile, reopens the
// conversation once, and records how late it was.
func TestSnoozeWakesOnceAtItsTime(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	s := newScheduler(st)
	far := customerWrites(t, st, "391", "wamid.far")
	if err := st.SetStatus(ctx, far, "snoozed", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	time.Sleep(50 * time.Millisecond) // asleep until the far one
	conv := customerWrites(t, st, "392", "wamid.near")
	due := time.Now().Add(300 * time.Millisecond)
	if err := st.SetStatus(ctx, conv, "snoozed", due); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for status(t, st, conv) != "open" {
		if time.Now().After(deadline) {
			t.Fatal("the snooze did not wake within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if woke := time.Now(); woke.Before(due) {
		t.Fatalf("woke %v early", due.Sub(woke))
	}
	time.Sleep(100 * time.Millisecond)
	if n := wakes(t, st, conv); n != 1 {
		t.Fatalf("%d wake-ups on the timeline, want 1", n)
	}
	timers, _ := st.TimersOf(ctx, store.TimerSnoozeWake, conv)
	if len(timers) != 1 || timers[0].State != store.TimerFired || timers[0].Lateness > time.Second {
		t.Fatalf("timers: %+v", timers)
	}
	if status(t, st, far) != "snoozed" {
		t.Fatal("the far snooze woke too")
	}
}

// TestResnoozeWakesOnlyAtTheNewTime: snoozed for an hour, then for two,
// the conversation does not wake at the first time, and wakes once at the
// second.
func TestResnoozeWakesOnlyAtTheNewTime(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	s := newScheduler(st)
	conv := customerWrites(t, st, "391", "wamid.1")
	now := time.Now()
	if err := st.SetStatus(ctx, conv, "snoozed", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.SetStatus(ctx, conv, "snoozed", now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.FireDue(ctx, now.Add(90*time.Minute)); err != nil || n != 0 {
		t.Fatalf("at the first time: %d woke, %v", n, err)
	}
	if status(t, st, conv) != "snoozed" {
		t.Fatal("woke at the old time")
	}
	if n, err := s.FireDue(ctx, now.Add(121*time.Minute)); err != nil || n != 1 {
		t.Fatalf("at the new time: %d woke, %v", n, err)
	}
	if n, _ := s.FireDue(ctx, now.Add(24*time.Hour)); n != 0 || wakes(t, st, conv) != 1 || status(t, st, conv) != "open" {
		t.Fatalf("woke %d times in all, status %s", wakes(t, st, conv), status(t, st, conv))
	}
	timers, _ := st.TimersOf(ctx, store.TimerSnoozeWake, conv)
	if len(timers) != 2 || timers[0].State != store.TimerCancelled || timers[1].State != store.TimerFired {
		t.Fatalf("timers: %+v", timers)
	}
}

// TestObsoleteTimersDoNothing: a customer's reply reopens a snoozed
// conversation without cancelling its timer, and an agent resolves
// another; when due, neither timer changes anything, both are marked
// obsolete, and a timer whose token no conversation holds does nothing.
func TestObsoleteTimersDoNothing(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	s := newScheduler(st)
	now := time.Now()
	replied := customerWrites(t, st, "391", "wamid.1")
	if err := st.SetStatus(ctx, replied, "snoozed", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	customerWrites(t, st, "391", "wamid.2") // the reply
	if status(t, st, replied) != "open" {
		t.Fatal("the reply did not reopen the conversation")
	}
	// Snoozed until the same time again: the old timer and the new one
	// carry the same token, and the conversation wakes once.
	again := customerWrites(t, st, "393", "wamid.4")
	if err := st.SetStatus(ctx, again, "snoozed", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	stranger := customerWrites(t, st, "392", "wamid.3")
	if err := st.SetStatus(ctx, stranger, "snoozed", now.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddTimers(ctx, []store.TimerSpec{
		{Kind: store.TimerSnoozeWake, Owner: stranger, Token: fmt.Sprint(now.Add(time.Minute).UnixMilli()), DueAt: now.Add(time.Minute)},
		{Kind: store.TimerSnoozeWake, Owner: again, Token: fmt.Sprint(now.Add(time.Hour).UnixMilli()), DueAt: now.Add(time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	before, _ := st.ConversationEvents(ctx, replied)
	if n, err := s.FireDue(ctx, now.Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("%d applied, %v; want 1 (the conversation snoozed twice until the same time)", n, err)
	}
	after, _ := st.ConversationEvents(ctx, replied)
	if len(after) != len(before) || status(t, st, replied) != "open" {
		t.Fatalf("an obsolete timer changed the conversation: %d → %d timeline lines", len(before), len(after))
	}
	if status(t, st, stranger) != "snoozed" || wakes(t, st, again) != 1 {
		t.Fatalf("stranger %s, %d wake-ups of the twice snoozed one", status(t, st, stranger), wakes(t, st, again))
	}
	for conv, want := range map[int64][]string{replied: {store.TimerObsolete},
		stranger: {store.TimerPending, store.TimerObsolete}, again: {store.TimerFired, store.TimerObsolete}} {
		timers, _ := st.TimersOf(ctx, store.TimerSnoozeWake, conv)
		var got []string
		for _, tm := range timers {
			got = append(got, tm.State)
		}
		if !slices.Equal(got, want) {
			t.Errorf("conversation %d: timers %v, want %v", conv, got, want)
		}
	}
}

// TestLateTimersFireOnceInOrder: 2,000 timers that came due during a
// downtime, added in shuffled order, fire once each, earliest first,
// each with its lateness recorded.
func TestLateTimersFireOnceInOrder(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	s := schedule.New(st, nil, nil)
	var mu sync.Mutex
	var order []int64
	s.Handle("test.record", func(_ context.Context, _ *store.TimerTx, tm *store.Timer) (bool, error) {
		mu.Lock()
		order = append(order, tm.Owner)
		mu.Unlock()
		return true, nil
	})
	now := time.Now()
	const n = 2000
	specs := make([]store.TimerSpec, n)
	for i := range specs {
		k := int64((i * 7919) % n) // a permutation of 0..n-1
		specs[i] = store.TimerSpec{Kind: "test.record", Owner: k, DueAt: now.Add(-time.Hour + time.Duration(k)*time.Second)}
	}
	if _, err := st.AddTimers(ctx, specs); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		got := len(order)
		mu.Unlock()
		if got >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d late timers fired in 20 s", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(order) != n {
		t.Fatalf("%d firings for %d timers", len(order), n)
	}
	for i, k := range order {
		if k != int64(i) {
			t.Fatalf("firing %d was timer %d: not in due order", i, k)
		}
	}
	counts, _ := st.TimerCounts(ctx)
	if counts[store.TimerFired] != n {
		t.Fatalf("counts: %v", counts)
	}
	first, _ := st.TimerByID(ctx, 1) // the first added: k = 0, an hour late
	if first.Lateness < 59*time.Minute || first.FiredAt.IsZero() {
		t.Fatalf("lateness %v, fired at %v", first.Lateness, first.FiredAt)
	}
}

// TestFailingHandlerIsRetried: a handler's error or panic undoes only its
// own timer, which is tried again later; the others in the same
// transaction fire, and the scheduler keeps running.
func TestFailingHandlerIsRetried(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	s := schedule.New(st, nil, nil)
	fails := map[int64]bool{2: true, 4: true}
	s.Handle("test.flaky", func(_ context.Context, tx *store.TimerTx, tm *store.Timer) (bool, error) {
		switch {
		case tm.Owner == 4 && fails[4]:
			delete(fails, 4)
			panic("a bug")
		case fails[tm.Owner]:
			delete(fails, tm.Owner)
			return false, errors.New("the disk said no")
		}
		return true, nil
	})
	now := time.Now()
	var specs []store.TimerSpec
	for i := int64(1); i <= 5; i++ {
		specs = append(specs, store.TimerSpec{Kind: "test.flaky", Owner: i, DueAt: now.Add(-time.Minute)})
	}
	specs = append(specs, store.TimerSpec{Kind: "test.nobody", Owner: 6, DueAt: now.Add(-time.Minute)})
	ids, err := st.AddTimers(ctx, specs)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.FireDue(ctx, now); err != nil || n != 3 {
		t.Fatalf("first pass: %d fired, %v", n, err)
	}
	for _, i := range []int{1, 3, 5} {
		if tm, _ := st.TimerByID(ctx, ids[i]); tm.State != store.TimerPending || tm.Attempts != 1 || !tm.DueAt.After(now) ||
			tm.LastError == "" {
			t.Fatalf("timer of owner %d after a failure: %+v", i+1, tm)
		}
	}
	if n, _ := s.FireDue(ctx, now.Add(time.Minute)); n != 2 {
		t.Fatalf("retry: %d fired, want 2", n)
	}
	if tm, _ := st.TimerByID(ctx, ids[5]); tm.State != store.TimerPending || tm.Attempts != 2 {
		t.Fatalf("a kind without a handler: %+v", tm)
	}
	// Past MaxTimerAttempts it is failed for good.
	for i := 0; i < store.MaxTimerAttempts; i++ {
		s.FireDue(ctx, now.Add(time.Duration(i+2)*time.Hour))
	}
	if tm, _ := st.TimerByID(ctx, ids[5]); tm.State != store.TimerFailed || tm.Attempts != store.MaxTimerAttempts {
		t.Fatalf("after %d attempts: %+v", store.MaxTimerAttempts, tm)
	}
}

// TestDSTTimersFireAtNineLocal: a timer at 09:00 Europe/Rome on the last
// Sunday of March and of October is due at 09:00 local time, whatever the
// offset that day, and fires then and not an hour off.
func TestDSTTimersFireAtNineLocal(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	ctx := context.Background()
	s := schedule.New(st, nil, nil)
	fired := map[int64]bool{}
	s.Handle("test.nine", func(_ context.Context, _ *store.TimerTx, tm *store.Timer) (bool, error) {
		fired[tm.Owner] = true
		return true, nil
	})
	for i, c := range []struct {
		day time.Time // the Saturday before the change, 09:00 local
		utc string    // Sunday 09:00 local, in UTC
	}{
		{time.Date(2027, 3, 27, 9, 0, 0, 0, rome), "2027-03-28T07:00:00Z"},  // CET → CEST
		{time.Date(2027, 10, 30, 9, 0, 0, 0, rome), "2027-10-31T08:00:00Z"}, // CEST → CET
	} {
		due := schedule.NextLocal(c.day, 9, 0, rome)
		if got := due.UTC().Format(time.RFC3339); got != c.utc {
			t.Fatalf("09:00 Rome the day after %s: %s, want %s", c.day, got, c.utc)
		}
		if _, err := st.AddTimers(ctx, []store.TimerSpec{{Kind: "test.nine", Owner: int64(i), DueAt: due}}); err != nil {
			t.Fatal(err)
		}
		s.FireDue(ctx, due.Add(-time.Second))
		if fired[int64(i)] {
			t.Fatalf("fired before 09:00 local on %s", due)
		}
		s.FireDue(ctx, due)
		if !fired[int64(i)] {
			t.Fatalf("did not fire at 09:00 local on %s", due)
		}
	}
}

// TestTwoProcessesFireEachOnce: two schedulers on two connections to one
// database file, as two sendbox processes on one data folder would be,
// share 3,000 due timers without firing any twice: the claim is a write
// transaction.
func TestTwoProcessesFireEachOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sendbox.db")
	var mu sync.Mutex
	seen := map[int64]int{}
	var stores []*store.Store
	var scheds []*schedule.Scheduler
	for range 2 {
		st, err := store.Open(context.Background(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		s := schedule.New(st, nil, nil)
		s.Handle("test.count", func(_ context.Context, _ *store.TimerTx, tm *store.Timer) (bool, error) {
			mu.Lock()
			seen[tm.ID]++
			mu.Unlock()
			return true, nil
		})
		run(t, s)
		stores, scheds = append(stores, st), append(scheds, s)
	}
	const n = 3000
	due := time.Now().Add(200 * time.Millisecond)
	specs := make([]store.TimerSpec, n)
	for i := range specs {
		specs[i] = store.TimerSpec{Kind: "test.count", Owner: int64(i), DueAt: due}
	}
	if _, err := stores[0].AddTimers(context.Background(), specs); err != nil {
		t.Fatal(err)
	}
	// Both wake for them (the other process would at its next look) and
	// race for the claims.
	scheds[0].Notify(due)
	scheds[1].Notify(due)
	deadline := time.Now().Add(90 * time.Second)
	for {
		c, _ := stores[1].TimerCounts(context.Background())
		if c[store.TimerFired] == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("timers: %v", c)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("timer %d fired %d times", id, k)
		}
	}
	if len(seen) != n {
		t.Fatalf("%d of %d fired", len(seen), n)
	}
}
