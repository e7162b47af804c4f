package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/ollama/ollama/types/model"
)

// ErrBadModelName is returned by StartPull for a name Ollama would refuse.
var ErrBadModelName = errors.New("not a valid model name")

// RegistryError is returned by StartPull for a name on a registry host
// that is not enabled: Ollama fetches from whatever host a name gives, so a
// free host would let a pull reach any address Ollama can (a cloud's
// metadata service at 169.254.169.254, a service on the local network).
type RegistryError struct{ Host string }

func (e *RegistryError) Error() string {
	return fmt.Sprintf("pulls from %s are not enabled: SENDBOX_OLLAMA_REGISTRIES lists the registries besides Ollama's own", e.Host)
}

// defaultRegistry is Ollama's own registry, where names without a host
// come from.
const defaultRegistry = "registry.ollama.ai"

// ErrPullRunning is returned by StartPull while the same model is being pulled.
var ErrPullRunning = errors.New("this model is already being pulled")

// PullState is the progress of one pull, for the panel to poll.
type PullState struct {
	Model  string // short form: "llama3.2:3b", "hf.co/org/repo:Q4_K_M"
	Status string // Ollama's: "pulling manifest", "pulling 6a0746a1ec1a", "verifying sha256 digest", "success", ...
	// Completed and Total are bytes summed over the layers seen so far; Total
	// grows as Ollama moves on to the next layer.
	Completed, Total int64
	Done             bool
	Err              string // when Done and not pulled: "cancelled", ErrOffline's text, or Ollama's own reason
	Started          time.Time
}

type pull struct {
	state    PullState
	layers   map[string][2]int64 // digest: completed, total
	cancel   context.CancelFunc
	finished time.Time
}

// pullKey is the name under which a pull is tracked: Ollama's short form, so
// that "llama3" and "llama3:latest" are one pull.
func pullKey(name string) (short, key string, ok bool) {
	n := model.ParseName(name)
	if !n.IsValid() {
		return "", "", false
	}
	short = n.DisplayShortest()
	return short, strings.ToLower(short), true
}

// StartPull starts downloading a model ([host/][namespace/]name[:tag]) in the
// background; Pulls shows its progress. It refuses a name that is not a
// registry model name as Ollama defines them (no scheme, no digest), a host
// other than Ollama's own registry and c.Registries (a *RegistryError), and
// a model already being pulled. The pull stops when CancelPull is called or
// Run's context ends.
func (c *Client) StartPull(name string) error {
	short, key, ok := pullKey(name)
	if !ok || strings.Contains(name, "://") {
		return fmt.Errorf("llm: pull %q: %w", name, ErrBadModelName)
	}
	if host := strings.ToLower(model.ParseName(name).Host); host != defaultRegistry && !slices.Contains(c.Registries, host) {
		return fmt.Errorf("llm: pull %q: %w", name, &RegistryError{Host: host})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return fmt.Errorf("llm: pull %s: the AI client has stopped", short)
	}
	if p := c.pulls[key]; p != nil && !p.state.Done {
		return fmt.Errorf("llm: pull %s: %w", short, ErrPullRunning)
	}
	ctx, cancel := context.WithCancel(c.bg)
	p := &pull{
		state:  PullState{Model: short, Status: "starting", Started: time.Now()},
		layers: map[string][2]int64{},
		cancel: cancel,
	}
	c.pulls[key] = p
	c.wg.Add(1)
	go c.runPull(ctx, p)
	return nil
}

// runPull runs one pull to its end and records how it ended.
func (c *Client) runPull(ctx context.Context, p *pull) {
	defer c.wg.Done()
	defer p.cancel()
	name := p.state.Model
	c.log.Info("model pull started", slog.String("model", name))
	success := false
	err := c.api.Pull(ctx, &api.PullRequest{Model: name}, func(r api.ProgressResponse) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		p.state.Status = r.Status
		if r.Digest != "" && r.Total > 0 {
			p.layers[r.Digest] = [2]int64{r.Completed, r.Total}
			p.state.Completed, p.state.Total = 0, 0
			for _, l := range p.layers {
				p.state.Completed += l[0]
				p.state.Total += l[1]
			}
		}
		success = r.Status == "success"
		return nil
	})
	// The api client ends the stream quietly when the connection closes.
	if err == nil && !success {
		err = ctx.Err()
		if err == nil {
			err = errors.New("the pull stream ended before success")
		}
	}
	plain := ""
	if err != nil {
		if ctx.Err() != nil {
			err = errors.New("cancelled")
			plain = "cancelled"
		} else {
			raw := err
			err = c.fail(ctx, "pull "+name, "", err)
			// The panel shows Err: Ollama's own words, without our prefixes.
			plain = raw.Error()
			if errors.Is(err, ErrOffline) {
				plain = ErrOffline.Error()
			}
		}
	}

	c.mu.Lock()
	p.state.Done = true
	p.finished = time.Now()
	p.state.Err = plain
	st := p.state
	c.mu.Unlock()
	if err != nil {
		c.log.Warn("model pull failed", slog.String("model", name), slog.String("status", st.Status), slog.Any("err", err))
		return
	}
	c.log.Info("model pull finished", slog.String("model", name), slog.Int64("bytes", st.Total),
		slog.Duration("elapsed", p.finished.Sub(st.Started)))
}

// Pulls lists the running pulls and those finished in the last 10 minutes,
// oldest first.
func (c *Client) Pulls() []PullState {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]PullState, 0, len(c.pulls))
	for key, p := range c.pulls {
		if p.state.Done && time.Since(p.finished) > c.keep {
			delete(c.pulls, key)
			continue
		}
		out = append(out, p.state)
	}
	slices.SortFunc(out, func(a, b PullState) int { return a.Started.Compare(b.Started) })
	return out
}

// CancelPull stops the pull of a model, if one is running. Ollama keeps what
// it has downloaded, so pulling again resumes.
func (c *Client) CancelPull(name string) {
	_, key, ok := pullKey(name)
	if !ok {
		return
	}
	c.mu.Lock()
	p := c.pulls[key]
	c.mu.Unlock()
	if p != nil {
		p.cancel()
	}
}
