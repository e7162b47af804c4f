package server_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sendbox/app"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"sendbox/config"
	"sendbox/sendboxtest"
)

// bigWebhook builds a signed-size webhook of exactly size bytes: as many
// text messages of about 4,000 characters (WhatsApp's longest) as fit, from
// one sender, and padding in a field sendbox does not read for the rest.
func bigWebhook(size int, from, prefix string) (body []byte, wamids []string) {
	text := strings.Repeat("Vorrei sapere se avete disponibilità per sabato. ", 80)[:4000]
	head := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"200000000000001","changes":[{"field":"messages","value":{`+
		`"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000001","phone_number_id":"100000000000001"},`+
		`"contacts":[{"profile":{"name":"Grande"},"wa_id":%q}],"messages":[`, from)
	const tail = `],"padding":"%s"}}]}]}`
	var b bytes.Buffer
	b.WriteString(head)
	for i := 0; ; i++ {
		msg := fmt.Sprintf(`{"from":%q,"id":"%s.%d","timestamp":"%d","type":"text","text":{"body":%q}}`,
			from, prefix, i, time.Now().Unix(), text)
		if b.Len()+len(msg)+1+len(tail) >= size {
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(msg)
		wamids = append(wamids, fmt.Sprintf("%s.%d", prefix, i))
	}
	pad := size - b.Len() - len(tail) + 2
	b.WriteString(fmt.Sprintf(tail, strings.Repeat("x", pad)))
	return b.Bytes(), wamids
}

// TestBigWebhooksAreStored posts bodies from 1 MiB up to the 4 MiB limit
// itself. NATS carries at most 1 MiB by default: above it the broker refused
// the body and Meta got 503 for the same bytes on every retry, for days.
func TestBigWebhooksAreStored(t *testing.T) {
	a := sendboxtest.New(t)
	total := 0
	for i, mib := range []float64{1.0, 1.5, 2.8, 4.0} {
		size := int(mib * (1 << 20))
		body, wamids := bigWebhook(size, fmt.Sprintf("3933300%05d", i), fmt.Sprintf("wamid.big%d", i))
		if len(body) != size {
			t.Fatalf("built %d bytes, want %d", len(body), size)
		}
		if code, resp := a.PostWebhook(body); code != 200 {
			t.Fatalf("%.1f MiB webhook: %d %s", mib, code, resp)
		}
		total += len(wamids)
		drained(t, a)
		for _, w := range []string{wamids[0], wamids[len(wamids)-1]} {
			if _, err := a.Store.MessageByWAMID(context.Background(), w); err != nil {
				t.Fatalf("%.1f MiB webhook: %s not stored: %v", mib, w, err)
			}
		}
	}
	// In the inbox, through the API, as an integration sees them.
	code, b := a.Do("GET", "/api/v1/messages?direction=inbound&limit=1", nil)
	if page := sendboxtest.JSON[struct{ Total int }](t, b); code != 200 || page.Total != total {
		t.Fatalf("the API lists %d inbound messages, want %d (%d)", page.Total, total, code)
	}
	// One byte over the limit is refused at once, and never queued.
	over, _ := bigWebhook(4<<20+1, "393330099999", "wamid.over")
	if code, resp := a.PostWebhook(over); code != http.StatusRequestEntityTooLarge || !bytes.Contains(resp, []byte("body_too_large")) {
		t.Fatalf("over the limit: %d %s", code, resp)
	}
}

// natsWithMaxPayload starts a NATS server with JetStream on loopback, as an
// external broker whose operator set max_payload.
func natsWithMaxPayload(t *testing.T, maxPayload int32) *natsserver.Server {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: t.TempDir(), NoSigs: true, NoLog: true, MaxPayload: maxPayload})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

// TestExternalNATSMaxPayload: an external NATS server that cannot carry the
// largest webhook is refused at start, with a message that names both ways
// out; one that can carries a 4 MiB body end to end.
func TestExternalNATSMaxPayload(t *testing.T) {
	small := natsWithMaxPayload(t, 1<<20) // NATS's default
	cfg := config.Defaults()
	cfg.DataDir, cfg.HTTPAddr, cfg.OllamaURL, cfg.NATSURL = t.TempDir(), "127.0.0.1:0", "http://127.0.0.1:9", small.ClientURL()
	sb, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		sb.Close(context.Background())
		t.Fatal("sendbox started on a NATS server that cannot carry a 4 MiB webhook")
	}
	for _, want := range []string{"max_payload", "SENDBOX_WEBHOOK_MAX_BYTES", "at most 1048576 bytes", "to 5MB", "to 1044480 or less"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q: %v", want, err)
		}
	}

	// The operator lowers the limit knowingly: it starts.
	sendboxtest.New(t, sendboxtest.WithConfig(func(c *config.Config) {
		c.NATSURL, c.WebhookMaxBytes = small.ClientURL(), 1<<20-8<<10
	}))

	big := natsWithMaxPayload(t, 8<<20)
	a := sendboxtest.New(t, sendboxtest.WithConfig(func(c *config.Config) { c.NATSURL = big.ClientURL() }))
	body, wamids := bigWebhook(4<<20, "393330088888", "wamid.ext.big")
	if code, resp := a.PostWebhook(body); code != 200 {
		t.Fatalf("4 MiB through an external broker: %d %s", code, resp)
	}
	drained(t, a)
	if _, err := a.Store.MessageByWAMID(context.Background(), wamids[len(wamids)-1]); err != nil {
		t.Fatal(err)
	}
}
