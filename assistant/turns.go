package assistant

import (
	"sync"

	"sendbox/events"
)

// turns keeps each contact's messages in the order they came while
// messages of different contacts are screened at once: a customer who
// answers a flow's question twice in a second ("3", then "John") has the
// answers reach their run in that order, one after the other, whichever
// worker picks them up.
type turns struct {
	mu   sync.Mutex
	last map[int64]chan struct{} // closed when the contact's latest message is done
}

// open is a turn that never waits.
var open = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// take queues a message of contact and returns when it may go (turn is
// closed) and done, which lets the next one of the contact go. Contact 0
// (not a message) waits for nothing.
func (t *turns) take(contact int64) (turn <-chan struct{}, done func()) {
	if contact == 0 {
		return open, func() {}
	}
	mine := make(chan struct{})
	t.mu.Lock()
	if t.last == nil {
		t.last = map[int64]chan struct{}{}
	}
	prev, ok := t.last[contact]
	if !ok {
		prev = open
	}
	t.last[contact] = mine
	t.mu.Unlock()
	return prev, func() {
		t.mu.Lock()
		if t.last[contact] == mine {
			delete(t.last, contact)
		}
		t.mu.Unlock()
		close(mine)
	}
}

// contactOf is the contact of a message.received event; 0 for anything
// else.
func contactOf(ev events.Event) int64 {
	if ev.Type != events.MessageReceived {
		return 0
	}
	return ev.ContactID
}
