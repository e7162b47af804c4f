package ui

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"sendbox/store"
)

// hub fans the broker's domain events out to the browsers that have the
// panel open. One core NATS subscription serves every browser: the EVENTS
// stream's messages are also delivered to plain subscribers of the subject.
type hub struct {
	log     *slog.Logger
	sub     *nats.Subscription
	mu      sync.Mutex // guards clients
	clients map[chan []string]struct{}
	done    chan struct{} // closed at shutdown: every stream ends
	once    sync.Once
}

func newHub(nc *nats.Conn, log *slog.Logger) *hub {
	h := &hub{log: log, clients: map[chan []string]struct{}{}, done: make(chan struct{})}
	if nc == nil {
		return h
	}
	sub, err := nc.Subscribe(store.SubjectEvents+">", func(m *nats.Msg) {
		var ev store.Event
		if json.Unmarshal(m.Data, &ev) != nil {
			return
		}
		h.broadcast(liveNames(ev))
	})
	if err != nil {
		log.Error("live updates unavailable", slog.Any("err", err))
		return h
	}
	h.sub = sub
	return h
}

// liveNames are the SSE event names an event wakes in the browser.
func liveNames(ev store.Event) []string {
	var names []string
	if ev.ConversationID != 0 {
		conv := strconv.FormatInt(ev.ConversationID, 10)
		names = append(names, "inbox", "conv-"+conv)
		if ev.Type == store.EventMessageReceived {
			// The customer wrote: the reply window may have just opened.
			names = append(names, "wrote-"+conv)
		}
	}
	if ev.ContactID != 0 {
		names = append(names, "contact-"+strconv.FormatInt(ev.ContactID, 10))
	}
	if ev.MessageID != 0 {
		names = append(names, "phone")
	}
	return names
}

func (h *hub) broadcast(names []string) {
	if len(names) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c <- names:
		default:
			// A slow browser misses this event; it will get the next one,
			// and every update reloads the whole view it is about.
		}
	}
}

func (h *hub) join() chan []string {
	c := make(chan []string, 256)
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	return c
}

func (h *hub) leave(c chan []string) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
}

// close ends every event stream (so HTTP shutdown need not wait for open
// panels) and stops listening to the broker.
func (h *hub) close() {
	h.once.Do(func() {
		close(h.done)
		if h.sub != nil {
			h.sub.Unsubscribe()
		}
	})
}

// handleEvents streams live updates to a browser: each event names what
// changed (inbox, conv-<id>, contact-<id>, phone), and htmx reloads the
// parts of the page that listen for it.
func (p *Panel) handleEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // this response lives as long as the page
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n: connected\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	c := p.live.join()
	defer p.live.leave(c)
	keepAlive := time.NewTicker(25 * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-p.live.done:
			return // the browser reconnects to the next sendbox
		case names := <-c:
			// Coalesce a burst of events into one write.
			seen := map[string]bool{}
			for _, n := range names {
				seen[n] = true
			}
		drain:
			for {
				select {
				case more := <-c:
					for _, n := range more {
						seen[n] = true
					}
				default:
					break drain
				}
			}
			for n := range seen {
				fmt.Fprintf(w, "event: %s\ndata: %d\n\n", n, time.Now().UnixMilli())
			}
		case <-keepAlive.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
