package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sendbox/store"
	"sendbox/whatsapp"
)

// fullDiskFlood posts signed webhooks, each with a 16 KB field sendbox keeps
// in the message's raw JSON, so that a small disk fills in seconds.
type fullDiskFlood struct {
	mu        sync.Mutex
	acked     map[string]bool
	sent      atomic.Int64
	diskFull  atomic.Int64 // 503 disk_full: refused before anything was stored
	ambiguous atomic.Int64 // other failures: the webhook may or may not be stored
	seq       atomic.Int64
}

var floodPad = strings.Repeat("x", 16<<10)

func (f *fullDiskFlood) post(client *http.Client, addr string) (int, string) {
	i := f.seq.Add(1)
	wamid := fmt.Sprintf("wamid.full.%d", i)
	from := fmt.Sprintf("39334%07d", i%700)
	body := []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"200000000000001","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000001","phone_number_id":"100000000000001"},"contacts":[{"profile":{"name":"Cliente %d"},"wa_id":%q}],"messages":[{"from":%q,"id":%q,"timestamp":"%d","type":"text","text":{"body":"Messaggio numero %d"},"pad":%q}]}}]}]}`,
		i, from, from, wamid, time.Now().Unix(), i, floodPad))
	req, _ := http.NewRequest("POST", "http://"+addr+"/webhooks/whatsapp", bytes.NewReader(body))
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign([]byte(crashSecret), body))
	f.sent.Add(1)
	resp, err := client.Do(req)
	if err != nil {
		f.ambiguous.Add(1)
		return 0, ""
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case resp.StatusCode == 200:
		f.mu.Lock()
		f.acked[wamid] = true
		f.mu.Unlock()
	case resp.StatusCode == 503 && bytes.Contains(b, []byte(`"disk_full"`)):
		f.diskFull.Add(1)
	default:
		f.ambiguous.Add(1)
	}
	return resp.StatusCode, string(b)
}

func (f *fullDiskFlood) ackedN() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.acked)
}

// noPanic fails the test if a process log shows a panic, recovered or not.
func noPanic(t *testing.T, what string, log string) {
	t.Helper()
	for _, bad := range []string{"panic: ", "recovered from a panic", "goroutine "} {
		if strings.Contains(log, bad) {
			t.Fatalf("%s: the log shows a panic (%q):\n%s", what, bad, log)
		}
	}
}

func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

func getJSON(t *testing.T, url, key string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(v)
	return resp.StatusCode
}

// TestDiskFullSurvived floods the built binary, its data folder on a small
// tmpfs, until the free-space floor turns webhooks away; then something
// else fills the disk to the last byte; then the space is freed. Then the
// disk is filled again, sendbox killed with SIGKILL and started again on the
// full disk, and the space freed again. It used to end
// in "panic: assignment to entry in nil map" (bleve, from the indexer's
// retry after ENOSPC) and then refuse to start while the disk stayed full.
// Now: no panic, 503 before the disk is full, recovery without a restart
// once space is freed, and after a last SIGKILL every acknowledged webhook
// is stored once.
func TestDiskFullSurvived(t *testing.T) {
	disk := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=192m", "tmpfs", disk).CombinedOutput(); err != nil {
		t.Skipf("a full disk needs a small tmpfs, and mounting one is not permitted here (run as root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", disk).Run() })
	dataDir := filepath.Join(disk, "data")
	env := []string{"SENDBOX_DATA=" + dataDir, "SENDBOX_DISK_FLOOR=40MB", "SENDBOX_OLLAMA_URL=http://127.0.0.1:9"}
	key, errOut, code := runCLI(t, env[:1], "apikey", "create", "--name", "disk", "--role", "admin")
	if code != 0 {
		t.Fatalf("apikey: %s", errOut)
	}
	key = strings.TrimSpace(key)
	// What the rest of the machine uses, written first so that it can be
	// deleted to free space.
	filler := filepath.Join(disk, "filler")
	if err := os.WriteFile(filler, make([]byte, freeBytes(t, disk)-96<<20), 0o600); err != nil {
		t.Fatal(err)
	}

	p := start(t, dataDir, env[1:]...)
	f := &fullDiskFlood{acked: map[string]bool{}}
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

	// 1. A flood until the floor turns webhooks away.
	var wg sync.WaitGroup
	deadline := time.Now().Add(90 * time.Second)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f.diskFull.Load() < 50 && time.Now().Before(deadline) {
				f.post(client, p.addr)
			}
		}()
	}
	wg.Wait()
	if f.diskFull.Load() < 50 || f.ackedN() == 0 {
		t.Fatalf("%d webhooks acknowledged, %d refused for the disk, in 90 s\n%s", f.ackedN(), f.diskFull.Load(), p.log)
	}
	t.Logf("floor reached: %d sent, %d acknowledged, %d refused for the disk, %d other failures",
		f.sent.Load(), f.ackedN(), f.diskFull.Load(), f.ambiguous.Load())
	var ready struct {
		Status string
		Checks map[string]string
	}
	if code := getJSON(t, "http://"+p.addr+"/readyz", "", &ready); code != 503 || !strings.Contains(ready.Checks["disk"], "under the floor") {
		t.Fatalf("readyz under the floor: %d %+v", code, ready)
	}

	// 2. Something else goes on filling the disk, to the last byte, while
	// the backlog is stored and indexed: SQLite and bleve meet ENOSPC.
	last := filepath.Join(disk, "last-byte")
	fillLast := func() {
		fh, err := os.Create(last)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		chunk := make([]byte, 1<<20)
		for pause := true; ; {
			if pause && freeBytes(t, disk) < 4<<20 {
				time.Sleep(2 * time.Second) // a disk fills in seconds, not in one
				pause = false
			}
			if _, err := fh.Write(chunk); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				return
			}
		}
	}
	fillLast()
	for range 20 {
		if code, body := f.post(client, p.addr); code == 200 {
			t.Fatalf("a webhook was acknowledged on a full disk: %s", body)
		}
	}
	time.Sleep(5 * time.Second) // the workers retry meanwhile
	select {
	case err := <-p.done:
		t.Fatalf("sendbox died on the full disk: %v\n%s", err, p.log)
	default:
	}
	full := p.log.String()
	noPanic(t, "on the full disk", full)
	t.Logf("on the full disk: %d log lines about ENOSPC (SQLite: %v, search index: %v, broker: %v)",
		strings.Count(full, "no space left")+strings.Count(full, "disk is full"), strings.Contains(full, "disk is full"),
		strings.Contains(full, "update the search index"), strings.Contains(full, "component=nats"))

	// 3. Space is freed: the same process takes webhooks again, by itself,
	// and everything stored becomes searchable.
	recovers := func(what string) {
		t.Helper()
		os.Remove(last)
		os.Remove(filler)
		freed := time.Now()
		deadline := time.Now().Add(60 * time.Second)
		for getJSON(t, "http://"+p.addr+"/readyz", "", &ready) != 200 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not ready 60 s after space was freed: %+v\n%s", what, ready, p.log)
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("%s: ready %s after space was freed", what, time.Since(freed).Round(100*time.Millisecond))
		before := f.ackedN()
		for range 100 {
			if code, body := f.post(client, p.addr); code != 200 {
				t.Fatalf("%s: a webhook after space was freed: %d %s\n%s", what, code, body, p.log)
			}
		}
		var stored, found struct{ Total int }
		deadline = time.Now().Add(90 * time.Second)
		for {
			getJSON(t, "http://"+p.addr+"/api/v1/messages?direction=inbound&limit=1", key, &stored)
			getJSON(t, "http://"+p.addr+"/api/v1/search?kind=message&direction=inbound&q=messaggio&limit=1", key, &found)
			if stored.Total >= f.ackedN() && found.Total == stored.Total {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: 90 s after space was freed: %d stored, %d searchable, %d acknowledged\n%s",
					what, stored.Total, found.Total, f.ackedN(), p.log)
			}
			time.Sleep(200 * time.Millisecond)
		}
		noPanic(t, what, p.log.String())
		t.Logf("%s: %d more acknowledged; %d stored, all searchable, %s after space was freed",
			what, f.ackedN()-before, stored.Total, time.Since(freed).Round(time.Second))
	}
	recovers("recovered without a restart")

	// 4. Full again, killed, and started while the disk is still full: it
	// serves (not ready: the disk is under the floor) and refuses webhooks;
	// then space is freed and it recovers as before.
	if err := os.WriteFile(filler, make([]byte, max(0, freeBytes(t, disk)-8<<20)), 0o600); err != nil {
		t.Fatal(err)
	}
	fillLast()
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	noPanic(t, "first run", p.log.String())
	p = startUntil(t, dataDir, "/healthz", env[1:]...)
	if code, body := f.post(client, p.addr); code != 503 || !strings.Contains(body, "disk_full") {
		t.Fatalf("a webhook on a full disk after a restart: %d %s", code, body)
	}
	recovers("started on a full disk, then recovered")

	// 5. A last SIGKILL, and the count.
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p = start(t, dataDir, env[1:]...)
	deadline = time.Now().Add(60 * time.Second)
	for p.metric(t, `sendbox_queue_depth{stream="INBOUND"}`) != "0" || p.metric(t, "sendbox_outbox_pending") != "0" {
		if time.Now().After(deadline) {
			t.Fatalf("backlog not stored in 60 s: %s webhooks in the broker, %s events in the outbox\n%s",
				p.metric(t, `sendbox_queue_depth{stream="INBOUND"}`), p.metric(t, "sendbox_outbox_pending"), p.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.done; err != nil {
		t.Fatalf("graceful shutdown: %v\n%s", err, p.log)
	}
	noPanic(t, "last run", p.log.String())
	s, err := store.Open(context.Background(), filepath.Join(dataDir, "sendbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	missing := 0
	for wamid := range f.acked {
		if _, err := s.MessageByWAMID(context.Background(), wamid); err != nil {
			missing++
		}
	}
	c, _ := s.Count(context.Background())
	acked, maybe := f.ackedN(), int(f.ambiguous.Load())
	if missing > 0 || c.Inbound < acked || c.Inbound > acked+maybe {
		t.Fatalf("%d acknowledged webhooks lost; %d stored for %d acknowledged and %d unanswered", missing, c.Inbound, acked, maybe)
	}
	t.Logf("stored %d messages for %d acknowledged webhooks (%d more had no clear answer), none refused for the disk",
		c.Inbound, acked, maybe)
}
