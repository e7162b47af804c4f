package campaigns

import (
	"strings"
	"testing"
)

// TestCheckTrackedLink: a tracked link needs a web destination, the
// template's link at sendbox's /r/{{1}}, and, outside the sandbox, an
// address customers' phones can open.
func TestCheckTrackedLink(t *testing.T) {
	for _, tc := range []struct {
		dest, url, base string
		sandbox         bool
		want            string // "" ok, else a part of the error
	}{
		{"https://shop.example/serum", "https://inbox.example.com/r/{{1}}", "https://inbox.example.com", false, ""},
		{"https://shop.example/serum", "http://127.0.0.1:8080/r/{{1}}", "http://127.0.0.1:8080", true, ""},
		{"https://shop.example/serum", "http://127.0.0.1:8080/r/{{1}}", "http://127.0.0.1:8080", false, "SENDBOX_DOMAIN"},
		{"https://shop.example/serum", "http://192.168.1.10:8080/r/{{1}}", "http://192.168.1.10:8080", false, "SENDBOX_DOMAIN"},
		{"https://shop.example/serum", "http://localhost:8080/r/{{1}}", "http://localhost:8080", false, "SENDBOX_DOMAIN"},
		{"https://shop.example/serum", "https://shop.example/{{1}}", "https://inbox.example.com", false, "https://inbox.example.com/r/{{1}}"},
		{"mailto:a@b.c", "https://inbox.example.com/r/{{1}}", "https://inbox.example.com", false, "not a web address"},
	} {
		err := checkTrackedLink(tc.dest, []string{tc.url}, 0, tc.base, tc.sandbox)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: %v, want %q", tc, err, tc.want)
		}
	}
}
