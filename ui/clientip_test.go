package ui

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
	cases := []struct {
		name, remote string
		xff          []string
		trusted      []netip.Prefix
		want         string
	}{
		{"no proxy configured: the header is ignored", "203.0.113.7:5000", []string{"1.2.3.4"}, nil, "203.0.113.7"},
		{"an untrusted peer's header is ignored", "203.0.113.7:5000", []string{"1.2.3.4"}, proxies, "203.0.113.7"},
		{"a trusted proxy names the client", "127.0.0.1:5000", []string{"198.51.100.9"}, proxies, "198.51.100.9"},
		{"the client's own entries on the left are ignored", "127.0.0.1:5000", []string{"6.6.6.6, 198.51.100.9"}, proxies, "198.51.100.9"},
		{"a chain of trusted proxies is walked", "127.0.0.1:5000", []string{"6.6.6.6, 198.51.100.9, 10.1.2.3"}, proxies, "198.51.100.9"},
		{"several header lines are one list", "127.0.0.1:5000", []string{"6.6.6.6", "198.51.100.9, 10.1.2.3"}, proxies, "198.51.100.9"},
		{"garbage stops the walk at the last proxy", "127.0.0.1:5000", []string{"198.51.100.9, bogus, 10.1.2.3"}, proxies, "10.1.2.3"},
		{"an empty header leaves the proxy", "127.0.0.1:5000", nil, proxies, "127.0.0.1"},
		{"every hop trusted: the left-most", "127.0.0.1:5000", []string{"10.9.9.9, 10.1.2.3"}, proxies, "10.9.9.9"},
		{"IPv6 and mapped IPv4", "[::ffff:127.0.0.1]:5000", []string{"2001:db8::1"}, proxies, "2001:db8::1"},
	}
	for _, c := range cases {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := clientAddr(r, c.trusted).String(); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	if k := clientKey(netip.MustParseAddr("2001:db8:1:2:aaaa::1")); k != "2001:db8:1:2::/64" {
		t.Errorf("IPv6 client key %s", k)
	}
}
