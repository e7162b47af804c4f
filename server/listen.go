package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// listeners are the HTTP servers of one sendbox. Without a domain there is
// one plain HTTP listener on SENDBOX_HTTP.
type listeners struct {
	ln  net.Listener
	srv *http.Server
}

// listen binds the listeners (before anything else starts, so the
// simulator knows its own address) and sets baseURL, the address this
// process reaches itself on. The servers are made by newServers once the
// routes exist.
func (a *App) listen(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.Config.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.Config.HTTPAddr, err)
	}
	a.lst.ln = ln
	a.baseURL = "http://" + loopbackAddr(ln.Addr().(*net.TCPAddr), a.Config.HTTPAddr)
	return nil
}

// newServers makes the HTTP servers for the bound listeners.
func (a *App) newServers() {
	a.lst.srv = a.newHTTPServer(a.handler)
}

func (a *App) newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelDebug),
	}
}

// URL is where this sendbox answers, e.g. http://127.0.0.1:8080.
func (a *App) URL() string { return a.baseURL }

// Serve serves HTTP until Close. It returns nil after a clean shutdown.
func (a *App) Serve() error {
	defer close(a.served)
	a.ready.Store(true)
	err := a.lst.srv.Serve(a.lst.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// shutdownHTTP stops accepting connections and waits for the requests in
// flight, within ctx.
func (a *App) shutdownHTTP(ctx context.Context) error {
	var err error
	if a.lst.srv != nil {
		err = a.lst.srv.Shutdown(ctx)
	}
	if a.lst.ln != nil {
		a.lst.ln.Close() // in case Serve never ran
	}
	return err
}

// loopbackAddr is the address this process can reach itself on: the bound
// port on 127.0.0.1 when listening on all interfaces.
func loopbackAddr(tcp *net.TCPAddr, configured string) string {
	host, _, _ := net.SplitHostPort(configured)
	if host == "" || tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}
