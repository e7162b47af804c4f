package ui_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"sendbox/sendboxtest"
	"sendbox/store"
)

// TestThreadSaysDeliveryIsUncertain: a marketing message whose send was
// never confirmed by Meta (sendbox stopped during the call and no status
// echo came) shows a warning tick and says it was not sent again.
func TestThreadSaysDeliveryIsUncertain(t *testing.T) {
	dir := t.TempDir()
	// Leave a message as a crash would: claimed, then marked uncertain,
	// while no sender runs.
	st, err := store.Open(context.Background(), filepath.Join(dir, "sendbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, _, err := st.QueueOutbound(ctx, store.OutboundInput{PhoneNumberID: "100000000000001", WaID: "393471119999", Type: "template",
		Text: "Hi Ada, enjoy 15% off", Payload: []byte(`{"to":"+393471119999","type":"template","template":{"name":"seasonal_offer","language":{"code":"en_US"}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := st.ClaimSends(ctx, []store.SendClaim{{MessageID: m.ID, SendID: "abcdefghijklmnop"}}); err != nil || !ok[0] {
		t.Fatal(ok, err)
	}
	if err := st.RecordSends(ctx, []store.SendOutcome{{MessageID: m.ID, SendID: "abcdefghijklmnop", Uncertain: true,
		Err: &store.MessageError{Title: "Delivery not confirmed", Detail: "not sent again"}, Attempts: 1}}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	a := sendboxtest.New(t, sendboxtest.WithDataDir(dir))
	owner := setupOwner(t, a)
	resp, body := owner.get(fmt.Sprintf("/inbox/%d", m.ConversationID))
	if resp.StatusCode != 200 {
		t.Fatalf("thread: %d", resp.StatusCode)
	}
	for _, want := range []string{`class="tick uncertain"`, "Not confirmed", "Delivery not confirmed", "It was not sent again"} {
		if !strings.Contains(body, want) {
			t.Errorf("the thread lacks %q", want)
		}
	}
	// And the sender, restarted, leaves it alone.
	if got, _ := a.Store.MessageByID(ctx, m.ID); got.Status != store.StateUncertain || a.Sim.Stats().Accepted != 0 {
		t.Fatalf("after a restart: %s, %d sends", got.Status, a.Sim.Stats().Accepted)
	}
}
