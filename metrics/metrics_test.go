package metrics

import (
	"strings"
	"testing"
)

func TestWriteText(t *testing.T) {
	r := NewRegistry()
	c := r.Counter("sendbox_webhooks_received_total", "Webhooks received.", "result")
	c.With("ok").Add(3)
	c.With("bad_signature").Inc()
	plain := r.Counter("sendbox_plain_total", "A counter without labels.")
	_ = plain
	h := r.Histogram("sendbox_send_latency_seconds", "Send latency.", []float64{0.1, 0.01}, "kind")
	h.With("text").Observe(0.005)
	h.With("text").Observe(0.05)
	h.With("text").Observe(5)
	r.GaugeVecFunc("sendbox_queue_depth", "Pending work.", []string{"queue"}, func() []Sample {
		return []Sample{{Labels: []string{"inbound"}, Value: 7}}
	})

	var sb strings.Builder
	if err := r.WriteText(&sb); err != nil {
		t.Fatal(err)
	}
	out := sb.String()
	for _, want := range []string{
		"# TYPE sendbox_webhooks_received_total counter",
		`sendbox_webhooks_received_total{result="ok"} 3`,
		`sendbox_webhooks_received_total{result="bad_signature"} 1`,
		"sendbox_plain_total 0",
		`sendbox_send_latency_seconds_bucket{kind="text",le="0.01"} 1`,
		`sendbox_send_latency_seconds_bucket{kind="text",le="0.1"} 2`,
		`sendbox_send_latency_seconds_bucket{kind="text",le="+Inf"} 3`,
		`sendbox_send_latency_seconds_count{kind="text"} 3`,
		`sendbox_send_latency_seconds_sum{kind="text"} 5.055`,
		`sendbox_queue_depth{queue="inbound"} 7`,
		"# TYPE go_goroutines gauge",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if ResidentMemory() <= 0 {
		t.Error("resident memory not read from /proc")
	}
}

func TestLabelArityPanics(t *testing.T) {
	r := NewRegistry()
	c := r.Counter("x_total", "x", "a")
	defer func() {
		if recover() == nil {
			t.Error("wrong label count did not panic")
		}
	}()
	c.With()
}

func TestSameNameSharesTheFamily(t *testing.T) {
	r := NewRegistry()
	r.Counter("stored_total", "Stored.", "direction").With("inbound").Add(2)
	r.Counter("stored_total", "Stored.", "direction").With("inbound").Inc()
	if v := r.Counter("stored_total", "Stored.", "direction").With("inbound").Value(); v != 3 {
		t.Fatalf("got %d", v)
	}
	defer func() {
		if recover() == nil {
			t.Error("re-registering with other labels did not panic")
		}
	}()
	r.Counter("stored_total", "Stored.")
}
