package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"sendbox/config"
)

// TLSEnabled reports whether sendbox serves HTTPS with an automatic
// certificate (a domain is set). Cookies are then marked Secure.
func (a *Server) TLSEnabled() bool { return a.Config.TLS.Domain != "" }

// autoTLS is automatic HTTPS for one domain: certmagic's config, cache and
// ACME issuer, and the goroutine that obtains the certificate at start.
// Renewal is the cache's maintenance goroutine's job.
type autoTLS struct {
	domain string
	ca     string
	log    *slog.Logger

	cache  *certmagic.Cache
	magic  *certmagic.Config
	issuer *certmagic.ACMEIssuer

	mu      sync.Mutex // guards cancel and stopped
	cancel  context.CancelFunc
	stopped bool
	done    chan struct{} // closed when the manage goroutine returns
}

// newAutoTLS sets up certmagic for cfg.TLS. httpHost is the host of the
// plain HTTP listener, httpPort and httpsPort the ports actually bound:
// certmagic's challenge solvers then find them taken and leave the
// challenges to our own servers (HTTP-01 on httpPort through
// httpHandler, TLS-ALPN-01 on httpsPort through tlsConfig), instead of
// trying to bind 80 and 443 themselves. It starts the cache's maintenance
// goroutine: stop must be called.
func newAutoTLS(cfg *config.Config, log *slog.Logger, httpHost string, httpPort, httpsPort int) (*autoTLS, error) {
	var roots *x509.CertPool
	if cfg.TLS.CARoot != "" {
		pem, err := os.ReadFile(cfg.TLS.CARoot)
		if err != nil {
			return nil, fmt.Errorf("SENDBOX_ACME_CA_ROOT: %w", err)
		}
		// The system roots stay trusted too, so a CA whose directory has
		// a public certificate still works with this set.
		if roots, err = x509.SystemCertPool(); err != nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("SENDBOX_ACME_CA_ROOT: no PEM certificate in %s", cfg.TLS.CARoot)
		}
	}
	t := &autoTLS{
		domain: strings.ToLower(cfg.TLS.Domain),
		ca:     cmp.Or(cfg.TLS.CA, certmagic.LetsEncryptProductionCA),
		log:    log.With(slog.String("component", "tls")),
		done:   make(chan struct{}),
	}
	zl := zap.New(slogCore{h: log.With(slog.String("component", "certmagic")).Handler()})
	t.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) { return t.magic, nil },
		Logger:           zl,
	})
	t.magic = certmagic.New(t.cache, certmagic.Config{
		Storage: &certmagic.FileStorage{Path: cfg.Path("certmagic")},
		Logger:  zl,
		OnEvent: t.onEvent,
	})
	// certmagic retries a failed order against TestCA first, so a
	// misconfiguration does not use up the real CA's rate limits. With
	// another CA, that is the same CA: Let's Encrypt's staging would not
	// know the account.
	testCA := certmagic.LetsEncryptStagingCA
	if cfg.TLS.CA != "" {
		testCA = cfg.TLS.CA
	}
	t.issuer = certmagic.NewACMEIssuer(t.magic, certmagic.ACMEIssuer{
		CA:             t.ca,
		TestCA:         testCA,
		Email:          cfg.TLS.Email,
		Agreed:         true,
		TrustedRoots:   roots,
		ListenHost:     httpHost,
		AltHTTPPort:    httpPort,
		AltTLSALPNPort: httpsPort,
		Logger:         zl,
	})
	t.magic.Issuers = []certmagic.Issuer{t.issuer}
	return t, nil
}

// tlsConfig is the HTTPS listener's: certificates from certmagic, HTTP/2,
// and acme-tls/1 so TLS-ALPN-01 challenges are answered on the same port.
func (t *autoTLS) tlsConfig() *tls.Config {
	c := t.magic.TLSConfig()
	c.NextProtos = append([]string{"h2", "http/1.1"}, c.NextProtos...)
	return c
}

// httpHandler serves the plain HTTP listener: ACME HTTP-01 challenges,
// and a permanent redirect to publicURL for everything else. The target
// is always our own domain, whatever Host the request named.
func (t *autoTLS) httpHandler(publicURL string) http.Handler {
	return t.issuer.HTTPChallengeHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, publicURL+r.URL.RequestURI(), http.StatusPermanentRedirect)
	}))
}

// hsts tells browsers to use HTTPS only for the next year. Subdomains are
// left alone: they may be other people's servers.
func hsts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		next.ServeHTTP(w, r)
	})
}

// start begins managing the certificate in the background: load it from
// storage, or obtain it from the CA.
//
// Why not ManageSync: sendbox must be ready at once, and a CA can take
// seconds to minutes, or be unreachable for hours; meanwhile the inbox,
// the API over loopback and the webhook queue work, and only HTTPS
// handshakes fail. Why not ManageAsync: its work runs in certmagic's
// global job queue, which nobody can wait for, so an obtain could still
// be writing into the data folder after Close. This goroutine does what
// ManageAsync does, with the same retry schedule (ObtainCertAsync retries
// with backoff for up to 30 days, first retries against the test CA), and
// stop waits for it.
func (t *autoTLS) start() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped || t.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	go func() {
		defer close(t.done)
		t.manage(ctx)
	}()
}

func (t *autoTLS) manage(ctx context.Context) {
	// A no-op when storage holds the certificate already (a restart).
	if err := t.magic.ObtainCertAsync(ctx, t.domain); err != nil {
		if ctx.Err() == nil {
			t.log.Error("giving up obtaining a certificate; restart sendbox to try again",
				slog.String("domain", t.domain), slog.String("ca", t.ca), slog.Any("err", err))
		}
		return
	}
	cert, err := t.magic.CacheManagedCertificate(ctx, t.domain)
	if err != nil {
		if ctx.Err() == nil {
			t.log.Error("loading the certificate", slog.String("domain", t.domain),
				slog.String("storage", t.storagePath()), slog.Any("err", err))
		}
		return
	}
	t.log.Info("HTTPS ready", slog.String("domain", t.domain),
		slog.Time("expires", cert.Leaf.NotAfter), slog.String("issuer", cert.Leaf.Issuer.CommonName))
	// Renew now if the stored certificate is due (sendbox was off for
	// long); the cache's maintenance checks again every 10 minutes.
	if err := t.cache.RenewManagedCertificates(ctx); err != nil && ctx.Err() == nil {
		t.log.Warn("renewal check", slog.Any("err", err))
	}
}

// halt cancels obtaining, at once: a certificate order in flight is
// abandoned, the next start of sendbox picks it up again.
func (t *autoTLS) halt() (started bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	if t.cancel != nil {
		t.cancel()
	}
	return t.cancel != nil
}

// stop halts, waits for the manage goroutine and stops the cache's
// maintenance, within ctx.
func (t *autoTLS) stop(ctx context.Context) error {
	if t.halt() {
		select {
		case <-t.done:
		case <-ctx.Done():
			return fmt.Errorf("certificate manager did not stop: %w", ctx.Err())
		}
	}
	stopped := make(chan struct{})
	go func() { t.cache.Stop(); close(stopped) }()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("certificate maintenance did not stop: %w", ctx.Err())
	}
}

func (t *autoTLS) storagePath() string {
	if fs, ok := t.magic.Storage.(*certmagic.FileStorage); ok {
		return fs.Path
	}
	return ""
}

// onEvent logs the milestones of a certificate's life at Info. It is
// called synchronously by certmagic, so it only logs.
func (t *autoTLS) onEvent(ctx context.Context, event string, data map[string]any) error {
	renewal, _ := data["renewal"].(bool)
	switch event {
	case "cert_obtaining":
		if renewal {
			t.log.Info("renewing the certificate", slog.String("domain", t.domain), slog.String("ca", t.ca))
			break
		}
		t.log.Info("no certificate yet: obtaining one; HTTPS handshakes fail until it is issued",
			slog.String("domain", t.domain), slog.String("ca", t.ca))
	case "cert_obtained":
		t.log.Info("certificate obtained", slog.String("domain", t.domain), slog.Bool("renewal", renewal),
			slog.String("storage", t.storagePath()))
	case "cert_failed":
		if ctx.Err() != nil {
			break // shutting down
		}
		err, _ := data["error"].(error)
		t.log.Error("could not get a certificate; retrying with backoff",
			slog.String("domain", t.domain), slog.String("ca", t.ca), slog.Bool("renewal", renewal), slog.Any("err", err),
			slog.String("hint", "the CA must reach "+t.domain+" on port 80 (HTTP-01) or 443 (TLS-ALPN-01): "+
				"check that its DNS points at this host and that the firewall lets both in"))
	}
	return nil
}

// slogCore is a zap core writing to a slog handler, so certmagic logs
// through sendbox's logger. certmagic's Info lines narrate each ACME step;
// they go to Debug, and onEvent logs the milestones at Info. Its warnings
// and errors keep their level.
type slogCore struct {
	h     slog.Handler
	attrs []slog.Attr
}

func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l >= zapcore.ErrorLevel:
		return slog.LevelError
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	default:
		return slog.LevelDebug
	}
}

func (c slogCore) Enabled(l zapcore.Level) bool {
	return c.h.Enabled(context.Background(), slogLevel(l))
}

func (c slogCore) With(fields []zapcore.Field) zapcore.Core {
	return slogCore{h: c.h, attrs: append(slices.Clip(c.attrs), zapAttrs(fields)...)}
}

func (c slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	r := slog.NewRecord(e.Time, slogLevel(e.Level), e.Message, 0)
	if e.LoggerName != "" {
		r.AddAttrs(slog.String("logger", e.LoggerName))
	}
	r.AddAttrs(c.attrs...)
	r.AddAttrs(zapAttrs(fields)...)
	return c.h.Handle(context.Background(), r)
}

func (c slogCore) Sync() error { return nil }

func zapAttrs(fields []zapcore.Field) []slog.Attr {
	if len(fields) == 0 {
		return nil
	}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	attrs := make([]slog.Attr, 0, len(enc.Fields))
	for k, v := range enc.Fields {
		attrs = append(attrs, slog.Any(k, v))
	}
	slices.SortFunc(attrs, func(a, b slog.Attr) int { return strings.Compare(a.Key, b.Key) })
	return attrs
}

// errListenHint explains a failure to bind a port that automatic HTTPS
// needs: env is the option naming the address, public the port the CA
// connects to (80 or 443).
func errListenHint(env, public, addr, purpose string, err error) error {
	hint := ""
	switch {
	case errors.Is(err, os.ErrPermission):
		exe, xerr := os.Executable()
		if xerr != nil {
			exe = "sendbox"
		}
		hint = "; ports below 1024 need root or the CAP_NET_BIND_SERVICE capability (sudo setcap cap_net_bind_service=+ep " +
			exe + "), or set " + env + " to a port above 1023 and forward port " + public + " to it"
	case isAddrInUse(err):
		hint = "; another server (nginx, Apache, Caddy?) holds the port: stop it, or set " + env + " to another address"
	}
	return fmt.Errorf("listen on %s (%s, %s): %w%s", addr, env, purpose, err, hint)
}

func isAddrInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }
