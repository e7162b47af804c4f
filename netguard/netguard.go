// Package netguard is the HTTP client for requests whose address a
// business writes (a flow's HTTP step): it refuses loopback, private,
// link-local (the cloud metadata service at 169.254.169.254), shared
// (CGNAT), unspecified, multicast and reserved addresses, unless the host
// is one the admin allowed (SENDBOX_HTTP_ALLOW_HOSTS).
//
// The check runs in the dialer's Control hook, on the address actually
// connected to, after DNS resolution: a name that resolves to a private
// address is refused like the address itself, a name whose DNS answer
// changes between a check and the connection (DNS rebinding) gains
// nothing, and every redirect hop is dialled, so checked, again.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Defaults of Options.
const (
	DefaultTimeout      = 15 * time.Second
	DefaultMaxBody      = 1 << 20
	DefaultMaxRedirects = 5
)

// Options tune a guarded client.
type Options struct {
	// Allow are hosts ("erp.lan", "10.0.0.5", "[fd00::1]") or host:ports
	// ("erp.lan:8443") that may be reached whatever their address. A bare
	// host allows every port; matching is on the request URL's host.
	Allow []string
	// Timeout bounds a whole request, redirects and reading the body
	// included; 0 is DefaultTimeout.
	Timeout time.Duration
	// MaxBody is the most bytes a response body may have; reading past it
	// fails with a *BodyTooLargeError. 0 is DefaultMaxBody.
	MaxBody int64
	// MaxRedirects is how many redirects are followed; 0 is
	// DefaultMaxRedirects, a negative number follows none.
	MaxRedirects int
}

// NewClient returns a guarded client with the default limits that may
// reach the hosts of allow (SENDBOX_HTTP_ALLOW_HOSTS) and extra ones
// (sandbox mode adds sendbox's own address, for the demo catalogue).
func NewClient(allow []string, extra ...string) *http.Client {
	return New(Options{Allow: append(append([]string(nil), allow...), extra...)})
}

// New returns a guarded client. Proxies from the environment are not used:
// a proxy would connect on the client's behalf, past the guard.
func New(o Options) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	g := &guard{hosts: map[string]bool{}, hostPorts: map[string]bool{}}
	for _, a := range o.Allow {
		g.allow(a)
	}
	guarded := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: control}
	open := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if g.allowed(addr) {
				return open.DialContext(ctx, network, addr)
			}
			c, err := guarded.DialContext(ctx, network, addr)
			var be *BlockedError
			if errors.As(err, &be) {
				be.Host, _, _ = net.SplitHostPort(addr)
			}
			return c, err
		},
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: o.Timeout,
		ForceAttemptHTTP2:     true,
	}
	redirects := max(0, o.MaxRedirects)
	return &http.Client{
		Timeout:   o.Timeout,
		Transport: &capped{next: tr, max: o.MaxBody},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > redirects {
				return &TooManyRedirectsError{Max: redirects}
			}
			return nil
		},
	}
}

// guard holds the allow-list, lowercased: hosts allow any port.
type guard struct {
	hosts     map[string]bool
	hostPorts map[string]bool
}

func (g *guard) allow(a string) {
	a = strings.ToLower(strings.TrimSpace(a))
	if a == "" {
		return
	}
	if h, p, err := net.SplitHostPort(a); err == nil {
		g.hostPorts[net.JoinHostPort(h, p)] = true
		return
	}
	g.hosts[strings.TrimSuffix(strings.TrimPrefix(a, "["), "]")] = true
}

// allowed reports whether the dial address, the request URL's host:port
// as the transport dials it, is on the list.
func (g *guard) allowed(addr string) bool {
	h, p, err := net.SplitHostPort(strings.ToLower(addr))
	if err != nil {
		return false
	}
	h = strings.TrimSuffix(h, ".")
	return g.hosts[h] || g.hostPorts[net.JoinHostPort(h, p)]
}

// control refuses a connection to an address that is not public. It sees
// the resolved address: one call per address the dialer tries.
func control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netguard: unexpected dial address %q: %w", address, err)
	}
	if kind := Classify(ap.Addr()); kind != "" {
		return &BlockedError{IP: ap.Addr().Unmap(), Kind: kind}
	}
	return nil
}

var special = []struct {
	prefix netip.Prefix
	kind   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"}, // "this network": 0.0.0.0 reaches the host itself
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (CGNAT)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "reserved"}, // benchmarking, used inside some networks
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"}, // and the broadcast address
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("fc00::/7"), "private"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "private"}, // the deprecated site-local addresses
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// Classify says why ip may not be reached from outside ("loopback",
// "private", "link-local", "shared (CGNAT)", "unspecified", "multicast",
// "reserved"), or "" for a public address. IPv4 addresses written as IPv6
// (::ffff:10.0.0.1, and inside NAT64's 64:ff9b::/96) are judged as IPv4;
// an IPv6 zone is ignored.
func Classify(ip netip.Addr) string {
	// A prefix never contains an address with a zone (fe80::1%eth0).
	ip = ip.Unmap().WithZone("")
	if ip.Is6() && nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	for _, s := range special {
		if s.prefix.Contains(ip) {
			return s.kind
		}
	}
	return ""
}

var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// BlockedError is a refused connection to an address that is not public.
type BlockedError struct {
	Host string     // the request's host, as written in the URL
	IP   netip.Addr // the address it was to connect to
	Kind string     // as Classify says
}

func (e *BlockedError) Error() string {
	article := "a"
	if strings.ContainsAny(e.Kind[:1], "aeiou") {
		article = "an"
	}
	what := e.IP.String()
	if _, err := netip.ParseAddr(e.Host); err != nil && e.Host != "" {
		what = e.Host + " resolves to " + e.IP.String() + ", which"
	}
	return fmt.Sprintf("%s is %s %s address: add the host to SENDBOX_HTTP_ALLOW_HOSTS to allow it", what, article, e.Kind)
}

// BodyTooLargeError is what reading a response body past the limit returns.
type BodyTooLargeError struct{ Limit int64 }

func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("the response body is over %d bytes", e.Limit)
}

// SchemeError refuses a URL that is not http or https.
type SchemeError struct{ Scheme string }

func (e *SchemeError) Error() string {
	return fmt.Sprintf("only http and https URLs can be requested, not %q", e.Scheme)
}

// TooManyRedirectsError stops a request redirected more than Max times.
type TooManyRedirectsError struct{ Max int }

func (e *TooManyRedirectsError) Error() string {
	return fmt.Sprintf("stopped after %d redirects", e.Max)
}

// capped refuses other schemes and caps the response bodies.
type capped struct {
	next http.RoundTripper
	max  int64
}

func (c *capped) RoundTrip(req *http.Request) (*http.Response, error) {
	if s := req.URL.Scheme; s != "http" && s != "https" {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &SchemeError{Scheme: s}
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{rc: resp.Body, left: c.max, limit: c.max, declared: resp.ContentLength}
	return resp, nil
}

// cappedBody passes at most limit bytes, then fails if there is more.
type cappedBody struct {
	rc       io.ReadCloser
	left     int64
	limit    int64
	declared int64 // Content-Length, or -1
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.declared > b.limit {
		return 0, &BodyTooLargeError{Limit: b.limit}
	}
	if b.left <= 0 {
		// The limit is reached: it is an error only if more follows.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, &BodyTooLargeError{Limit: b.limit}
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }
