package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sendbox/events"
)

func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "sendbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func text(wamid, from, body string, ts time.Time) InboundMessage {
	return InboundMessage{WAMID: wamid, PhoneNumberID: "pn1", WaID: from, ProfileName: "Maria", Type: "text",
		Text: body, Preview: body, Timestamp: ts, Raw: []byte(`{"type":"text"}`)}
}

func TestIngestIsIdempotent(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	ts := time.Now().Add(-time.Minute).Truncate(time.Second)
	b := &IngestBatch{Messages: []InboundMessage{text("wamid.1", "391", "ciao", ts), text("wamid.1", "391", "ciao", ts),
		text("wamid.2", "391", "ci sei?", ts.Add(time.Second))}}
	res, err := s.Ingest(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if res.NewMessages != 2 || res.Duplicates != 1 {
		t.Fatalf("first batch: %+v", res)
	}
	res, err = s.Ingest(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if res.NewMessages != 0 || res.Duplicates != 3 {
		t.Fatalf("replayed batch: %+v", res)
	}
	c, _ := s.Count(ctx)
	if c.Messages != 2 || c.Contacts != 1 || c.Conversations != 1 {
		t.Fatalf("counts: %+v", c)
	}
	convs, total, _, err := s.ListConversations(ctx, ConversationFilter{})
	if err != nil || total != 1 {
		t.Fatal(err, total)
	}
	if convs[0].Unread != 2 || convs[0].Preview != "ci sei?" || convs[0].Contact.Name != "Maria" {
		t.Fatalf("conversation: %+v", convs[0])
	}
	contact, err := s.ContactByRecipient(ctx, "391", "")
	if err != nil || !contact.LastInboundAt.Equal(ts.Add(time.Second)) {
		t.Fatalf("window not opened by the latest message: %+v %v", contact, err)
	}
}

func TestBSUIDOnlyContactAndLaterNumber(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	m := text("wamid.u1", "", "hi", time.Now())
	m.UserID = "US.123"
	if _, err := s.Ingest(ctx, &IngestBatch{Messages: []InboundMessage{m}}); err != nil {
		t.Fatal(err)
	}
	// The same person later writes with the number visible: same contact.
	m2 := text("wamid.u2", "", "again", time.Now())
	m2.UserID = "US.123"
	if _, err := s.Ingest(ctx, &IngestBatch{Messages: []InboundMessage{m2}}); err != nil {
		t.Fatal(err)
	}
	c, _ := s.Count(ctx)
	if c.Contacts != 1 || c.Messages != 2 {
		t.Fatalf("counts: %+v", c)
	}
	got, err := s.ContactByRecipient(ctx, "", "US.123")
	if err != nil || got.WaID != "" {
		t.Fatalf("%+v %v", got, err)
	}
	// A message without any sender identity is refused, not half-written.
	bad := text("wamid.bad", "", "?", time.Now())
	if _, err := s.Ingest(ctx, &IngestBatch{Messages: []InboundMessage{text("wamid.ok", "392", "fine", time.Now()), bad}}); err == nil {
		t.Fatal("want an error for a sender with no id")
	}
	if c2, _ := s.Count(ctx); c2.Messages != 2 {
		t.Fatalf("a failed batch left rows behind: %+v", c2)
	}
}

func queue(t *testing.T, s *Store, to, body string) *Message {
	t.Helper()
	m, created, err := s.QueueOutbound(context.Background(), OutboundInput{PhoneNumberID: "pn1", WaID: to, Type: "text",
		Text: body, Payload: []byte(`{"to":"+` + to + `","type":"text","text":{"body":"` + body + `"}}`)})
	if err != nil || !created {
		t.Fatal(err, created)
	}
	return m
}

func TestStatusStateMachine(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	m := queue(t, s, "391", "hello")
	if m.Status != StateQueued {
		t.Fatalf("state %s", m.Status)
	}
	// A status webhook that beats the send's own response is kept and applied later.
	early := StatusUpdate{WAMID: "wamid.out1", Status: "delivered", Timestamp: time.Now(), Raw: []byte(`{}`)}
	if _, err := s.Ingest(ctx, &IngestBatch{Statuses: []StatusUpdate{early}}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSends(ctx, []SendOutcome{{MessageID: m.ID, WAMID: "wamid.out1", Attempts: 1}}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.MessageByID(ctx, m.ID)
	if got.Status != "delivered" || got.WAMID != "wamid.out1" {
		t.Fatalf("after early delivered: %s %s", got.Status, got.WAMID)
	}
	steps := []struct {
		status, want string
		code         int
	}{
		{"sent", "delivered", 0},     // older: ignored
		{"read", "read", 0},          // forward
		{"delivered", "read", 0},     // out of order: ignored
		{"read", "read", 0},          // duplicate
		{"failed", "failed", 131049}, // failed wins
		{"played", "failed", 0},      // terminal
	}
	for _, st := range steps {
		u := StatusUpdate{WAMID: "wamid.out1", Status: st.status, Timestamp: time.Now(), Raw: []byte(`{}`)}
		if st.code != 0 {
			u.Error = &MessageError{Code: st.code, Title: "not delivered"}
		}
		if _, err := s.Ingest(ctx, &IngestBatch{Statuses: []StatusUpdate{u}}); err != nil {
			t.Fatal(err)
		}
		got, _ := s.MessageByID(ctx, m.ID)
		if got.Status != st.want {
			t.Fatalf("after %s: state %s, want %s", st.status, got.Status, st.want)
		}
	}
	got, _ = s.MessageByID(ctx, m.ID)
	if got.Error == nil || got.Error.Code != 131049 {
		t.Fatalf("failed lost its code: %+v", got.Error)
	}
	c, _ := s.Count(ctx)
	if c.Statuses != 5 { // delivered, sent, read, failed, played
		t.Fatalf("statuses stored: %d", c.Statuses)
	}
	// A redelivered send job must not overwrite the later state.
	if err := s.RecordSends(ctx, []SendOutcome{{MessageID: m.ID, WAMID: "wamid.other", Attempts: 2}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.MessageByID(ctx, m.ID); got.WAMID != "wamid.out1" || got.Status != "failed" {
		t.Fatalf("redelivery overwrote: %+v", got)
	}
}

func TestIdempotencyKey(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	in := OutboundInput{PhoneNumberID: "pn1", WaID: "391", Type: "text", Text: "x", Payload: []byte(`{}`), IdempotencyKey: "k1"}
	a, created, err := s.QueueOutbound(ctx, in)
	if err != nil || !created {
		t.Fatal(err)
	}
	b, created, err := s.QueueOutbound(ctx, in)
	if err != nil || created || b.ID != a.ID {
		t.Fatalf("second call: %v %v %d/%d", err, created, b.ID, a.ID)
	}
	items, _ := s.PendingOutbox(ctx, 100)
	sends := 0
	for _, it := range items {
		if it.Subject == events.SubjectSend {
			sends++
		}
	}
	if sends != 1 {
		t.Fatalf("send jobs queued: %d", sends)
	}
}

func TestEditRevokeAndNumberChange(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	orig := text("wamid.o", "391", "old text", time.Now())
	edit := text("wamid.e", "391", "new text", time.Now())
	edit.Type, edit.Effect, edit.RelatedWAMID, edit.Silent = "edit", EffectEdit, "wamid.o", true
	rev := text("wamid.r", "391", "", time.Now())
	rev.Type, rev.Effect, rev.RelatedWAMID, rev.Silent = "revoke", EffectRevoke, "wamid.o", true
	sys := text("wamid.s", "391", "changed number", time.Now())
	sys.Type, sys.Effect, sys.NewWaID, sys.Silent = "system", EffectNumberChanged, "392", true
	if _, err := s.Ingest(ctx, &IngestBatch{Messages: []InboundMessage{orig, edit, rev, sys}}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.MessageByWAMID(ctx, "wamid.o")
	if got.Text != "new text" || got.EditedAt.IsZero() || got.RevokedAt.IsZero() {
		t.Fatalf("original: %+v", got)
	}
	if _, err := s.ContactByRecipient(ctx, "392", ""); err != nil {
		t.Fatalf("number change not applied: %v", err)
	}
	convs, _, _, _ := s.ListConversations(ctx, ConversationFilter{})
	if convs[0].Unread != 1 || convs[0].Preview != "old text" {
		t.Fatalf("silent messages touched the conversation: %+v", convs[0])
	}
}

func TestEventsDedup(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	e := EventInput{Field: "message_template_status_update", Type: "APPROVED", Value: []byte(`{"event":"APPROVED"}`)}
	for i := 0; i < 3; i++ {
		if _, err := s.Ingest(ctx, &IngestBatch{Events: []EventInput{e}}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.ListWebhookEvents(ctx, "", 10)
	if err != nil || len(list) != 1 || list[0].Type != "APPROVED" {
		t.Fatalf("%v %+v", err, list)
	}
}

func TestPagination(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	var batch IngestBatch
	base := time.Now().Add(-time.Hour)
	for i := 0; i < 25; i++ {
		batch.Messages = append(batch.Messages, text(fmt.Sprintf("wamid.%d", i), fmt.Sprintf("39%03d", i%7), "m", base.Add(time.Duration(i)*time.Second)))
	}
	if _, err := s.Ingest(ctx, &batch); err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	var after int64
	for page := 0; ; page++ {
		msgs, total, next, err := s.ListMessages(ctx, MessageFilter{Direction: Inbound, After: after, Limit: 10})
		if err != nil || total != 25 {
			t.Fatal(err, total)
		}
		for _, m := range msgs {
			if seen[m.ID] {
				t.Fatalf("message %d on two pages", m.ID)
			}
			seen[m.ID] = true
		}
		if next == 0 {
			break
		}
		after = next
	}
	if len(seen) != 25 {
		t.Fatalf("saw %d messages", len(seen))
	}
	var cursor string
	convSeen := 0
	for {
		convs, total, next, err := s.ListConversations(ctx, ConversationFilter{After: cursor, Limit: 3})
		if err != nil || total != 7 {
			t.Fatal(err, total)
		}
		convSeen += len(convs)
		if next == "" {
			break
		}
		cursor = next
	}
	if convSeen != 7 {
		t.Fatalf("saw %d conversations", convSeen)
	}
	if _, _, _, err := s.ListConversations(ctx, ConversationFilter{After: "garbage!"}); err != ErrBadCursor {
		t.Fatalf("bad cursor: %v", err)
	}
	contacts, total, _, err := s.ListContacts(ctx, ContactFilter{Query: "+39003"})
	if err != nil || total != 1 || contacts[0].WaID != "39003" {
		t.Fatalf("contact search: %v %d %+v", err, total, contacts)
	}
}

func TestRefusesNewerDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sendbox.db")
	s, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO schema_migrations VALUES (999, 'future', 0)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(context.Background(), path, nil); err == nil || !strings.Contains(err.Error(), "newer sendbox") {
		t.Fatalf("want a refusal, got %v", err)
	}
}

func TestAPIKeys(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	k, err := s.CreateAPIKey(ctx, "zapier", "admin", "sbx_abcd", "hash1")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.APIKeyByHash(ctx, "hash1"); err != nil || got.ID != k.ID {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.APIKeyByHash(ctx, "hash1"); err != ErrNotFound {
		t.Fatalf("revoked key still works: %v", err)
	}
	if err := s.RevokeAPIKey(ctx, k.ID); err != ErrNotFound {
		t.Fatalf("double revoke: %v", err)
	}
}

func TestOrderTime(t *testing.T) {
	ts := time.Unix(1000, 0)
	for _, c := range []struct {
		arrived time.Time
		want    time.Time
	}{
		{ts.Add(300 * time.Millisecond), ts.Add(300 * time.Millisecond)}, // same second: arrival order
		{ts.Add(48 * time.Hour), ts.Add(999 * time.Millisecond)},         // late webhook: the customer's time
		{ts.Add(-5 * time.Second), ts},                                   // a clock ahead
	} {
		if got := OrderTime(ts, c.arrived); !got.Equal(c.want) {
			t.Errorf("arrived %v: %v, want %v", c.arrived, got, c.want)
		}
	}
}

func TestEraseContact(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	m1 := text("wamid.e1", "391", "il mio indirizzo è via Roma 1", time.Now())
	m1.MediaID, m1.Type = "media1", "image"
	m2 := text("wamid.e2", "392", "another customer", time.Now())
	if _, err := s.Ingest(ctx, &IngestBatch{Messages: []InboundMessage{m1, m2},
		Events: []EventInput{{Field: "user_preferences", Value: []byte(`{"user_preferences":[{"wa_id":"391","value":"stop"}]}`)}}}); err != nil {
		t.Fatal(err)
	}
	msg, _ := s.MessageByWAMID(ctx, "wamid.e1")
	if err := s.SetMediaStored(ctx, msg.ID, "media/ab/abc.jpg", 10, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	out := queue(t, s, "391", "reply")
	if _, err := s.Ingest(ctx, &IngestBatch{Statuses: []StatusUpdate{{WAMID: "wamid.e1", Status: "read", Raw: []byte(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	c, _ := s.ContactByRecipient(ctx, "391", "")
	if err := s.AddNote(ctx, out.ConversationID, "note about them"); err != nil {
		t.Fatal(err)
	}
	removed, err := s.EraseContact(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if removed.Messages != 2 || len(removed.MediaPaths) != 1 || removed.MediaPaths[0] != "media/ab/abc.jpg" {
		t.Fatalf("removed %+v", removed)
	}
	counts, _ := s.Count(ctx)
	if counts.Contacts != 1 || counts.Messages != 1 || counts.Conversations != 1 || counts.Events != 0 {
		t.Fatalf("left after erasure: %+v", counts)
	}
	if _, err := s.ContactByID(ctx, c.ID); err != ErrNotFound {
		t.Fatalf("contact still there: %v", err)
	}
	if _, err := s.EraseContact(ctx, c.ID); err != ErrNotFound {
		t.Fatalf("second erasure: %v", err)
	}
	items, _ := s.PendingOutbox(ctx, 1000)
	var deleted, erased int
	for _, it := range items {
		switch it.Subject {
		case events.Subject(events.MessageDeleted):
			deleted++
		case events.Subject(events.ContactErased):
			erased++
		}
	}
	if deleted != 2 || erased != 1 {
		t.Fatalf("events: %d deleted, %d erased", deleted, erased)
	}
	// Deleting one message keeps a media file another message shares.
	a := text("wamid.s1", "393", "a", time.Now())
	b := text("wamid.s2", "393", "b", time.Now())
	s.Ingest(ctx, &IngestBatch{Messages: []InboundMessage{a, b}})
	ma, _ := s.MessageByWAMID(ctx, "wamid.s1")
	mb, _ := s.MessageByWAMID(ctx, "wamid.s2")
	s.SetMediaStored(ctx, ma.ID, "media/cd/same.jpg", 1, "image/jpeg")
	s.SetMediaStored(ctx, mb.ID, "media/cd/same.jpg", 1, "image/jpeg")
	if r, err := s.DeleteMessage(ctx, ma.ID); err != nil || r.Messages != 1 || len(r.MediaPaths) != 0 {
		t.Fatalf("shared media: %+v %v", r, err)
	}
	if r, err := s.DeleteMessage(ctx, mb.ID); err != nil || len(r.MediaPaths) != 1 {
		t.Fatalf("last reference: %+v %v", r, err)
	}
}

// The outbound path runs its statements unprepared in the first
// transaction and prepared from the next: both must store the same thing,
// and writers racing the preparation must neither deadlock nor fail.
func TestWriteStatementsPreparedAfterFirstUse(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	queue := func(i int) *Message {
		t.Helper()
		m, _, err := s.QueueOutbound(ctx, OutboundInput{PhoneNumberID: "pn1", WaID: fmt.Sprintf("39%03d", i%7),
			Type: "text", Text: fmt.Sprintf("hello %d", i), Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	first := queue(0)
	s.stmts.mu.Lock()
	prepared := len(s.stmts.w)
	s.stmts.mu.Unlock()
	if prepared == 0 {
		t.Fatal("no write statement was prepared after the first transaction")
	}
	second := queue(7) // same recipient, now through the prepared statements
	if first.Text != "hello 0" || second.Text != "hello 7" || second.ConversationID != first.ConversationID ||
		second.Status != "queued" || second.Direction != "outbound" {
		t.Fatalf("first %+v\nsecond %+v", first, second)
	}
	if err := s.RecordSends(ctx, []SendOutcome{{MessageID: first.ID, WAMID: "wamid.p1", Attempts: 1},
		{MessageID: second.ID, Err: &MessageError{Code: 131026, Title: "undeliverable"}, Attempts: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSends(ctx, []SendOutcome{{MessageID: first.ID, WAMID: "wamid.p1", Attempts: 2}}); err != nil {
		t.Fatal(err) // a redelivered outcome, now prepared: changes nothing
	}
	if got, _ := s.MessageByID(ctx, first.ID); got.WAMID != "wamid.p1" || got.Status != "accepted" || got.Attempts != 1 {
		t.Fatalf("accepted: %+v", got)
	}
	if got, _ := s.MessageByID(ctx, second.ID); got.Status != "failed" || got.Error == nil || got.Error.Code != 131026 {
		t.Fatalf("failed: %+v", got)
	}

	done := make(chan error)
	for w := 0; w < 8; w++ {
		go func() {
			var err error
			for i := 0; i < 50 && err == nil; i++ {
				_, _, err = s.QueueOutbound(ctx, OutboundInput{PhoneNumberID: "pn1", WaID: fmt.Sprintf("40%d%02d", w, i),
					Type: "text", Text: "x", Payload: []byte(`{}`), IdempotencyKey: fmt.Sprintf("k%d.%d", w, i)})
			}
			done <- err
		}()
	}
	timeout := time.After(time.Minute)
	for w := 0; w < 8; w++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-timeout:
			t.Fatal("concurrent writers stuck")
		}
	}
}
