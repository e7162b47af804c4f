package guard

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestDoRecoversAndLogs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	var m map[string]int
	err := Do(log, "index batch", func() { m["x"] = 1 })
	if err == nil || !strings.Contains(err.Error(), "index batch") || !strings.Contains(err.Error(), "nil map") {
		t.Fatalf("err = %v", err)
	}
	out := buf.String()
	for _, want := range []string{"level=ERROR", "work=\"index batch\"", "guard_test.go"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
	if err := Do(log, "fine", func() {}); err != nil {
		t.Fatal(err)
	}
}
