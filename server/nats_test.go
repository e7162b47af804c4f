package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"sendbox/config"
	"sendbox/sendboxtest"
)

// TestExternalNATS runs sendbox against a separate NATS server with
// JetStream, as SENDBOX_NATS_URL configures it: the same streams, consumers
// and pipeline.
func TestExternalNATS(t *testing.T) {
	// max_payload as the README asks: room for a 4 MiB webhook.
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: t.TempDir(), NoSigs: true, NoLog: true, MaxPayload: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })

	a := sendboxtest.New(t, sendboxtest.WithConfig(func(c *config.Config) { c.NATSURL = ns.ClientURL() }))
	if code, _ := a.PostWebhook(textWebhook("wamid.ext1", "393330001111", "via an external broker", "")); code != 200 {
		t.Fatal(code)
	}
	drained(t, a)
	if _, err := a.Store.MessageByWAMID(context.Background(), "wamid.ext1"); err != nil {
		t.Fatal(err)
	}
	// The streams live on the external server.
	if n := ns.JetStreamNumAccounts(); n == 0 {
		t.Fatal("no JetStream account in use on the external server")
	}
	jsz, err := ns.Jsz(&server.JSzOptions{})
	if err != nil || jsz.Streams < 4 {
		t.Fatalf("external server holds %d streams (%v)", jsz.Streams, err)
	}
	code, body := a.Do("GET", "/readyz", nil)
	if code != 200 {
		t.Fatalf("readyz: %d %s", code, body)
	}
}
