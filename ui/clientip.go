package ui

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr is the address of the client that made r. X-Forwarded-For is
// believed only from a trusted proxy, and then read from the right: each
// proxy appends the address it received from, so the right-most address
// that is not a trusted proxy is the client; what is left of it is whatever
// the client chose to send.
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		a, _ := netip.ParseAddr(host)
		return a.Unmap()
	}
	addr := peer.Addr().Unmap()
	if !isTrusted(addr, trusted) {
		return addr
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		fields := strings.Split(hops[i], ",")
		for j := len(fields) - 1; j >= 0; j-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(fields[j]))
			if err != nil {
				// A trusted proxy wrote what is to the right of it, so
				// that address is the last one known for sure.
				return addr
			}
			addr = hop.Unmap()
			if !isTrusted(addr, trusted) {
				return addr
			}
		}
	}
	return addr
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientKey is the client as the sign-in guard counts it: an IPv4 address,
// or an IPv6 /64, which one subscriber usually holds whole.
func clientKey(a netip.Addr) string {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
