package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sendbox/store"
)

// BenchmarkSnapshotUnderWebhooks launches a campaign to 100,000 tagged
// contacts on the built binary while customer messages arrive as webhooks
// at a steady 100 a second, and reports how long the snapshot of the
// audience took (from sendbox's log) and the webhooks' acknowledgement
// latency while it ran, and in the two seconds before the launch for
// comparison (targets: 3 s, p99 < 50 ms; the longest write
// transaction of the snapshot is BenchmarkSnapshot's, in store/):
//
//	go test -run '^$' -bench BenchmarkSnapshotUnderWebhooks -benchtime 1x -timeout 20m .
func BenchmarkSnapshotUnderWebhooks(b *testing.B) {
	const n, rate = 100_000, 100
	for i := range b.N {
		b.StopTimer()
		meta := newStandIn(b, 80)
		dir := b.TempDir()
		env := append(meta.env(80), "SENDBOX_BULK_SHARE=100", "SENDBOX_LOG_LEVEL=info")
		key, errOut, code := runCLI(b, append(env, "SENDBOX_DATA="+dir), "apikey", "create", "--name", "bench", "--role", "admin")
		if code != 0 {
			b.Fatal(errOut)
		}
		key = strings.TrimSpace(key)
		db, err := sql.Open("sqlite", filepath.Join(dir, "sendbox.db"))
		if err != nil {
			b.Fatal(err)
		}
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		for k := range n {
			var id int64
			if err := tx.QueryRow(`INSERT INTO contacts (wa_id, name, consent, consent_source, consent_at, attributes, created_at, updated_at)
				VALUES (?, ?, 'opted_in', 'benchmark', 0, '{"city":"Roma"}', 0, 0) RETURNING id`,
				fmt.Sprintf("3937%08d", k), fmt.Sprintf("Customer %d", k)).Scan(&id); err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Exec("INSERT INTO contact_tags (contact_id, tag) VALUES (?, 'big')", id); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		db.Close()
		p := start(b, dir, env...)
		meta.target.Store(p.addr)
		c, body := api(b, p, key, "POST", "/api/v1/segments", map[string]any{"name": "Big",
			"rule": map[string]any{"group": "and", "rules": []any{map[string]any{"field": "tag", "op": "has", "value": "big"}}}})
		if c != 201 {
			b.Fatalf("segment: %d %s", c, body)
		}
		var seg struct{ Data store.Segment }
		json.Unmarshal(body, &seg)
		c, body = api(b, p, key, "POST", "/api/v1/campaigns", map[string]any{"name": "Big", "template": "seasonal_offer", "language": "en_US",
			"params": map[string]any{"first_name": map[string]string{"source": "first_name", "fallback": "there"},
				"code": map[string]string{"source": "text", "value": "SNAP"}},
			"segment_id": seg.Data.ID, "settings": map[string]any{"quiet_hours": false}})
		if c != 201 {
			b.Fatalf("create: %d %s", c, body)
		}
		var camp struct{ Data store.Campaign }
		json.Unmarshal(body, &camp)

		// Webhooks from three seconds before the launch (the last two are
		// the baseline) until the snapshot is over and a second more.
		bodies, sigs := signedBodies(rate * 30)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}}
		type sample struct {
			due time.Time
			lat time.Duration
		}
		lat := make([]sample, len(bodies))
		var stop atomic.Bool
		var failed, posted atomic.Int64
		var wg sync.WaitGroup
		t0 := time.Now()
		go func() {
			for k := range bodies {
				due := t0.Add(time.Duration(k) * time.Second / rate)
				if d := time.Until(due); d > 0 {
					time.Sleep(d)
				}
				if stop.Load() {
					return
				}
				posted.Add(1)
				wg.Add(1)
				go func(k int, due time.Time) {
					defer wg.Done()
					code, err := post(client, p.addr, bodies[k], sigs[k])
					lat[k] = sample{due, time.Since(due)} // from when it should have left
					if err != nil || code != 200 {
						failed.Add(1)
					}
				}(k, due)
			}
		}()
		time.Sleep(3 * time.Second)
		launched := time.Now()
		b.StartTimer()
		if c, body := api(b, p, key, "POST", fmt.Sprintf("/api/v1/campaigns/%d/launch", camp.Data.ID), nil); c != 200 {
			b.Fatalf("launch: %d %s", c, body)
		}
		frozen := regexp.MustCompile(`campaign audience frozen.*recipients=(\d+) took=(\S+)`)
		var m []string
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(5 * time.Millisecond) {
			if m = frozen.FindStringSubmatch(p.log.String()); m != nil {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("no snapshot in 2 minutes\n%s", p.log)
			}
		}
		end := time.Now()
		b.StopTimer()
		took, _ := time.ParseDuration(m[2])
		time.Sleep(time.Second)
		stop.Store(true)
		wg.Wait()
		stopProc(p)
		if m[1] != fmt.Sprint(n) {
			b.Fatalf("%s recipients, want %d", m[1], n)
		}
		if failed.Load() > 0 {
			b.Fatalf("%d webhooks not acknowledged", failed.Load())
		}
		var during, before []time.Duration
		for _, s := range lat[:posted.Load()] {
			switch {
			case !s.due.Before(end.Add(-took)) && s.due.Before(end):
				during = append(during, s.lat)
			case s.due.After(launched.Add(-2*time.Second)) && s.due.Before(launched):
				before = append(before, s.lat)
			}
		}
		sort.Slice(during, func(i, j int) bool { return during[i] < during[j] })
		sort.Slice(before, func(i, j int) bool { return before[i] < before[j] })
		pct := func(q float64) float64 { return float64(during[int(q*float64(len(during)-1))].Microseconds()) / 1000 }
		if i == b.N-1 {
			b.ReportMetric(float64(took.Milliseconds()), "snapshot_ms")
			b.ReportMetric(float64(len(during)), "webhooks_during")
			b.ReportMetric(pct(0.50), "p50_ms")
			b.ReportMetric(pct(0.99), "p99_ms")
			b.ReportMetric(float64(during[len(during)-1].Microseconds())/1000, "max_ms")
			b.ReportMetric(float64(before[int(0.99*float64(len(before)-1))].Microseconds())/1000, "p99_before_ms")
			b.ReportMetric(0, "ns/op")
		}
	}
}
