package embed

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"sendbox/events"
)

func TestPublishDedupAndSurviveRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := Start(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	dup, err := b.Publish(ctx, events.SubjectWebhook, []byte("one"), "id-1")
	if err != nil || dup {
		t.Fatal(err, dup)
	}
	dup, err = b.Publish(ctx, events.SubjectWebhook, []byte("one"), "id-1")
	if err != nil || !dup {
		t.Fatalf("second publish with the same id: dup=%v err=%v", dup, err)
	}
	if _, err := b.Publish(ctx, events.SubjectWebhook, []byte("two"), "id-2"); err != nil {
		t.Fatal(err)
	}
	b.Close()

	b, err = Start(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if d := b.StreamDepths(ctx)[events.StreamInbound]; d != 2 {
		t.Fatalf("after restart the stream holds %d messages, want 2", d)
	}
	c, err := b.Consumer(ctx, events.StreamInbound, jetstream.ConsumerConfig{Durable: "ingest", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.Fetch(10, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for m := range batch.Messages() {
		got = append(got, string(m.Data()))
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 || got[0] != "one" || got[1] != "two" {
		t.Fatalf("got %v", got)
	}
	if d := b.StreamDepths(ctx)[events.StreamInbound]; d != 0 {
		t.Fatalf("work queue not emptied by acks: %d", d)
	}
}
