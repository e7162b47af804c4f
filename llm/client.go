// Package llm talks to a local Ollama server for the assistant: streamed chat,
// structured output, embeddings, the installed models and model pulls.
//
// Ollama is optional. Run probes it in the background and Online reports the
// last answer, so the rest of sendbox can show "AI offline" and fall back to
// the knowledge base; a call while it is down fails fast with ErrOffline
// instead of hanging. The caller's context bounds every call.
package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ollama/ollama/api"

	"sendbox/config"
)

// ErrOffline wraps the error of a call that could not reach Ollama at all.
var ErrOffline = errors.New("the AI server (Ollama) cannot be reached")

// ErrNoModel wraps the error of a call naming a model Ollama does not have
// (HTTP 404): it has to be pulled first.
var ErrNoModel = errors.New("the AI model is not installed")

const (
	dialTimeout = 2 * time.Second
	// headerTimeout only catches a hung server. Ollama sends headers after it
	// has loaded the model and, for a structured chat or an embed, after the
	// whole answer, so this must be longer than any sane generation; the
	// caller's context is the real deadline.
	headerTimeout = 5 * time.Minute

	probeTimeout = 2 * time.Second
	probeEvery   = 10 * time.Second
	// probeGap stops a burst of failing calls from turning into a burst of probes.
	probeGap = time.Second
)

// Client is one Ollama server. Its methods are safe for concurrent use.
type Client struct {
	url string // for people: its password masked
	api *api.Client
	log *slog.Logger

	online atomic.Bool
	probed atomic.Bool   // a probe has finished: transitions are logged from then on
	kick   chan struct{} // a call failed with ErrOffline: Run probes now

	// bg is the parent of every pull's context; stop cancels it when Run ends.
	bg   context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup // running pulls

	mu     sync.Mutex
	caps   map[string][]string // model capabilities by name@digest; guarded by mu
	pulls  map[string]*pull    // by lower-cased short model name; guarded by mu
	closed bool                // Run has returned, no new pulls; guarded by mu
	keep   time.Duration       // how long finished pulls stay listed; guarded by mu

	// Registries are the registry hosts, lower-case, besides Ollama's own
	// that pulls may name (SENDBOX_OLLAMA_REGISTRIES). Set before the
	// first pull.
	Registries []string
}

// New returns a client for the Ollama server at rawURL, such as
// http://127.0.0.1:11434. A user and password in the URL are sent as basic
// authentication, for an Ollama behind a proxy that asks for them (Ollama
// has none of its own); the password is masked wherever the URL is shown.
// It does not contact the server: call Run or Probe. A nil log means
// slog.Default().
func New(rawURL string, log *slog.Logger) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("llm: want an Ollama URL such as http://127.0.0.1:11434, got %q", config.RedactURL(rawURL))
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	if log == nil {
		log = slog.Default()
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = headerTimeout
	c := &Client{
		url:   config.RedactURL(u.String()),
		api:   api.NewClient(u, &http.Client{Transport: tr}),
		log:   log,
		kick:  make(chan struct{}, 1),
		caps:  map[string][]string{},
		pulls: map[string]*pull{},
		keep:  10 * time.Minute,
	}
	c.bg, c.stop = context.WithCancel(context.Background())
	return c, nil
}

// URL is the server's base URL, without a trailing slash, its password
// masked.
func (c *Client) URL() string { return c.url }

// Online reports whether the last probe (or call) reached the server; false
// before the first probe.
func (c *Client) Online() bool { return c.online.Load() }

// Run probes the server now, then every 10 s and right after a call fails
// with ErrOffline, until ctx ends. When it returns, running pulls have been
// cancelled and have finished, and no new pull can start.
func (c *Client) Run(ctx context.Context) {
	defer c.close()
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	var last time.Time
	for {
		if ctx.Err() != nil {
			return
		}
		c.Probe(ctx)
		last = time.Now()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.kick:
			if d := probeGap - time.Since(last); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
		}
	}
}

// close cancels the running pulls and waits for them.
func (c *Client) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.stop()
	c.wg.Wait()
}

// Probe asks the server whether it is up (2 s at most), records the answer
// for Online and returns it. A probe cut short by ctx itself records nothing.
func (c *Client) Probe(ctx context.Context) bool {
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	err := c.api.Heartbeat(pctx)
	if err != nil && ctx.Err() != nil {
		return false
	}
	ok := err == nil
	was := c.online.Swap(ok)
	first := !c.probed.Swap(true)
	switch {
	case ok && (!was || first):
		v, _ := c.api.Version(pctx)
		c.log.Info("AI server online", slog.String("url", c.url), slog.String("version", v))
	case !ok && (was || first):
		c.log.Warn("AI server offline", slog.String("url", c.url), slog.Any("err", err))
	}
	return ok
}

// Version is the server's version, such as "0.17.4".
func (c *Client) Version(ctx context.Context) (string, error) {
	v, err := c.api.Version(ctx)
	if err != nil {
		return "", c.fail(ctx, "version", "", err)
	}
	return v, nil
}

// fail gives err the context of op, turns a failed dial into ErrOffline (and
// has Run probe at once) and, for a call about a model, a 404 into
// ErrNoModel. When ctx has ended, the context's error is what matters.
func (c *Client) fail(ctx context.Context, op, model string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("llm: %s: %w", op, cerr)
	}
	if unreachable(err) {
		c.online.Store(false)
		select {
		case c.kick <- struct{}{}:
		default:
		}
		return fmt.Errorf("llm: %s: %w: %w", op, ErrOffline, err)
	}
	var se api.StatusError
	if model != "" && errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
		return fmt.Errorf("llm: %s: %w: %w", op, ErrNoModel, err)
	}
	return fmt.Errorf("llm: %s: %w", op, err)
}

// unreachable reports whether err means the server could not be reached or
// went away: no answer to the dial, an unknown host, a connection closed
// before the response.
func unreachable(err error) bool {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.As(err, &dnsErr):
		return true
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		// net/http reports a connection closed without a response as EOF:
		// the server stopped mid-request.
		return true
	}
	return false
}
