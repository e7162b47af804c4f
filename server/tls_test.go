package server_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sendbox/app"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sendbox/config"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// TestAutomaticHTTPS gets real certificates from Pebble, a private ACME CA
// whose validation authority connects to sendbox on loopback: once with
// both challenges possible, once with only TLS-ALPN-01 (nothing where the
// CA looks for HTTP-01, as with port 80 firewalled) and once with only
// HTTP-01. Then it stops the CA and restarts sendbox on the first data
// folder: the stored certificate is served without the CA.
func TestAutomaticHTTPS(t *testing.T) {
	began := time.Now()
	pebble := sendboxtest.StartPebble(t)
	roots := pebble.IssuingRoots()
	client := sendboxtest.HTTPSClient(roots)
	t.Logf("Pebble built and running in %s", time.Since(began).Round(time.Millisecond))

	const domain = "sendbox.test"
	data := t.TempDir()
	var serial string
	t.Run("both challenges", func(t *testing.T) {
		booted := time.Now()
		a := sendboxtest.New(t, sendboxtest.WithDataDir(data), sendboxtest.WithLogLevel(slog.LevelInfo),
			sendboxtest.WithConfig(pebble.Configure(domain, pebble.HTTPPort, pebble.TLSPort)))
		t.Cleanup(client.CloseIdleConnections) // else closing waits 1 s for the HTTP/2 client to go
		// Start does not wait for the CA: the loopback listener answers now.
		if code, _ := a.DoAs("", "GET", "/healthz", nil); code != http.StatusOK {
			t.Fatalf("healthz on %s before the certificate: %d", a.URL(), code)
		}
		t.Logf("ready in %s", time.Since(booted).Round(time.Millisecond))
		if !a.TLSEnabled() {
			t.Fatal("TLSEnabled() is false with a domain")
		}
		public := a.Config.PublicURL()
		if want := "https://" + domain + ":" + strconv.Itoa(pebble.TLSPort); public != want {
			t.Fatalf("PublicURL() = %q, want %q", public, want)
		}

		resp := waitForCertificate(t, client, public)
		t.Logf("certificate after %s", time.Since(booted).Round(time.Millisecond))
		leaf := checkCertificate(t, resp, domain, roots)
		serial = leaf.SerialNumber.String()
		if resp.ProtoMajor != 2 {
			t.Errorf("HTTPS served %s, want HTTP/2", resp.Proto)
		}
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
			t.Errorf("Strict-Transport-Security = %q", got)
		}

		// The API over HTTPS, with the test's key; a send goes through the
		// Graph client to the simulator served by this process, over the
		// loopback listener.
		code, body := get(t, client, public+"/api/v1/conversations", a.Key)
		if code != http.StatusOK {
			t.Errorf("API over HTTPS: %d %s", code, body)
		}
		if code, _ := get(t, client, public+"/api/v1/conversations", ""); code != http.StatusUnauthorized {
			t.Errorf("API over HTTPS without a key: %d, want 401", code)
		}
		req, _ := http.NewRequest("POST", public+"/api/v1/messages", strings.NewReader(
			`{"to":"+393331234567","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}`))
		req.Header.Set("Authorization", "Bearer "+a.Key)
		req.Header.Set("Content-Type", "application/json")
		if code, body := do(t, client, req); code != http.StatusAccepted {
			t.Fatalf("send over HTTPS: %d %s", code, body)
		}
		if m := settled(t, a, 1, 30*time.Second)[0]; m.Status != store.StateAccepted {
			t.Errorf("send: %s %+v, want accepted by the simulator", m.Status, m.Error)
		}
		// The webhook: Meta's verification handshake over HTTPS.
		code, body = get(t, client, public+"/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token="+
			sendboxtest.VerifyToken+"&hub.challenge=1158201444", "")
		if code != http.StatusOK || string(body) != "1158201444" {
			t.Errorf("webhook verification over HTTPS: %d %s", code, body)
		}

		// Plain HTTP redirects to the public URL, path and query kept.
		plain := "http://" + domain + ":" + strconv.Itoa(pebble.HTTPPort)
		for _, method := range []string{"GET", "POST"} {
			req, _ := http.NewRequest(method, plain+"/api/v1/messages?limit=5", nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusPermanentRedirect ||
				loc != public+"/api/v1/messages?limit=5" {
				t.Errorf("%s over plain HTTP: %d to %q, want 308 to %s", method, resp.StatusCode, loc,
					public+"/api/v1/messages?limit=5")
			}
		}

		// The certificate and its key are in the data folder.
		var files []string
		filepath.WalkDir(filepath.Join(data, "certmagic"), func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files = append(files, filepath.Base(path))
			}
			return nil
		})
		for _, want := range []string{domain + ".crt", domain + ".key", domain + ".json"} {
			if !slices.Contains(files, want) {
				t.Errorf("no %s under %s/certmagic: %v", want, data, files)
			}
		}
	})
	if serial == "" {
		t.FailNow()
	}

	// The CA checks each challenge on its own port; where nothing listens,
	// that challenge fails, and the certificate can only come through the
	// other one.
	for _, tc := range []struct {
		name, domain        string
		httpPort, httpsPort int
		pebbleLog           string // Pebble's line for the validation
	}{
		{"TLS-ALPN-01 only", "alpn.sendbox.test", sendboxtest.FreePort(t), pebble.TLSPort, ""},
		{"HTTP-01 only", "http.sendbox.test", pebble.HTTPPort, sendboxtest.FreePort(t),
			"Attempting to validate w/ HTTP: http://http.sendbox.test:" + strconv.Itoa(pebble.HTTPPort) + "/.well-known/acme-challenge/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			booted := time.Now()
			a := sendboxtest.New(t, sendboxtest.WithLogLevel(slog.LevelInfo),
				sendboxtest.WithConfig(pebble.Configure(tc.domain, tc.httpPort, tc.httpsPort)))
			t.Cleanup(client.CloseIdleConnections)
			resp := waitForCertificate(t, client, a.Config.PublicURL())
			t.Logf("certificate after %s", time.Since(booted).Round(time.Millisecond))
			checkCertificate(t, resp, tc.domain, roots)
			if tc.pebbleLog != "" && !strings.Contains(pebble.Log(), tc.pebbleLog) {
				t.Errorf("Pebble's log has no %q", tc.pebbleLog)
			}
		})
	}

	t.Run("restart without the CA", func(t *testing.T) {
		pebble.Stop()
		booted := time.Now()
		a := sendboxtest.New(t, sendboxtest.WithDataDir(data), sendboxtest.WithLogLevel(slog.LevelInfo),
			sendboxtest.WithConfig(pebble.Configure(domain, pebble.HTTPPort, pebble.TLSPort)))
		t.Cleanup(client.CloseIdleConnections)
		resp := waitForCertificate(t, client, a.Config.PublicURL())
		t.Logf("stored certificate served after %s", time.Since(booted).Round(time.Millisecond))
		if leaf := checkCertificate(t, resp, domain, roots); leaf.SerialNumber.String() != serial {
			t.Errorf("serving certificate %s, want the stored one %s", leaf.SerialNumber, serial)
		}
	})

	// Every sendbox is closed: their servers, certificate managers and
	// certmagic caches are gone.
	noLeftover(t)
	t.Logf("whole test: %s", time.Since(began).Round(time.Millisecond))
}

// waitForCertificate polls url/healthz until sendbox completes a TLS
// handshake a browser trusting roots accepts, and answers.
func waitForCertificate(t *testing.T, client *http.Client, url string) *http.Response {
	t.Helper()
	var resp *http.Response
	var last error
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := client.Get(url + "/healthz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				resp = r
				break
			}
			err = fmt.Errorf("%s", r.Status)
		}
		last = err
		if time.Now().After(deadline) {
			t.Fatalf("no certificate after 60 s: GET %s/healthz: %v", url, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return resp
}

// checkCertificate checks the served chain: issued by Pebble, for domain,
// valid under roots.
func checkCertificate(t *testing.T, resp *http.Response, domain string, roots *x509.CertPool) *x509.Certificate {
	t.Helper()
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		t.Fatal("no TLS connection state")
	}
	leaf := resp.TLS.PeerCertificates[0]
	if !strings.HasPrefix(leaf.Issuer.CommonName, "Pebble Intermediate CA") {
		t.Errorf("issuer %q, want Pebble's", leaf.Issuer.CommonName)
	}
	if err := leaf.VerifyHostname(domain); err != nil {
		t.Errorf("certificate does not cover %s: %v", domain, err)
	}
	inter := x509.NewCertPool()
	for _, c := range resp.TLS.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: domain, Roots: roots, Intermediates: inter}); err != nil {
		t.Errorf("chain does not verify under Pebble's root: %v", err)
	}
	return leaf
}

func get(t *testing.T, client *http.Client, url, key string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return do(t, client, req)
}

func do(t *testing.T, client *http.Client, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// noLeftover fails if goroutines that a closed sendbox with a domain must
// not leave behind are still there after 10 s: its servers, its
// certificate manager, its certmagic cache and certmagic jobs. (certmagic
// keeps one rate limiter goroutine per CA and e-mail for the life of the
// process, by design; it is not counted.)
func noLeftover(t *testing.T) {
	t.Helper()
	frames := []string{"certmagic.(*Cache).maintainAssets", "sendbox/server.(*autoTLS)",
		"net/http.(*Server).Serve", "certmagic.(*jobManager).worker"}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var left []string
		for _, g := range bytes.Split(buf, []byte("\n\n")) {
			if slices.ContainsFunc(frames, func(f string) bool { return bytes.Contains(g, []byte(f)) }) {
				left = append(left, string(g))
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left after every sendbox closed:\n%s", strings.Join(left, "\n\n"))
		}
	}
}

// TestHTTPSStartErrors: with a domain, what stops the start says which
// setting to change.
func TestHTTPSStartErrors(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cases := []struct {
		name string
		set  func(*config.Config)
		want []string
	}{
		{"HTTP port taken", func(c *config.Config) { c.HTTPAddr = taken.Addr().String() },
			[]string{"SENDBOX_HTTP", "another server"}},
		{"HTTPS port taken", func(c *config.Config) { c.TLS.HTTPSAddr = taken.Addr().String() },
			[]string{"SENDBOX_HTTPS", "another server"}},
		{"CA root unreadable", func(c *config.Config) { c.TLS.CARoot = filepath.Join(t.TempDir(), "none.pem") },
			[]string{"SENDBOX_ACME_CA_ROOT"}},
	}
	// Ports below 1024, where the system keeps them for root.
	if ln, err := net.Listen("tcp", "127.0.0.1:1"); err == nil {
		ln.Close()
	} else if errors.Is(err, os.ErrPermission) {
		cases = append(cases, struct {
			name string
			set  func(*config.Config)
			want []string
		}{"privileged port", func(c *config.Config) { c.HTTPAddr = "127.0.0.1:1" },
			[]string{"SENDBOX_HTTP", "CAP_NET_BIND_SERVICE"}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Defaults()
			cfg.DataDir = t.TempDir()
			cfg.TLS.Domain = "sendbox.test"
			cfg.HTTPAddr, cfg.TLS.HTTPSAddr = "127.0.0.1:0", "127.0.0.1:0"
			tc.set(cfg)
			a, err := app.New(context.Background(), cfg, nil)
			if err == nil {
				a.Close(context.Background())
				t.Fatal("started")
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if a := sendboxtest.New(t); a.TLSEnabled() {
		t.Error("TLSEnabled() without a domain")
	}
}

// TestHTTPSWithoutCA: with the CA unreachable, sendbox starts anyway (only
// HTTPS handshakes fail, while it retries), and Close abandons the attempt
// in flight at once, leaving no goroutine behind.
func TestHTTPSWithoutCA(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithConfig(func(c *config.Config) {
		c.TLS.Domain = "sendbox.test"
		c.TLS.CA = "https://127.0.0.1:" + strconv.Itoa(sendboxtest.FreePort(t)) + "/dir" // nothing there
		c.TLS.HTTPSAddr = "127.0.0.1:" + strconv.Itoa(sendboxtest.FreePort(t))
	}))
	if code, _ := a.DoAs("", "GET", "/readyz", nil); code != http.StatusOK {
		t.Fatalf("readyz on the loopback listener: %d", code)
	}
	if code, body := a.Do("GET", "/api/v1/conversations", nil); code != http.StatusOK {
		t.Fatalf("API on the loopback listener: %d %s", code, body)
	}
	if _, err := sendboxtest.HTTPSClient(x509.NewCertPool()).Get(a.Config.PublicURL() + "/healthz"); err == nil {
		t.Fatal("HTTPS answered without a certificate")
	}
	time.Sleep(200 * time.Millisecond) // the first attempt is under way: the ACME client retries the CA
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	began := time.Now()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("Close took %s while the certificate was being retried", d)
	}
	noLeftover(t)
}
