package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// smallDisk mounts a tmpfs of size bytes at a new folder for the test, or
// skips where mounting is not permitted (CI runs as root).
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := osexec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("a full disk needs a small tmpfs, and mounting one is not permitted here (run as root): %v %s", err, out)
	}
	t.Cleanup(func() { osexec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill leaves about room bytes free on the volume of dir, in a filler file.
func fill(t *testing.T, dir string, room int64) string {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	path := filepath.Join(dir, "filler")
	if err := os.WriteFile(path, make([]byte, max(0, free-room)), 0o600); err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatal(err)
	}
	return path
}

// TestApplyAfterDiskFull: a batch that fails to persist on a full disk left
// scorch holding a closed segment, and the indexer's next batch panicked in
// zapx ("assignment to entry in nil map"), ending sendbox. Batches now fail
// with an error while the disk is full; once space is freed the index takes
// them again, and everything applied before or after is found.
func TestApplyAfterDiskFull(t *testing.T) {
	disk := smallDisk(t, "24m")
	x, err := Open(Options{Dir: filepath.Join(disk, "search"), DefaultLang: "it"})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	ctx := context.Background()
	filler := fill(t, disk, 2<<20)
	text := strings.Repeat("prenotazione visita controllo dentista sabato mattina ", 20)
	batch := func(n int) *Batch {
		b := &Batch{}
		for i := range 200 {
			id := int64(n*200 + i + 1)
			b.Messages = append(b.Messages, msg(id, id, id, fmt.Sprintf("%s numero%d", text, id)))
		}
		return b
	}
	applied, failures := 0, 0
	for n := 0; n < 200 && failures < 5; n++ {
		if err := x.Apply(ctx, batch(n)); err != nil {
			failures++
			continue
		}
		applied++
	}
	if failures == 0 {
		t.Fatal("the disk never filled")
	}
	t.Logf("%d batches applied, %d failed on the full disk", applied, failures)
	if _, err := x.Search(ctx, Query{Q: "prenotazione", Kinds: []string{KindMessage}}); err != nil {
		t.Logf("search while the disk is full: %v", err)
	}

	os.Remove(filler)
	for n := 1000; n < 1003; n++ {
		if err := x.Apply(ctx, batch(n)); err != nil {
			t.Fatalf("after space was freed, batch %d: %v", n, err)
		}
	}
	// Every batch that succeeded, before the disk filled or after, is in.
	// Those that failed are not: the indexer applies them again.
	if st := x.Stats(); st.Messages != uint64(applied*200+600) {
		t.Errorf("the index holds %d messages, want %d", st.Messages, applied*200+600)
	}
	if r, err := x.Search(ctx, Query{Q: "dentista", Kinds: []string{KindMessage}}); err != nil || r.Total == 0 {
		t.Errorf("search after recovery: %v %+v", err, r)
	}
}
