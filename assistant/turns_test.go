package assistant

import (
	"sync"
	"testing"
	"time"
)

// TestTurnsKeepAContactsOrder: a contact's messages go one after the
// other in the order they were taken, however the goroutines are
// scheduled; another contact's do not wait for them.
func TestTurnsKeepAContactsOrder(t *testing.T) {
	var tr turns
	var mu sync.Mutex
	var got []int
	var wg sync.WaitGroup
	for i := range 50 {
		turn, done := tr.take(7)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer done()
			// Later messages start first: only the turn orders them.
			time.Sleep(time.Duration(50-i) * 100 * time.Microsecond)
			<-turn
			mu.Lock()
			got = append(got, i)
			mu.Unlock()
		}()
	}
	// Another contact goes at once, while contact 7's are queued.
	other, otherDone := tr.take(8)
	select {
	case <-other:
	case <-time.After(5 * time.Second):
		t.Fatal("another contact's message waited for contact 7's")
	}
	otherDone()
	wg.Wait()
	for i, v := range got {
		if v != i {
			t.Fatalf("order %v", got)
		}
	}
	if len(tr.last) != 0 {
		t.Fatalf("%d turns left behind", len(tr.last))
	}
}
