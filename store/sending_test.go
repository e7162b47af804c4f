package store

import (
	"context"
	"testing"
	"time"
)

// TestSendingStateAndEchoes walks the sending state: a claim before the
// Graph call, a retry after Meta's error, a crash between Meta's answer and
// the record (the status echo settles it), and a send never confirmed.
func TestSendingStateAndEchoes(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	state := func(id int64) *Message {
		t.Helper()
		m, err := s.MessageByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	claim := func(c SendClaim) bool {
		t.Helper()
		ok, err := s.ClaimSends(ctx, []SendClaim{c})
		if err != nil {
			t.Fatal(err)
		}
		return ok[0]
	}
	a, b, c := queue(t, s, "391", "a"), queue(t, s, "392", "b"), queue(t, s, "393", "c")

	// Claimed once only: a second delivery of the job does not take it.
	if !claim(SendClaim{MessageID: a.ID, SendID: "s-a1"}) || claim(SendClaim{MessageID: a.ID, SendID: "s-a2"}) {
		t.Fatal("a queued message is claimed exactly once")
	}
	if m := state(a.ID); m.Status != StateSending || m.Attempts != 1 {
		t.Fatalf("claimed: %s, %d attempts", m.Status, m.Attempts)
	}
	// Meta answered with an error: back in the queue, claimed again.
	if err := s.ReleaseSend(ctx, a.ID, "s-a1"); err != nil {
		t.Fatal(err)
	}
	if m := state(a.ID); m.Status != StateQueued || !claim(SendClaim{MessageID: a.ID, SendID: "s-a3"}) {
		t.Fatalf("released: %s", m.Status)
	}
	// A record under another claim than the message's does nothing.
	if err := s.RecordSends(ctx, []SendOutcome{{MessageID: a.ID, SendID: "s-a1", WAMID: "wamid.stale", Attempts: 1}}); err != nil {
		t.Fatal(err)
	}
	if m := state(a.ID); m.Status != StateSending || m.WAMID != "" {
		t.Fatalf("a stale record changed the message: %s %s", m.Status, m.WAMID)
	}
	if err := s.RecordSends(ctx, []SendOutcome{{MessageID: a.ID, SendID: "s-a3", WAMID: "wamid.a", Attempts: 2}}); err != nil {
		t.Fatal(err)
	}
	if m := state(a.ID); m.Status != StateAccepted || m.WAMID != "wamid.a" || m.Attempts != 2 {
		t.Fatalf("recorded: %s %s %d", m.Status, m.WAMID, m.Attempts)
	}

	// b: sendbox died after Meta accepted it; the sent status echoes the
	// send id, and the message is accepted under Meta's wamid.
	if !claim(SendClaim{MessageID: b.ID, SendID: "s-b1"}) {
		t.Fatal("claim b")
	}
	echo := StatusUpdate{WAMID: "wamid.b", Status: "sent", Timestamp: time.Now(), Raw: []byte(`{}`), SendID: "s-b1"}
	if _, err := s.Ingest(ctx, &IngestBatch{Statuses: []StatusUpdate{echo}}); err != nil {
		t.Fatal(err)
	}
	if m := state(b.ID); m.Status != "sent" || m.WAMID != "wamid.b" {
		t.Fatalf("after the echo: %s %q", m.Status, m.WAMID)
	}
	// It cannot be claimed again, and the sender's late record changes nothing.
	if claim(SendClaim{MessageID: b.ID, SendID: "s-b2", PrevSendID: "s-b1"}) {
		t.Fatal("an echoed message was claimed for a resend")
	}
	// Only the send's answer says Meta held it for pacing: that is kept.
	if err := s.RecordSends(ctx, []SendOutcome{{MessageID: b.ID, SendID: "s-b1", WAMID: "wamid.b", Attempts: 1,
		MessageStatus: "held_for_quality_assessment"}}); err != nil {
		t.Fatal(err)
	}
	if m := state(b.ID); m.Status != "sent" {
		t.Fatalf("the late record moved it back: %s", m.Status)
	}
	var pacing string
	if err := s.r.QueryRow("SELECT COALESCE(pacing_status, '') FROM messages WHERE id = ?", b.ID).Scan(&pacing); err != nil ||
		pacing != "held_for_quality_assessment" {
		t.Fatalf("the late record's pacing status: %q %v", pacing, err)
	}

	// c: no echo; a resend replaces the claim, then the first call's echo
	// comes too late to be taken for the second's.
	if !claim(SendClaim{MessageID: c.ID, SendID: "s-c1"}) || !claim(SendClaim{MessageID: c.ID, SendID: "s-c2", PrevSendID: "s-c1"}) {
		t.Fatal("claim c, then resend it")
	}
	late := StatusUpdate{WAMID: "wamid.c1", Status: "sent", Timestamp: time.Now(), Raw: []byte(`{}`), SendID: "s-c1"}
	if _, err := s.Ingest(ctx, &IngestBatch{Statuses: []StatusUpdate{late}}); err != nil {
		t.Fatal(err)
	}
	if m := state(c.ID); m.Status != StateSending || m.Attempts != 2 {
		t.Fatalf("a stale echo settled the resend: %s", m.Status)
	}
	// Marked uncertain, with the reason; an echo that comes after all settles it.
	note := &MessageError{Title: "Not confirmed by WhatsApp", Detail: "why"}
	if err := s.RecordSends(ctx, []SendOutcome{{MessageID: c.ID, SendID: "s-c2", Uncertain: true, Err: note, Attempts: 2}}); err != nil {
		t.Fatal(err)
	}
	if m := state(c.ID); m.Status != StateUncertain || m.Error == nil || m.Error.Title != note.Title {
		t.Fatalf("uncertain: %s %+v", m.Status, m.Error)
	}
	echo = StatusUpdate{WAMID: "wamid.c2", Status: "delivered", Timestamp: time.Now(), Raw: []byte(`{}`), SendID: "s-c2"}
	if _, err := s.Ingest(ctx, &IngestBatch{Statuses: []StatusUpdate{echo}}); err != nil {
		t.Fatal(err)
	}
	if m := state(c.ID); m.Status != "delivered" || m.WAMID != "wamid.c2" || m.Error != nil {
		t.Fatalf("a late echo of an uncertain send: %s %q %+v", m.Status, m.WAMID, m.Error)
	}
}
