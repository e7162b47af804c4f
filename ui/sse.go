package ui

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"sendbox/accounts"
	"sendbox/events"
)

// hub fans the broker's domain events out to the browsers that have the
// panel open. One core NATS subscription serves every browser: the EVENTS
// stream's messages are also delivered to plain subscribers of the subject.
type hub struct {
	log     *slog.Logger
	sub     *nats.Subscription
	mu      sync.Mutex           // guards clients
	clients map[chan []live]bool // a client's value: it gets urgent alerts
	done    chan struct{}        // closed at shutdown: every stream ends
	once    sync.Once
}

// live is one server-sent event: a name htmx listens for and, for the few
// events that carry what to show (an urgent conversation's alert), an HTML
// fragment as its data.
type live struct {
	Name string
	HTML string
}

// alerter renders the alert an event raises in every open panel, or "".
// It runs off the broker's callback, so it may read the store.
type alerter func(ev events.Event) (name, html string)

func newHub(nc *nats.Conn, log *slog.Logger, alert alerter) *hub {
	h := &hub{log: log, clients: map[chan []live]bool{}, done: make(chan struct{})}
	if nc == nil {
		return h
	}
	sub, err := nc.Subscribe(events.SubjectsEvents, func(m *nats.Msg) {
		var ev events.Event
		if json.Unmarshal(m.Data, &ev) != nil {
			return
		}
		var out []live
		for _, n := range liveNames(ev) {
			out = append(out, live{Name: n})
		}
		h.broadcast(out)
		if alert != nil && ev.Type == events.ConversationUpdated && ev.Status == events.ChangeEscalated {
			go func() {
				if name, html := alert(ev); html != "" {
					h.broadcast([]live{{Name: name, HTML: html}})
				}
			}()
		}
	})
	if err != nil {
		log.Error("live updates unavailable", slog.Any("err", err))
		return h
	}
	h.sub = sub
	return h
}

// liveNames are the SSE event names an event wakes in the browser.
func liveNames(ev events.Event) []string {
	var names []string
	if ev.ConversationID != 0 {
		conv := strconv.FormatInt(ev.ConversationID, 10)
		names = append(names, "inbox", "conv-"+conv)
		if ev.Type == events.MessageReceived {
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

func (h *hub) broadcast(names []live) {
	if len(names) == 0 {
		return
	}
	alert := names[0].HTML != "" // alerts come alone (see newHub)
	h.mu.Lock()
	defer h.mu.Unlock()
	for c, alerts := range h.clients {
		if alert && !alerts {
			continue
		}
		select {
		case c <- names:
		default:
			// A slow browser misses this event; it will get the next one,
			// and every update reloads the whole view it is about.
		}
	}
}

// join adds a browser; alerts says whether it gets urgent alerts: only
// people who can act on a conversation (agents and above) do.
func (h *hub) join(alerts bool) chan []live {
	c := make(chan []live, 256)
	h.mu.Lock()
	h.clients[c] = alerts
	h.mu.Unlock()
	return c
}

func (h *hub) leave(c chan []live) {
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

// liveGap is the least time between two events of one name on a stream.
// The browser reloads a part of the page for each event. The first event
// after a quiet moment is written at once; what follows within the gap is
// written once when the gap has passed, so a burst (a customer's message,
// the assistant's reply, an escalation, a few milliseconds apart) ends
// with the page showing the last state. The pacing is done here, not in
// htmx: an htmx throttle drops what comes during it, the last state too.
const liveGap = 250 * time.Millisecond

// handleEvents streams live updates to a browser: each event names what
// changed (inbox, conv-<id>, contact-<id>, phone), and htmx reloads the
// parts of the page that listen for it; an "urgent" event carries the
// alert to show.
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
	c := p.live.join(accounts.Can(sessionFrom(r).User.Role, accounts.Agent))
	defer p.live.leave(c)
	keepAlive := time.NewTicker(25 * time.Second)
	defer keepAlive.Stop()
	sent := map[string]time.Time{} // when each name was last written
	pending := map[string]bool{}   // names to write
	gap := time.NewTimer(time.Hour)
	gap.Stop()
	defer gap.Stop()
	// flush writes the pending names that are due and sets the timer for
	// the others.
	flush := func(now time.Time) {
		var next time.Duration
		for n := range pending {
			if wait := sent[n].Add(liveGap).Sub(now); wait > 0 {
				if next == 0 || wait < next {
					next = wait
				}
				continue
			}
			fmt.Fprintf(w, "event: %s\ndata: %d\n\n", n, now.UnixMilli())
			sent[n] = now
			delete(pending, n)
		}
		if next > 0 {
			gap.Reset(next)
		}
		if len(sent) > 1000 {
			for n, at := range sent {
				if now.Sub(at) > liveGap && !pending[n] {
					delete(sent, n)
				}
			}
		}
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-p.live.done:
			return // the browser reconnects to the next sendbox
		case evs := <-c:
			// Coalesce a burst of events into one write; alerts are each
			// their own, at once.
			var alerts []live
			add := func(evs []live) {
				for _, e := range evs {
					if e.HTML != "" {
						alerts = append(alerts, e)
					} else {
						pending[e.Name] = true
					}
				}
			}
			add(evs)
		drain:
			for {
				select {
				case more := <-c:
					add(more)
				default:
					break drain
				}
			}
			flush(time.Now())
			for _, a := range alerts {
				// Each line of the fragment is a data line: the browser
				// joins them with newlines.
				fmt.Fprintf(w, "event: %s\n", a.Name)
				for _, line := range strings.Split(a.HTML, "\n") {
					fmt.Fprintf(w, "data: %s\n", strings.TrimRight(line, "\r"))
				}
				fmt.Fprint(w, "\n")
			}
		case <-gap.C:
			flush(time.Now())
		case <-keepAlive.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
