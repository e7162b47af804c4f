package server_test

import (
	"fmt"
	"net/http"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sendbox/config"
	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp/sim"
)

// TestCampaignProfile (SENDBOX_PROFILE_CAMPAIGN=file) sends a campaign of
// 3,000 at 1,000 msgs/s against a simulator that posts sent, delivered and
// read for every message, in one process, and writes the CPU profile of
// the run to the file: where the time per send goes.
func TestCampaignProfile(t *testing.T) {
	out := os.Getenv("SENDBOX_PROFILE_CAMPAIGN")
	if out == "" {
		t.Skip("set SENDBOX_PROFILE_CAMPAIGN to a file")
	}
	const n = 3000
	a := sendboxtest.New(t, sendboxtest.WithGraph(sim.Options{MPS: 1000, StatusWebhooks: true, NoPairRate: true,
		SentDelay: -1, DeliveredDelay: 50 * time.Millisecond, AutoReadAfter: 100 * time.Millisecond}),
		sendboxtest.WithConfig(func(c *config.Config) { c.WA.MPS, c.WA.BulkShare = 1000, 100 }))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				addTagged(t, a, fmt.Sprintf("+3936%08d", i), "P Q", "opted_in", "prof")
			}
		}()
	}
	wg.Wait()
	id := createCampaign(t, a, map[string]any{"name": "Profile", "template": "seasonal_offer", "language": "en_US",
		"params": offer("P"), "segment_id": tagSegment(t, a, "prof"), "settings": map[string]any{"quiet_hours": false}})
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pprof.StartCPUProfile(f)
	start := time.Now()
	campaignAction(t, a, id, "launch", nil)
	// Twice a second: at Eventually's 50 a second, counting the funnel was
	// a tenth of the profile.
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		code, b := a.Do("GET", fmt.Sprintf("/api/v1/campaigns/%d/progress", id), nil)
		if code == http.StatusOK && sendboxtest.JSON[struct{ Data store.CampaignFunnel }](t, b).Data.Read == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out after 5m0s waiting for every message read")
		}
	}
	pprof.StopCPUProfile()
	t.Logf("%d sent, delivered and read in %s", n, time.Since(start).Round(time.Millisecond))
}
