package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"
)

// listeners are the HTTP servers of one sendbox. Without a domain there is
// one plain HTTP listener on SENDBOX_HTTP serving everything. With a
// domain (see tls.go) there are three:
//
//   - HTTPS on SENDBOX_HTTPS serves everything, with certmagic's
//     certificate, HTTP/2 and HSTS, and answers TLS-ALPN-01 challenges;
//   - plain HTTP on SENDBOX_HTTP answers HTTP-01 challenges and redirects
//     the rest to HTTPS;
//   - plain HTTP on 127.0.0.1:0 serves everything to this process itself
//     (baseURL: the simulator's webhooks, the Graph client in sandbox
//     mode), so self-calls depend on neither DNS nor the certificate.
type listeners struct {
	ln  net.Listener // SENDBOX_HTTP
	srv *http.Server

	tlsLn   net.Listener // SENDBOX_HTTPS, with a domain
	tlsSrv  *http.Server
	selfLn  net.Listener // 127.0.0.1:0, with a domain
	selfSrv *http.Server
	auto    *autoTLS // with a domain
}

// listen binds the listeners (before anything else starts, so the
// simulator knows its own address) and sets baseURL, the address this
// process reaches itself on. The servers are made by newServers once the
// routes exist. On error, Close releases what was bound.
func (a *Server) listen(ctx context.Context) error {
	if a.TLSEnabled() {
		return a.listenTLS()
	}
	ln, err := net.Listen("tcp", a.Config.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.Config.HTTPAddr, err)
	}
	a.lst.ln = ln
	a.baseURL = "http://" + loopbackAddr(ln.Addr().(*net.TCPAddr), a.Config.HTTPAddr)
	return nil
}

func (a *Server) listenTLS() error {
	cfg := a.Config
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return errListenHint("SENDBOX_HTTP", "80", cfg.HTTPAddr, "ACME HTTP-01 challenges and the redirect to HTTPS", err)
	}
	a.lst.ln = ln
	if a.lst.tlsLn, err = net.Listen("tcp", cfg.TLS.HTTPSAddr); err != nil {
		return errListenHint("SENDBOX_HTTPS", "443", cfg.TLS.HTTPSAddr, "HTTPS", err)
	}
	if a.lst.selfLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return fmt.Errorf("listen on loopback for calls to itself: %w", err)
	}
	a.baseURL = "http://" + a.lst.selfLn.Addr().String()
	host, _, _ := net.SplitHostPort(cfg.HTTPAddr)
	a.lst.auto, err = newAutoTLS(cfg, a.Log, host,
		ln.Addr().(*net.TCPAddr).Port, a.lst.tlsLn.Addr().(*net.TCPAddr).Port)
	return err
}

// newServers makes the HTTP servers for the bound listeners.
func (a *Server) newServers() {
	if a.lst.auto == nil {
		a.lst.srv = a.newHTTPServer(a.handler)
		return
	}
	a.lst.srv = a.newHTTPServer(a.lst.auto.httpHandler(a.Config.PublicURL()))
	a.lst.tlsSrv = a.newHTTPServer(hsts(a.handler))
	a.lst.tlsSrv.TLSConfig = a.lst.auto.tlsConfig()
	a.lst.selfSrv = a.newHTTPServer(a.handler)
}

func (a *Server) newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelDebug),
	}
}

// URL is where this sendbox answers, e.g. http://127.0.0.1:8080. With a
// domain it is the loopback listener for calls to itself; the public
// address is Config.PublicURL().
func (a *Server) URL() string { return a.baseURL }

// Serve serves HTTP until Close. It returns nil after a clean shutdown.
// With a domain, it also starts getting the certificate: the listeners
// must be serving for the CA to validate the challenges.
func (a *Server) Serve() error {
	defer close(a.served)
	a.ready.Store(true)
	type server struct {
		srv *http.Server
		ln  net.Listener
		tls bool
	}
	servers := []server{{a.lst.srv, a.lst.ln, false}}
	if a.lst.auto != nil {
		servers = append(servers, server{a.lst.tlsSrv, a.lst.tlsLn, true}, server{a.lst.selfSrv, a.lst.selfLn, false})
	}
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() {
			var err error
			if s.tls {
				err = s.srv.ServeTLS(s.ln, "", "") // the certificate comes from TLSConfig
			} else {
				err = s.srv.Serve(s.ln)
			}
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			errc <- err
		}()
	}
	if a.lst.auto != nil {
		a.Log.Info("serving HTTPS", slog.String("url", a.Config.PublicURL()),
			slog.String("http", a.lst.ln.Addr().String()), slog.String("https", a.lst.tlsLn.Addr().String()))
		a.lst.auto.start()
	}
	var errs []error
	for range servers {
		if err := <-errc; err != nil {
			errs = append(errs, err)
			// One listener failed: stop the others, so Serve returns
			// and Run shuts down instead of serving half.
			for _, s := range servers {
				s.srv.Close()
			}
		}
	}
	return errors.Join(errs...)
}

// shutdownHTTP stops getting certificates, stops accepting connections and
// waits for the requests in flight, within ctx.
func (a *Server) shutdownHTTP(ctx context.Context) error {
	if a.lst.auto != nil {
		a.lst.auto.halt() // first, so no challenge waits on servers going away
	}
	var errs []error
	for _, srv := range []*http.Server{a.lst.srv, a.lst.tlsSrv, a.lst.selfSrv} {
		if srv != nil {
			if err := srv.Shutdown(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, ln := range []net.Listener{a.lst.ln, a.lst.tlsLn, a.lst.selfLn} {
		if ln != nil {
			ln.Close() // in case Serve never ran
		}
	}
	if a.lst.auto != nil {
		if err := a.lst.auto.stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// loopbackAddr is the address this process can reach itself on: the bound
// port on 127.0.0.1 when listening on all interfaces.
func loopbackAddr(tcp *net.TCPAddr, configured string) string {
	host, _, _ := net.SplitHostPort(configured)
	if host == "" || tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}
