package embed

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"sendbox/events"
)

// TestResetConsumerRedeliversHeldJobsAtOnce: jobs a consumer took and
// never acknowledged (its process died) come back at once after a reset,
// not after the ack wait; acknowledged ones do not come back.
func TestResetConsumerRedeliversHeldJobsAtOnce(t *testing.T) {
	ctx := context.Background()
	b, err := Start(ctx, Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i := range 6 {
		if _, err := b.Publish(ctx, events.SubjectSend, []byte(fmt.Sprint(i)), fmt.Sprint("job-", i)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := jetstream.ConsumerConfig{Durable: "sender", AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Hour}
	c, err := b.Consumer(ctx, events.StreamOutbound, cfg)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.Fetch(6, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range batch.Messages() {
		if n%2 == 0 {
			m.DoubleAck(ctx) // 0, 2, 4 done; 1, 3, 5 held by a process that dies
		}
		n++
	}
	if n != 6 {
		t.Fatalf("fetched %d", n)
	}
	// Nothing comes back within the ack wait…
	if batch, _ := c.Fetch(6, jetstream.FetchMaxWait(300*time.Millisecond)); batch != nil {
		for m := range batch.Messages() {
			t.Fatalf("redelivered before the ack wait: %s", m.Data())
		}
	}
	// …until a reset.
	if err := b.ResetConsumer(ctx, events.StreamOutbound, "sender"); err != nil {
		t.Fatal(err)
	}
	batch, err = c.Fetch(6, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for m := range batch.Messages() {
		got = append(got, string(m.Data()))
	}
	if fmt.Sprint(got) != "[1 3 5]" {
		t.Fatalf("after the reset: %v", got)
	}
}
