package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sendbox/store"
)

// TestFlowRunsSurviveKills starts 1,000 flow runs from order events (a
// set, a template, a wait, a second set and template, a wait, an end),
// kills the built binary with SIGKILL three times while they step, and
// checks that every run ends as it would have without the kills: each
// customer got each of the two messages exactly once (counted at the
// stand-in for Meta), each run ended "done" with both attributes set.
// SENDBOX_BENCH_FLOW_CRASH=1 runs the figure: 5,000 runs.
func TestFlowRunsSurviveKills(t *testing.T) {
	if testing.Short() {
		t.Skip("a crash test of the built binary")
	}
	n := 1000
	if os.Getenv("SENDBOX_BENCH_FLOW_CRASH") == "1" {
		n = 5000
	}
	const mps = 1000
	meta := newStandIn(t, mps)
	dir := t.TempDir()
	env := meta.env(mps)
	key, errOut, code := runCLI(t, append(env, "SENDBOX_DATA="+dir), "apikey", "create", "--name", "crash", "--role", "admin")
	if code != 0 {
		t.Fatal(errOut)
	}
	key = strings.TrimSpace(key)
	p := start(t, dir, env...)
	meta.target.Store(p.addr)

	def := map[string]any{
		"triggers": []any{map[string]any{"type": "event", "event": "order.created"}},
		"steps": []any{
			map[string]any{"id": "a", "type": "set", "attribute": "order", "value": "{{event.order_id}}"},
			map[string]any{"id": "confirm", "type": "send", "template": map[string]any{"name": "order_confirmation", "language": "en",
				"params": []string{"{{event.order_id}}"}}},
			map[string]any{"id": "w1", "type": "wait", "duration": "2s"},
			map[string]any{"id": "b", "type": "set", "attribute": "stage", "value": "shipped"},
			map[string]any{"id": "ship", "type": "send", "template": map[string]any{"name": "shipping_update", "language": "en",
				"params": []string{"{{event.order_id}}", "Poste", "https://track.example/{{event.order_id}}"}}},
			map[string]any{"id": "w2", "type": "wait", "duration": "1s"},
			map[string]any{"id": "done", "type": "end", "outcome": "done"},
		},
	}
	code2, b := api(t, p, key, "POST", "/api/v1/flows", map[string]any{"name": "Orders", "definition": def})
	if code2 != 201 {
		t.Fatalf("create: %d %s", code2, b)
	}
	if code2, b := api(t, p, key, "POST", "/api/v1/flows/1/publish", nil); code2 != 200 {
		t.Fatalf("publish: %d %s", code2, b)
	}
	phone := func(i int) string { return fmt.Sprintf("3934%08d", i) }
	posted := make(chan int, 1)
	go func() {
		for i := range n {
			for {
				addr, _ := meta.target.Load().(string)
				c, _ := apiTry(addr, key, "POST", "/api/v1/events", map[string]any{"name": "order.created", "contact": "+" + phone(i),
					"key": fmt.Sprintf("O-%d", i), "data": map[string]string{"order_id": fmt.Sprintf("O-%d", i)}})
				if c == 202 {
					break
				}
				time.Sleep(50 * time.Millisecond) // sendbox is down: post it again, as a shop's system would
			}
		}
		posted <- n
	}()

	st, err := store.Open(context.Background(), filepath.Join(dir, "sendbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	count := func(state string) int {
		active, outcomes, err := st.FlowRunCounts(context.Background(), 1, 0)
		if err != nil {
			return 0
		}
		if state == store.RunActive {
			return active
		}
		ended := 0
		for _, c := range outcomes {
			ended += c
		}
		return ended
	}
	for k := range 3 {
		// Kill once a share of the runs has started or ended since the last restart.
		target := (k + 1) * n / 4
		for deadline := time.Now().Add(2 * time.Minute); count(store.RunActive)+count(store.RunEnded) < target; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("kill %d: only %d runs after 2 minutes\n%s", k+1, count(store.RunActive)+count(store.RunEnded), p.log)
			}
		}
		meta.target.Store("")
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		p = start(t, dir, env...)
		meta.target.Store(p.addr)
	}
	defer stopProc(p)
	<-posted
	for deadline := time.Now().Add(5 * time.Minute); count(store.RunEnded) < n; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d runs ended 5 minutes after the last kill\n%s", count(store.RunEnded), n, p.log)
		}
	}
	var bad []string
	_, byOutcome, err := st.FlowRunCounts(context.Background(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	outcomes, attrs := byOutcome["done"], 0
	for i := range n {
		c, err := st.ContactByRecipient(context.Background(), phone(i), "")
		if err == nil && c.Attributes["stage"] == "shipped" && c.Attributes["order"] == fmt.Sprintf("O-%d", i) {
			attrs++
		}
	}
	if outcomes != n || attrs != n {
		bad = append(bad, fmt.Sprintf("%d runs done, %d contacts with both attributes, of %d", outcomes, attrs, n))
	}
	// Every message sent: wait for the sender to drain, then count at Meta.
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		meta.mu.Lock()
		total := 0
		for _, c := range meta.byTo {
			total += c
		}
		meta.mu.Unlock()
		if total >= 2*n || time.Now().After(deadline) {
			break
		}
	}
	meta.mu.Lock()
	twice, missing := 0, 0
	for i := range n {
		switch c := meta.byTo[phone(i)]; {
		case c > 2:
			twice++
		case c < 2:
			missing++
		}
	}
	meta.mu.Unlock()
	if twice > 0 || missing > 0 {
		bad = append(bad, fmt.Sprintf("%d customers got a message twice, %d are missing one", twice, missing))
	}
	if len(bad) > 0 {
		t.Fatalf("%s\n%s", strings.Join(bad, "; "), p.log)
	}
	t.Logf("%d runs through 3 kills: each ended once, %d messages sent, each once", n, 2*n)
}

// apiTry is api without failing the test: the process may be down.
func apiTry(addr, key, method, path string, body any) (int, []byte) {
	if addr == "" {
		return 0, nil
	}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, "http://"+addr+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}
