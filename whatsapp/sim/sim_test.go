package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestStatePersistedAcrossNew(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "sim.json")
	clock := newClock()
	edit := func(o *Options) { o.StateFile = file; o.StatusWebhooks = false; o.Now = clock.Now }

	e := newEnv(t, edit)
	e.clock = clock
	in := e.inbound(t, "16505551234", `{"type":"text","text":{"body":"hi"}}`)
	out := e.sendOK(t, text("+16505551234", "hello Ada"))
	e.sim.SetUnreachable("+393331234567", true)
	if err := e.sim.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatal(err)
	}

	clock.Advance(time.Hour)
	e2 := newEnv(t, edit)
	e2.clock = clock
	ph := e2.sim.Phone("16505551234", false)
	if len(ph) != 2 || ph[0].ID != in || ph[1].ID != out || ph[1].Status != "delivered" || ph[1].Text != "hello Ada" {
		t.Fatalf("phone after reload: %+v", ph)
	}
	cs := e2.sim.Chats()
	if len(cs) != 1 || cs[0].Name != "Ada" || cs[0].Unread != 1 {
		t.Fatalf("chats after reload: %+v", cs)
	}
	// The window survived: free-form still reaches Ada.
	e2.sendOK(t, text("+16505551234", "still there?"))
	if ph := e2.sim.Phone("16505551234", true); ph[2].Status != "read" || ph[1].Status != "read" {
		t.Fatalf("phone: %+v", ph)
	}
	// So did the unreachable number.
	st, m := e2.send(t, text("+393331234567", "x"))
	wantError(t, st, m, http.StatusBadRequest, CodeUndeliverable)
	// Marking the reloaded inbound message read works.
	if st, m := e2.send(t, `{"messaging_product":"whatsapp","status":"read","message_id":"`+in+`"}`); st != http.StatusOK {
		t.Fatalf("mark read after reload: %d %v", st, m)
	}
}

func TestStateSavedWhileRunning(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "sim.json")
	e := newEnv(t, func(o *Options) { o.StateFile = file; o.StatusWebhooks = false })
	e.inbound(t, "16505551234", `{"type":"text","text":{"body":"hi"}}`)
	deadline := time.Now().Add(waitFor)
	for {
		b, err := os.ReadFile(file)
		if err == nil && strings.Contains(string(b), "16505551234") {
			var st stateFile
			if err := json.Unmarshal(b, &st); err != nil || st.Version != stateVersion {
				t.Fatalf("state file: %v %s", err, b)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("state not saved within %s: %v", waitFor, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBadStateFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "sim.json")
	os.WriteFile(file, []byte("{not json"), 0o600)
	if _, err := New(Options{StateFile: file}); err == nil {
		t.Fatal("New accepted a corrupt state file")
	}
}

func TestOptionsChecked(t *testing.T) {
	t.Parallel()
	dup := []Template{{Name: "a", Language: "en", Body: "x"}, {Name: "a", Language: "en", Body: "y"}}
	if _, err := New(Options{Templates: dup}); err == nil {
		t.Fatal("duplicate template accepted")
	}
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.opts.MPS != DefaultMPS || s.opts.SentDelay != DefaultSentDelay || s.opts.DeliveredDelay != DefaultDeliveredDelay ||
		s.opts.PhoneNumberID != DefaultPhoneNumberID || len(s.templates["appointment_reminder"]) != 3 {
		t.Fatalf("defaults: %+v", s.opts)
	}
}

func TestBoundedMemory(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.StatusWebhooks = false; o.MPS = 1 << 30; o.NoPairRate = true })
	for i := range maxChatMessages + 10 {
		e.sendOK(t, text("+16505551234", fmt.Sprint(i)))
	}
	if ph := e.sim.Phone("16505551234", false); len(ph) != maxChatMessages || ph[0].Text != "10" {
		t.Fatalf("chat ring: %d messages, first %q", len(ph), ph[0].Text)
	}
	for i := range maxChats + 5 {
		e.clock.Advance(time.Millisecond)
		e.sendOK(t, text(fmt.Sprintf("+1650%07d", i), "x"))
	}
	e.sim.mu.Lock()
	chats, msgs := len(e.sim.chats), len(e.sim.byWAMID)
	e.sim.mu.Unlock()
	if chats > maxChats || msgs > maxChats*2 {
		t.Fatalf("%d chats, %d indexed messages", chats, msgs)
	}
	if s := e.sim.Stats(); len(s.Recent) > maxRecent {
		t.Fatalf("recent log: %d", len(s.Recent))
	}
}

// TestCloseLeavesNoGoroutines is not parallel: it counts goroutines.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		hooks := newHookServer(t)
		defer hooks.Close()
		s, err := New(Options{
			Token: testToken, AppSecret: []byte(testSecret), WebhookURL: hooks.URL, StatusWebhooks: true,
			SentDelay: time.Millisecond, DeliveredDelay: 2 * time.Millisecond, AutoReadAfter: time.Hour,
			StateFile: filepath.Join(t.TempDir(), "s.json"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		graph := httptest.NewServer(s.Handler())
		defer graph.Close()
		e := &env{sim: s, graph: graph, hooks: hooks}
		e.inbound(t, "16505551234", `{"type":"text","text":{"body":"hi"}}`)
		for range 20 {
			e.sendOK(t, text("+16505551234", "x"))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		// Close waited for the queued statuses, including the scheduled
		// hour-later reads it released early.
		if st := s.Stats(); st.StatusesPosted != 60 {
			t.Errorf("statuses posted by Close: %d, want 60", st.StatusesPosted)
		}
		if _, err := s.SendInbound(t.Context(), Inbound{From: "1", Message: json.RawMessage(`{"type":"text"}`)}); err != ErrClosed {
			t.Errorf("SendInbound after Close: %v", err)
		}
		s.Close() // twice is fine
		http.DefaultClient.CloseIdleConnections()
	}()
	deadline := time.Now().Add(waitFor)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after Close:\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
