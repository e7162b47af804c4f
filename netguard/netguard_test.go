package netguard_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"sendbox/netguard"
)

// hostPort is the host:port of a test server's URL.
func hostPort(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func blocked(t *testing.T, err error) *netguard.BlockedError {
	t.Helper()
	var be *netguard.BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("want a *netguard.BlockedError, got %T %v", err, err)
	}
	return be
}

// TestRefusesAddressesThatAreNotPublic: loopback, private, link-local (the
// metadata service), shared and unspecified addresses are refused before
// any byte is sent, and so is a name that resolves to loopback.
func TestRefusesAddressesThatAreNotPublic(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	c := netguard.NewClient(nil)
	for _, tc := range []struct{ url, want string }{
		{srv.URL + "/", "127.0.0.1 is a loopback address: add the host to SENDBOX_HTTP_ALLOW_HOSTS to allow it"},
		{"http://localhost:" + port + "/", "localhost resolves to "},
		{"http://[::1]:" + port + "/", "::1 is a loopback address"},
		{"http://10.0.0.5/", "10.0.0.5 is a private address: add the host to SENDBOX_HTTP_ALLOW_HOSTS to allow it"},
		{"http://192.168.1.1/", "192.168.1.1 is a private address"},
		{"http://172.20.0.1/", "172.20.0.1 is a private address"},
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"},
		{"http://100.64.0.1/", "100.64.0.1 is a shared (CGNAT) address"},
		{"http://0.0.0.0:" + port + "/", "0.0.0.0 is an unspecified address"},
		{"http://[::ffff:127.0.0.1]:" + port + "/", "127.0.0.1 is a loopback address"},
		{"http://[fd00::1]/", "fd00::1 is a private address"},
		{"http://[fe80::1%25lo]:" + port + "/", "fe80::1%lo is a link-local address"},
	} {
		resp, err := c.Get(tc.url)
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s: reached, status %d", tc.url, resp.StatusCode)
			continue
		}
		be := blocked(t, err)
		if !strings.Contains(be.Error(), tc.want) {
			t.Errorf("%s: %q, want it to say %q", tc.url, be.Error(), tc.want)
		}
		if strings.HasPrefix(tc.want, "localhost") && !strings.Contains(be.Error(), "loopback address: add the host to SENDBOX_HTTP_ALLOW_HOSTS") {
			t.Errorf("localhost: %q", be.Error())
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback server got %d requests", n)
	}
}

// TestAllowListedHostIsReachable: a host:port on the list is reached; the
// same host on another port is not; a bare host allows every port.
func TestAllowListedHostIsReachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer srv.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "other") }))
	defer other.Close()

	get := func(c *http.Client, u string) (string, error) {
		resp, err := c.Get(u)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	c := netguard.NewClient([]string{"erp.example"}, hostPort(t, srv))
	if body, err := get(c, srv.URL); err != nil || body != "ok" {
		t.Fatalf("allowed server: %q %v", body, err)
	}
	if _, err := get(c, other.URL); err == nil {
		t.Fatal("another port of the allowed host was reached")
	} else {
		blocked(t, err)
	}
	lh := netguard.NewClient([]string{"LOCALHOST"})
	for _, s := range []*httptest.Server{srv, other} {
		u := strings.Replace(s.URL, "127.0.0.1", "localhost", 1)
		if _, err := get(lh, u); err != nil {
			t.Fatalf("%s with localhost allowed: %v", u, err)
		}
	}
}

// TestRedirectToAPrivateAddressRefused: the allowed server redirects to a
// loopback port that is not allowed; the redirect's connection is refused.
func TestRedirectToAPrivateAddressRefused(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	private := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "internal data")
	}))
	defer private.Close()
	public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, private.URL+"/admin", http.StatusFound)
	}))
	defer public.Close()

	c := netguard.NewClient(nil, hostPort(t, public))
	resp, err := c.Get(public.URL + "/catalogue")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("the redirect to %s was followed: %d", private.URL, resp.StatusCode)
	}
	if be := blocked(t, err); be.IP.String() != "127.0.0.1" {
		t.Fatalf("blocked %v", be)
	}
	if hits.Load() != 0 {
		t.Fatal("the private server was reached")
	}
}

// TestRedirectsAndSchemes: five redirects are followed, not six; only
// http and https are requested.
func TestRedirectsAndSchemes(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		var n int
		fmt.Sscan(r.URL.Query().Get("n"), &n)
		if n > 0 {
			http.Redirect(w, r, fmt.Sprintf("/?n=%d", n-1), http.StatusFound)
			return
		}
		fmt.Fprint(w, "done")
	}))
	defer srv.Close()
	c := netguard.NewClient(nil, hostPort(t, srv))
	resp, err := c.Get(srv.URL + "/?n=5")
	if err != nil {
		t.Fatalf("five redirects: %v", err)
	}
	resp.Body.Close()
	hits.Store(0)
	_, err = c.Get(srv.URL + "/?n=6")
	var tm *netguard.TooManyRedirectsError
	if !errors.As(err, &tm) || tm.Max != 5 || hits.Load() != 6 {
		t.Fatalf("six redirects: %v after %d requests", err, hits.Load())
	}

	for _, u := range []string{"ftp://example.com/file", "file:///etc/passwd", "gopher://example.com/"} {
		_, err := c.Get(u)
		var se *netguard.SchemeError
		if !errors.As(err, &se) {
			t.Errorf("%s: %v", u, err)
		}
	}
	// A redirect to another scheme is refused the same way.
	redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://example.com/", http.StatusFound)
	}))
	defer redir.Close()
	_, err = netguard.NewClient(nil, hostPort(t, redir)).Get(redir.URL)
	var se *netguard.SchemeError
	if !errors.As(err, &se) {
		t.Fatalf("redirect to ftp: %v", err)
	}
}

// TestBodyCap: a body of the limit reads whole; one byte more is an
// error the caller can tell apart, with or without a Content-Length.
func TestBodyCap(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.URL.Query().Get("n"), &n)
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", fmt.Sprint(n))
		}
		w.Write([]byte(strings.Repeat("x", n)))
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}))
	defer srv.Close()
	c := netguard.New(netguard.Options{Allow: []string{hostPort(t, srv)}, MaxBody: 1000})
	for _, chunked := range []string{"", "1"} {
		for n, tooLarge := range map[int]bool{0: false, 999: false, 1000: false, 1001: true, 5 << 20: true} {
			resp, err := c.Get(fmt.Sprintf("%s/?n=%d&chunked=%s", srv.URL, n, chunked))
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			var tl *netguard.BodyTooLargeError
			if tooLarge != errors.As(err, &tl) || (!tooLarge && len(b) != n) || len(b) > 1000 {
				t.Errorf("n=%d chunked=%q: read %d bytes, err %v", n, chunked, len(b), err)
			}
			if tooLarge && tl.Limit != 1000 {
				t.Errorf("limit %d", tl.Limit)
			}
		}
	}
	if netguard.DefaultMaxBody != 1<<20 {
		t.Fatalf("default cap %d", netguard.DefaultMaxBody)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	for ip, want := range map[string]string{
		"8.8.8.8": "", "1.1.1.1": "", "2001:4860:4860::8888": "", "100.128.0.1": "", "172.32.0.1": "",
		"127.0.0.1": "loopback", "127.255.0.9": "loopback", "::1": "loopback",
		"10.1.2.3": "private", "172.31.255.255": "private", "192.168.0.1": "private", "fd12:3456::1": "private",
		"169.254.169.254": "link-local", "fe80::1": "link-local",
		"100.64.0.1": "shared (CGNAT)", "100.127.255.255": "shared (CGNAT)",
		"0.0.0.0": "unspecified", "::": "unspecified",
		"224.0.0.1": "multicast", "ff02::1": "multicast", "255.255.255.255": "reserved",
		"::ffff:10.0.0.1": "private", "64:ff9b::a9fe:a9fe": "link-local",
		"fe80::1%eth0": "link-local", "ff02::1%lo": "multicast",
	} {
		if got := netguard.Classify(netip.MustParseAddr(ip)); got != want {
			t.Errorf("%s: %q, want %q", ip, got, want)
		}
	}
}
