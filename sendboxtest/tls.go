package sendboxtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"sendbox/config"
)

// PebbleVersion is the Pebble release the TLS tests build from the Go
// module proxy.
const PebbleVersion = "v2.10.1"

// Pebble is a private ACME certificate authority for tests: Let's
// Encrypt's Pebble, with pebble-challtestsrv as its DNS server answering
// 127.0.0.1 for every name. Its validation authority really connects to
// sendbox on loopback, on HTTPPort for HTTP-01 and TLSPort for
// TLS-ALPN-01, as Let's Encrypt connects to port 80 and 443.
type Pebble struct {
	DirectoryURL string // the ACME directory, for SENDBOX_ACME_CA
	CARootFile   string // PEM of the root Pebble's own APIs are served with, for SENDBOX_ACME_CA_ROOT
	HTTPPort     int    // where the CA validates HTTP-01
	TLSPort      int    // where the CA validates TLS-ALPN-01

	t          testing.TB
	apiRoots   *x509.CertPool
	mgmtURL    string
	pebble     *exec.Cmd
	dns        *exec.Cmd
	logs       *syncBuffer
	stopPebble sync.Once
}

// StartPebble builds Pebble and pebble-challtestsrv (PebbleVersion, from
// the module proxy; the Go build cache makes this quick after the first
// time), runs them on free loopback ports and stops them when the test
// ends. It skips the test in -short mode, or when no go command is on
// PATH; any other failure fails the test.
func StartPebble(t testing.TB) *Pebble {
	t.Helper()
	if testing.Short() {
		t.Skip("Pebble ACME test skipped in -short mode")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to build Pebble")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	build := exec.Command(goBin, "install",
		"github.com/letsencrypt/pebble/v2/cmd/pebble@"+PebbleVersion,
		"github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv@"+PebbleVersion)
	build.Dir = dir // outside any module
	build.Env = append(os.Environ(), "GOBIN="+bin)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build Pebble %s: %v\n%s", PebbleVersion, err, out)
	}

	p := &Pebble{t: t, logs: &syncBuffer{}, HTTPPort: FreePort(t), TLSPort: FreePort(t)}
	certFile, keyFile := filepath.Join(dir, "api-cert.pem"), filepath.Join(dir, "api-key.pem")
	p.apiRoots = writeLoopbackCert(t, certFile, keyFile)
	p.CARootFile = certFile
	acmePort, mgmtPort, dnsPort, dnsMgmtPort := FreePort(t), FreePort(t), FreePort(t), FreePort(t)
	p.DirectoryURL = fmt.Sprintf("https://127.0.0.1:%d/dir", acmePort)
	p.mgmtURL = fmt.Sprintf("https://127.0.0.1:%d", mgmtPort)

	conf := map[string]any{"pebble": map[string]any{
		"listenAddress":                  "127.0.0.1:" + strconv.Itoa(acmePort),
		"managementListenAddress":        "127.0.0.1:" + strconv.Itoa(mgmtPort),
		"certificate":                    certFile,
		"privateKey":                     keyFile,
		"httpPort":                       p.HTTPPort,
		"tlsPort":                        p.TLSPort,
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
		"retryAfter":                     map[string]int{"authz": 1, "order": 1},
		"keyAlgorithm":                   "ecdsa",
		"profiles": map[string]any{"default": map[string]any{
			"description": "90 days", "validityPeriod": 7776000}},
	}}
	b, _ := json.Marshal(conf)
	confFile := filepath.Join(dir, "pebble-config.json")
	if err := os.WriteFile(confFile, b, 0o600); err != nil {
		t.Fatal(err)
	}

	// Only the DNS server: the challenges are sendbox's to answer.
	p.dns = exec.Command(filepath.Join(bin, "pebble-challtestsrv"),
		"-dnsserver", "127.0.0.1:"+strconv.Itoa(dnsPort),
		"-management", "127.0.0.1:"+strconv.Itoa(dnsMgmtPort),
		"-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
		"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "")
	p.dns.Stdout, p.dns.Stderr = p.logs, p.logs
	p.pebble = exec.Command(filepath.Join(bin, "pebble"), "-config", confFile,
		"-dnsserver", "127.0.0.1:"+strconv.Itoa(dnsPort))
	// Validate at once (no random sleep), never reject a good nonce.
	p.pebble.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	p.pebble.Stdout, p.pebble.Stderr = p.logs, p.logs
	for _, c := range []*exec.Cmd{p.dns, p.pebble} {
		if err := c.Start(); err != nil {
			t.Fatalf("start %s: %v", c.Path, err)
		}
	}
	t.Cleanup(func() {
		p.Stop()
		p.dns.Process.Kill()
		p.dns.Wait()
		if t.Failed() {
			t.Logf("Pebble's log:\n%s", p.logs.String())
		}
	})

	client := p.apiClient()
	Eventually(t, 30*time.Second, "Pebble's ACME directory", func() bool {
		resp, err := client.Get(p.DirectoryURL)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	Eventually(t, 30*time.Second, "pebble-challtestsrv's DNS server", func() bool {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(dnsPort), time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return p
}

// Configure is a WithConfig function making sendbox get its certificate
// for domain from this Pebble, with plain HTTP on httpPort and HTTPS on
// httpsPort (p.HTTPPort and p.TLSPort for both challenges to be possible).
func (p *Pebble) Configure(domain string, httpPort, httpsPort int) func(*config.Config) {
	return func(c *config.Config) {
		c.TLS.Domain = domain
		c.TLS.Email = "ops@" + domain
		c.TLS.CA = p.DirectoryURL
		c.TLS.CARoot = p.CARootFile
		c.HTTPAddr = "127.0.0.1:" + strconv.Itoa(httpPort)
		c.TLS.HTTPSAddr = "127.0.0.1:" + strconv.Itoa(httpsPort)
	}
}

// IssuingRoots is the root Pebble signs certificates under, from its
// management API: what a browser would trust. Pebble makes a new one each
// time it starts.
func (p *Pebble) IssuingRoots() *x509.CertPool {
	p.t.Helper()
	resp, err := p.apiClient().Get(p.mgmtURL + "/roots/0")
	if err != nil {
		p.t.Fatalf("Pebble root: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	pool := x509.NewCertPool()
	if resp.StatusCode != http.StatusOK || !pool.AppendCertsFromPEM(b) {
		p.t.Fatalf("Pebble root: %s: %s", resp.Status, b)
	}
	return pool
}

// Log is what Pebble and its DNS server printed so far.
func (p *Pebble) Log() string { return p.logs.String() }

// Stop stops Pebble (the CA; DNS stays up), as if it were unreachable.
func (p *Pebble) Stop() {
	p.stopPebble.Do(func() {
		p.pebble.Process.Kill()
		p.pebble.Wait()
	})
}

func (p *Pebble) apiClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: p.apiRoots}}}
}

// HTTPSClient is a browser for a sendbox with a domain: it trusts only
// roots, dials every host name at 127.0.0.1 (the port of the URL is kept),
// speaks HTTP/2 when offered, and does not follow redirects.
func HTTPSClient(roots *x509.CertPool) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
			},
			TLSClientConfig:   &tls.Config{RootCAs: roots},
			ForceAttemptHTTP2: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// FreePort is a TCP port free on 127.0.0.1 just now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// writeLoopbackCert writes a self-signed certificate for 127.0.0.1 and
// localhost, and returns a pool trusting it. Pebble's own test
// certificate would do, but it expires in 2027.
func writeLoopbackCert(t testing.TB, certFile, keyFile string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sendbox test Pebble API"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return pool
}

// syncBuffer collects the output of the Pebble processes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
