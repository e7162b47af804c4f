package contacts

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sendbox/store"
)

// cpuTime is the CPU time the process used so far (user and system): on a
// shared machine it says more than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkImport100k imports a file of 100,000 contacts (phone in national
// form, name, two tags, consent with its date, an attribute) into an empty
// store: upload, validation pass, then batches. It reports the time per
// import (and for importing the same file again, which must change
// nothing) and the peak growth of the Go heap and of the memory taken from
// the OS while it runs, and fails if a count is not exact.
// Run: go test ./contacts -run x -bench Import100k -benchtime 1x
func BenchmarkImport100k(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	path := filepath.Join(dir, "contacts.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("\uFEFFTelefono;Nome;Tags;Consenso;Data consenso;Città\r\n")
	for i := range n {
		fmt.Fprintf(w, "347 %03d %04d;Cliente %d;\"clienti, lista %d\";sì;2026-03-01;Città %d\r\n", i/10000, i%10000, i, i%7, i%50)
	}
	w.Flush()
	f.Close()

	for b.Loop() {
		b.StopTimer()
		st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "sendbox.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		im := NewImporter(st, filepath.Join(b.TempDir(), "imports"), nil)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		var peakHeap, peakSys atomic.Uint64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peakHeap.Load() {
					peakHeap.Store(m.HeapInuse)
				}
				if m.Sys > peakSys.Load() {
					peakSys.Store(m.Sys)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		b.StartTimer()

		start := time.Now()
		cpu0 := cpuTime()
		in, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		j, _, err := im.Upload(ctx, "contacts.csv", in)
		in.Close()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := im.Start(ctx, j.ID, StartRequest{Mode: ModeUpsert, Country: "IT"}); err != nil {
			b.Fatal(err)
		}
		nj, err := st.NextImportJob(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := im.process(ctx, nj); err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		cpu := cpuTime() - cpu0

		b.StopTimer()
		close(stop)
		<-sampled
		j, err = st.ImportJob(ctx, j.ID)
		if err != nil {
			b.Fatal(err)
		}
		if j.State != store.ImportDone || j.Counts != (store.ImportCounts{Created: n}) || j.Rows != n {
			b.Fatalf("counts: %+v", j)
		}
		var c int
		_, c, _, err = st.ListContacts(ctx, store.ContactFilter{Limit: 1})
		if err != nil || c != n {
			b.Fatalf("%d contacts, %v", c, err)
		}
		// The same file again: every row unchanged, nothing written.
		start = time.Now()
		in, err = os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		j2, _, err := im.Upload(ctx, "contacts.csv", in)
		in.Close()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := im.Start(ctx, j2.ID, StartRequest{Mode: ModeUpsert, Country: "IT"}); err != nil {
			b.Fatal(err)
		}
		if nj, err = st.NextImportJob(ctx); err != nil {
			b.Fatal(err)
		}
		if err := im.process(ctx, nj); err != nil {
			b.Fatal(err)
		}
		again := time.Since(start)
		if j2, err = st.ImportJob(ctx, j2.ID); err != nil || j2.Counts != (store.ImportCounts{Unchanged: n}) {
			b.Fatalf("re-import: %+v %v", j2, err)
		}
		b.ReportMetric(again.Seconds(), "s/reimport")
		b.ReportMetric(elapsed.Seconds(), "s/import")
		b.ReportMetric(cpu.Seconds(), "cpu-s/import")
		b.ReportMetric(float64(peakHeap.Load()-min(before.HeapInuse, peakHeap.Load()))/(1<<20), "MB-heap-peak-growth")
		b.ReportMetric(float64(peakSys.Load()-min(before.Sys, peakSys.Load()))/(1<<20), "MB-sys-growth")
		st.Close()
		b.StartTimer()
	}
}
