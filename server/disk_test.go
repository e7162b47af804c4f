package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"sendbox/config"
	"sendbox/events"
	"sendbox/sendboxtest"
)

// TestDiskFloorRefusesWebhooks: with less free space than the floor,
// webhooks are answered 503 (Meta delivers them again later) rather than
// taken into a broker and a database about to run out of disk, and
// /readyz says why. (The floor here is above any disk's size; the crash
// test with a real full disk is TestDiskFullSurvived in the main package.)
func TestDiskFloorRefusesWebhooks(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithConfig(func(c *config.Config) { c.DiskFloor = 1 << 50 }))
	code, body := a.PostWebhook(textWebhook("wamid.full1", "393330000777", "c'è posto?", ""))
	e := sendboxtest.JSON[struct {
		Error struct{ Code, Message string }
	}](t, body)
	if code != 503 || e.Error.Code != "disk_full" || !strings.Contains(e.Error.Message, "SENDBOX_DISK_FLOOR") {
		t.Fatalf("webhook under the floor: %d %s", code, body)
	}
	code, body = a.Do("GET", "/readyz", nil)
	r := sendboxtest.JSON[struct {
		Status string
		Checks map[string]string
	}](t, body)
	if code != 503 || !strings.Contains(r.Checks["disk"], "free, under the floor") || r.Checks["broker"] != "ok" {
		t.Fatalf("readyz under the floor: %d %s", code, body)
	}
	time.Sleep(100 * time.Millisecond)
	if d := a.Broker.StreamDepths(context.Background())[events.StreamInbound]; d != 0 {
		t.Fatalf("%d refused webhooks reached the broker", d)
	}
	if _, err := a.Store.MessageByWAMID(context.Background(), "wamid.full1"); err == nil {
		t.Fatal("a refused webhook was stored")
	}
}
