package embed

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"sendbox/events"
)

// smallDisk mounts a tmpfs of size at a new folder for the test, or skips
// where mounting is not permitted (CI runs as root).
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("a full disk needs a small tmpfs, and mounting one is not permitted here (run as root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fillDisk writes a file that leaves about room bytes free on dir's volume.
func fillDisk(t *testing.T, dir string, room int64) string {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "filler")
	if err := os.WriteFile(path, make([]byte, max(0, int64(st.Bavail)*int64(st.Bsize)-room)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestStartOnFullDisk: the broker starts on a disk with no room left. It
// used to update every stream and consumer at start, which rewrites their
// metadata files, and refused to start: sendbox stayed down until someone
// freed space by hand.
func TestStartOnFullDisk(t *testing.T) {
	dir := smallDisk(t, "16m")
	ctx := context.Background()
	b, err := Start(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Consumer(ctx, events.StreamInbound, jetstream.ConsumerConfig{Durable: "ingest", AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: time.Minute, MaxDeliver: -1, FilterSubject: events.SubjectWebhook}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(ctx, events.SubjectWebhook, []byte("kept"), "1"); err != nil {
		t.Fatal(err)
	}
	b.Close()
	fillDisk(t, dir, 0)

	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b, err = Start(sctx, Options{DataDir: dir})
	if err != nil {
		t.Fatalf("start on a full disk: %v", err)
	}
	defer b.Close()
	c, err := b.Consumer(ctx, events.StreamInbound, jetstream.ConsumerConfig{Durable: "ingest", AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: time.Minute, MaxDeliver: -1, FilterSubject: events.SubjectWebhook})
	if err != nil {
		t.Fatalf("consumer on a full disk: %v", err)
	}
	m, err := c.Next(jetstream.FetchMaxWait(2 * time.Second))
	if err != nil || string(m.Data()) != "kept" {
		t.Fatalf("the stored message after a start on a full disk: %v", err)
	}
}

// TestHealAfterDiskFull: once a stream's write fails on a full disk, NATS
// refuses every later write to it, even after space is freed, until the
// stream is reloaded. Heal reloads it in place: what was stored before is
// kept, consumers resume where they were, and writes work again.
func TestHealAfterDiskFull(t *testing.T) {
	dir := smallDisk(t, "16m")
	ctx := context.Background()
	b, err := Start(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cons, err := b.Consumer(ctx, events.StreamInbound, jetstream.ConsumerConfig{Durable: "ingest", AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	filler := fillDisk(t, dir, 4<<20)
	data := make([]byte, 100<<10)
	stored := 0
	for ; ; stored++ {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := b.Publish(pctx, events.SubjectWebhook, data, fmt.Sprint(stored))
		cancel()
		if err != nil {
			break
		}
		if stored > 1000 {
			t.Fatal("the disk never filled")
		}
	}
	if err := b.Ready(ctx); err == nil || !strings.Contains(err.Error(), "write error") {
		t.Fatalf("Ready on a broken stream: %v", err)
	}
	// Two are consumed before the reload: the consumer must not see them
	// again. A third is delivered and not acknowledged: it must come back at
	// once after the reload, not after the ack wait.
	batch, err := cons.Fetch(2, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		m.DoubleAck(ctx)
	}
	if _, err := cons.Next(jetstream.FetchMaxWait(2 * time.Second)); err != nil {
		t.Fatal(err)
	}

	os.Remove(filler)
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, err = b.Publish(pctx, events.SubjectWebhook, data, "after")
	cancel()
	if err == nil {
		t.Fatal("the stream took a write again without a reload: the test no longer shows the failure")
	}
	healed, err := b.Heal(ctx)
	if err != nil || !healed {
		t.Fatalf("heal: %v %v", healed, err)
	}
	if err := b.Ready(ctx); err != nil {
		t.Fatalf("Ready after the reload: %v", err)
	}
	if _, err := b.Publish(ctx, events.SubjectWebhook, []byte("after the reload"), "after2"); err != nil {
		t.Fatal(err)
	}
	if d := b.StreamDepths(ctx)[events.StreamInbound]; d != uint64(stored+1) {
		t.Fatalf("after the reload the stream holds %d messages, want the %d stored before and 1 after", d, stored)
	}
	cons, err = b.JS.Consumer(ctx, events.StreamInbound, "ingest")
	if err != nil {
		t.Fatal(err)
	}
	m, err := cons.Next(jetstream.FetchMaxWait(2 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if md, _ := m.Metadata(); md.Sequence.Stream != 3 {
		t.Fatalf("the consumer resumed at message %d, want 3", md.Sequence.Stream)
	}
	if healed, err := b.Heal(ctx); healed || err != nil {
		t.Fatalf("a healthy broker was reloaded: %v %v", healed, err)
	}
}
