package whatsapp

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"
)

func apiErr(code, status int) *APIError {
	return &APIError{HTTPStatus: status, Code: code, Type: "OAuthException", Message: "m"}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, Stop},
		{"validation", &ValidationError{Field: "to", Code: "invalid_recipient"}, FixRequest},
		{"wrapped validation", fmt.Errorf("send: %w", &ValidationError{}), FixRequest},
		{"context canceled", context.Canceled, Retry},
		{"deadline", fmt.Errorf("graph: %w", context.DeadlineExceeded), Retry},
		{"unexpected EOF", &url.Error{Op: "Post", URL: "https://graph.facebook.com", Err: io.ErrUnexpectedEOF}, Retry},
		{"connection reset", &url.Error{Op: "Post", URL: "u", Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}, Retry},
		{"dns", &url.Error{Op: "Post", URL: "u", Err: &net.DNSError{Err: "no such host", Name: "graph.facebook.com"}}, Retry},
		{"unknown certificate", &url.Error{Op: "Post", URL: "u", Err: x509.UnknownAuthorityError{}}, Stop},
		{"too large", fmt.Errorf("%w: 200 MB", ErrTooLarge), Stop},
		{"bad response", ErrBadResponse, Stop},
		{"not configured", ErrNotConfigured, Stop},
		{"unknown error", errors.New("something odd"), Retry},
		{"502 without a code", &APIError{HTTPStatus: 502, Message: "<html>Bad Gateway</html>"}, Retry},
		{"500 without a code", &APIError{HTTPStatus: 500}, Retry},
		{"429 without a code", &APIError{HTTPStatus: 429}, Retry},
		{"401 without a code", &APIError{HTTPStatus: 401}, Stop},
		{"404 without a code", &APIError{HTTPStatus: 404}, FixRequest},
		{"400 unknown code", apiErr(999999, 400), FixRequest},
		{"500 unknown code", apiErr(999999, 500), Retry},
		{"400 unknown code, transient", &APIError{HTTPStatus: 400, Code: 999999, IsTransient: true}, Retry},
		{"wrapped API error", fmt.Errorf("send to x: %w", apiErr(131026, 400)), Stop},
		{"final code on 5xx", apiErr(131026, 500), Stop},
		{"code 0 AuthException", &APIError{HTTPStatus: 400, Code: 0, Type: "OAuthException"}, Stop},
	}
	retry := []int{130429, 131056, 131000, 131016, 2, 4, 80007, 131057, 1, 17, 32, 613}
	fix := []int{100, 131008, 131009, 131021, 131053, 132000, 132001, 132005, 132007, 132012, 131047}
	stop := []int{190, 368, 131005, 131026, 131031, 131042, 131048, 131049, 131050, 132015, 132016, 133010, 130472, 130497, 131030, 10, 200, 3, 131037, 131045}
	for _, c := range retry {
		tests = append(tests, struct {
			name string
			err  error
			want Class
		}{fmt.Sprint(c), apiErr(c, 400), Retry})
	}
	for _, c := range fix {
		tests = append(tests, struct {
			name string
			err  error
			want Class
		}{fmt.Sprint(c), apiErr(c, 500), FixRequest})
	}
	for _, c := range stop {
		tests = append(tests, struct {
			name string
			err  error
			want Class
		}{fmt.Sprint(c), apiErr(c, 400), Stop})
	}
	for _, tt := range tests {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("%s: Classify(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestClassString(t *testing.T) {
	t.Parallel()
	for c, want := range map[Class]string{Retry: "retry", FixRequest: "fix_request", Stop: "stop", 0: "Class(0)"} {
		if c.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(c), c.String(), want)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	network := &url.Error{Op: "Post", URL: "u", Err: io.ErrUnexpectedEOF}
	tests := []struct {
		name    string
		err     error
		attempt int
		want    time.Duration // before jitter
	}{
		{"pair rate 0", apiErr(131056, 400), 0, time.Second},
		{"pair rate 1", apiErr(131056, 400), 1, 4 * time.Second},
		{"pair rate 2", apiErr(131056, 400), 2, 16 * time.Second},
		{"pair rate 4", apiErr(131056, 400), 4, 256 * time.Second},
		{"pair rate capped", apiErr(131056, 400), 5, 15 * time.Minute},
		{"pair rate huge attempt", apiErr(131056, 400), 1000, 15 * time.Minute},
		{"throughput 0", apiErr(130429, 429), 0, time.Second},
		{"throughput 3", apiErr(130429, 429), 3, 8 * time.Second},
		{"throughput capped", apiErr(130429, 429), 7, time.Minute},
		{"upgrade", apiErr(131057, 400), 0, time.Minute},
		{"upgrade later", apiErr(131057, 400), 5, time.Minute},
		{"app rate limit 0", apiErr(4, 400), 0, time.Minute},
		{"app rate limit 2", apiErr(4, 400), 2, 4 * time.Minute},
		{"waba rate limit capped", apiErr(80007, 400), 10, 30 * time.Minute},
		{"5xx 0", &APIError{HTTPStatus: 503}, 0, 2 * time.Second},
		{"5xx 3", &APIError{HTTPStatus: 503}, 3, 16 * time.Second},
		{"5xx capped", &APIError{HTTPStatus: 503}, 20, 5 * time.Minute},
		{"131000", apiErr(131000, 500), 1, 4 * time.Second},
		{"network", network, 2, 8 * time.Second},
		{"negative attempt", network, -3, 2 * time.Second},
		{"not retryable", apiErr(131026, 400), 0, 0},
		{"validation", &ValidationError{}, 0, 0},
		{"nil", nil, 0, 0},
	}
	for _, tt := range tests {
		for range 20 {
			got := RetryDelay(tt.err, tt.attempt)
			lo, hi := tt.want-tt.want/10, tt.want+tt.want/10
			if got < lo || got > hi {
				t.Errorf("%s: RetryDelay(attempt %d) = %v, want %v ±10%%", tt.name, tt.attempt, got, tt.want)
				break
			}
		}
	}
	// The jitter really varies.
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[RetryDelay(network, 3)] = true
	}
	if len(seen) < 2 {
		t.Error("RetryDelay has no jitter")
	}
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	codes := []int{4, 80007, 100, 190, 368, 130429, 131000, 131005, 131008, 131009, 131021, 131026, 131031, 131042,
		131047, 131048, 131049, 131051, 131052, 131053, 131056, 132000, 132001, 132005, 132007, 132012, 132015, 132016, 133010,
		0, 3, 10, 200, 2, 130472, 130497, 131016, 131030, 131037, 131045, 131050, 131057, 131064, 135000}
	for _, c := range codes {
		if ErrorText(c) == "" {
			t.Errorf("ErrorText(%d) is empty", c)
		}
	}
	if got := ErrorText(131047); got != "More than 24 hours since the customer's last message: only a template can be sent." {
		t.Errorf("ErrorText(131047) = %q", got)
	}
	if ErrorText(424242) != "" {
		t.Error("ErrorText of an unknown code is not empty")
	}
}

func TestAPIErrorString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *APIError
		want string
	}{
		{&APIError{HTTPStatus: 400, Code: 131026, Message: "Message undeliverable", Details: "details"}, "graph: (#131026) Message undeliverable: details (http 400)"},
		{&APIError{HTTPStatus: 400, Code: 131030, Message: "(#131030) Recipient phone number not in allowed list", Details: "Recipient phone number not in allowed list: add it"},
			"graph: (#131030) Recipient phone number not in allowed list: Recipient phone number not in allowed list: add it (http 400)"},
		{&APIError{HTTPStatus: 502, Message: "Bad Gateway"}, "graph: Bad Gateway (http 502)"},
		{&APIError{HTTPStatus: 503}, "graph: Service Unavailable (http 503)"},
		{&APIError{HTTPStatus: 400, Code: 100, Message: "Invalid parameter", Details: "Invalid parameter"}, "graph: (#100) Invalid parameter (http 400)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
