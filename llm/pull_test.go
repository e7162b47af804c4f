package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"sendbox/llm"
	"sendbox/sendboxtest"
)

// Pulls need the internet on a real Ollama, so these tests use a stand-in
// that speaks /api/pull the way Ollama v0.17.4 does: HTTP 200 and NDJSON
// progress lines, then "success" or an {"error": ...} line.

const (
	layerA = "sha256:6a0746a1ec1aef3e7ec53868f220ff6e389f6f8ef87a01d77c96807de94ca2aa"
	layerB = "sha256:4fa551d4f938f68b8c1e6afa9d28befb70e3f33f75d0753248d530364aeea40f"
)

// pullServer is a stand-in Ollama whose /api/pull runs script.
func pullServer(t testing.TB, script func(w *progressWriter, r *http.Request)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			return // Heartbeat
		case "/api/pull":
			var req struct {
				Model string `json:"model"`
			}
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
				http.Error(w, `{"error":"bad body"}`, http.StatusBadRequest)
				return
			}
			script(&progressWriter{w: w, model: req.Model}, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

type progressWriter struct {
	w     http.ResponseWriter
	model string // as the client asked for it
}

func (p *progressWriter) line(format string, args ...any) {
	if p.w.Header().Get("Content-Type") == "" {
		p.w.Header().Set("Content-Type", "application/x-ndjson")
	}
	fmt.Fprintf(p.w, format+"\n", args...)
	p.w.(http.Flusher).Flush()
}

func (p *progressWriter) layer(digest string, completed, total int64) {
	p.line(`{"status":"pulling %s","digest":"%s","total":%d,"completed":%d}`, digest[7:19], digest, total, completed)
}

// pullOf returns the state of model's pull, if Pulls lists it.
func pullOf(c *llm.Client, model string) (llm.PullState, bool) {
	for _, p := range c.Pulls() {
		if p.Model == model {
			return p, true
		}
	}
	return llm.PullState{}, false
}

func TestPullProgress(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	asked := make(chan string, 1)
	base := pullServer(t, func(p *progressWriter, r *http.Request) {
		asked <- p.model
		p.line(`{"status":"pulling manifest"}`)
		p.layer(layerA, 0, 1000)
		p.layer(layerA, 500, 1000)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		p.layer(layerA, 1000, 1000)
		p.layer(layerB, 200, 200)
		p.line(`{"status":"verifying sha256 digest"}`)
		p.line(`{"status":"writing manifest"}`)
		p.line(`{"status":"success"}`)
	})
	c := newClient(t, base)
	if err := c.StartPull("acme/assistant"); err != nil {
		t.Fatal(err)
	}
	if got := <-asked; got != "acme/assistant:latest" {
		t.Errorf("the server was asked for %q", got)
	}
	var st llm.PullState
	eventually(t, 5*time.Second, "no progress to 500/1000", func() bool {
		st, _ = pullOf(c, "acme/assistant:latest")
		return st.Completed == 500
	})
	if st.Total != 1000 || st.Done || st.Err != "" || st.Status != "pulling "+layerA[7:19] || st.Started.IsZero() {
		t.Errorf("midway: %+v", st)
	}
	// The same model, spelt another way, is the same pull.
	for _, again := range []string{"acme/assistant", "acme/assistant:latest", "ACME/Assistant"} {
		if err := c.StartPull(again); !errors.Is(err, llm.ErrPullRunning) {
			t.Errorf("StartPull(%q) while it runs: %v, want ErrPullRunning", again, err)
		}
	}

	close(release)
	eventually(t, 5*time.Second, "the pull did not finish", func() bool {
		st, _ = pullOf(c, "acme/assistant:latest")
		return st.Done
	})
	if st.Err != "" || st.Status != "success" || st.Completed != 1200 || st.Total != 1200 {
		t.Errorf("finished: %+v", st)
	}
	// Finished, it can be pulled again.
	if err := c.StartPull("acme/assistant"); err != nil {
		t.Errorf("StartPull after the last one finished: %v", err)
	}
}

func TestPullError(t *testing.T) {
	t.Parallel()
	for name, script := range map[string]func(p *progressWriter, r *http.Request){
		// What Ollama does for a model the registry does not have.
		"error line": func(p *progressWriter, r *http.Request) {
			p.line(`{"status":"pulling manifest"}`)
			p.line(`{"error":"pull model manifest: file does not exist"}`)
		},
		"error status": func(p *progressWriter, r *http.Request) {
			p.w.Header().Set("Content-Type", "application/json")
			p.w.WriteHeader(http.StatusInternalServerError)
			p.line(`{"error":"pull model manifest: file does not exist"}`)
		},
		"cut short": func(p *progressWriter, r *http.Request) {
			p.line(`{"status":"pulling manifest"}`)
			p.layer(layerA, 10, 1000)
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, pullServer(t, script))
			if err := c.StartPull("missing:7b"); err != nil {
				t.Fatal(err)
			}
			var st llm.PullState
			eventually(t, 5*time.Second, "the pull did not end", func() bool {
				st, _ = pullOf(c, "missing:7b")
				return st.Done
			})
			if st.Err == "" || st.Status == "success" {
				t.Fatalf("a failed pull: %+v", st)
			}
			if name != "cut short" && !strings.Contains(st.Err, "file does not exist") {
				t.Errorf("Err %q lost Ollama's message", st.Err)
			}
			t.Logf("%+v", st)
		})
	}
}

func TestCancelPull(t *testing.T) {
	t.Parallel()
	gone := make(chan struct{})
	base := pullServer(t, func(p *progressWriter, r *http.Request) {
		p.line(`{"status":"pulling manifest"}`)
		p.layer(layerA, 100, 1000)
		<-r.Context().Done() // Ollama stops downloading when the client goes
		close(gone)
	})
	c := newClient(t, base)
	if err := c.StartPull("big:70b"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "no progress", func() bool {
		st, _ := pullOf(c, "big:70b")
		return st.Completed == 100
	})
	c.CancelPull("library/big:70b") // another spelling of the same model
	select {
	case <-gone:
	case <-time.After(3 * time.Second):
		t.Fatal("CancelPull did not close the request")
	}
	var st llm.PullState
	eventually(t, 3*time.Second, "the cancelled pull is not Done", func() bool {
		st, _ = pullOf(c, "big:70b")
		return st.Done
	})
	if st.Err != "cancelled" {
		t.Errorf("cancelled pull: %+v", st)
	}
	c.CancelPull("big:70b")      // finished: nothing to do
	c.CancelPull("never-pulled") // unknown: nothing to do
	c.CancelPull("not a name")
}

func TestPullStopsWithRun(t *testing.T) {
	t.Parallel()
	base := pullServer(t, func(p *progressWriter, r *http.Request) {
		p.layer(layerA, 1, 1000)
		<-r.Context().Done()
	})
	c := newClient(t, base)
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan struct{})
	go func() { c.Run(ctx); close(ran) }()
	if err := c.StartPull("big:70b"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "no progress", func() bool {
		st, _ := pullOf(c, "big:70b")
		return st.Completed == 1
	})
	cancel()
	select {
	case <-ran:
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return with a pull running")
	}
	// Run waited for the pull to end.
	if st, _ := pullOf(c, "big:70b"); !st.Done || st.Err == "" {
		t.Errorf("after Run: %+v", st)
	}
	if err := c.StartPull("other"); err == nil {
		t.Error("StartPull after Run returned: accepted")
	}
}

func TestPullNames(t *testing.T) {
	t.Parallel()
	base := pullServer(t, func(p *progressWriter, r *http.Request) {
		p.line(`{"status":"success"}`)
	})
	c := newClient(t, base)
	for _, bad := range []string{"", " ", "bad name", " llama3", "llama3 ", "llama3:", ":latest", "a/b/c/d", "../etc/passwd",
		"llama3:tag with space", "llama3@sha256:abc", "ns.with.dots/model", "-llama3", strings.Repeat("x", 81)} {
		if err := c.StartPull(bad); !errors.Is(err, llm.ErrBadModelName) {
			t.Errorf("StartPull(%q): %v, want ErrBadModelName", bad, err)
		}
	}
	for in, want := range map[string]string{
		"llama3":                         "llama3:latest",
		"llama3.2:3b":                    "llama3.2:3b",
		"library/qwen2.5:7b":             "qwen2.5:7b",
		"registry.ollama.ai/library/x:1": "x:1",
		"me/my-model:q4_K_M":             "me/my-model:q4_K_M",
	} {
		if err := c.StartPull(in); err != nil {
			t.Errorf("StartPull(%q): %v", in, err)
			continue
		}
		eventually(t, 5*time.Second, "pull of "+in+" not listed as done under "+want, func() bool {
			st, ok := pullOf(c, want)
			return ok && st.Done && st.Err == ""
		})
	}
}

// TestPullRegistries: Ollama fetches from the host a name gives, so a name
// may give one only where the admin enabled that registry.
func TestPullRegistries(t *testing.T) {
	t.Parallel()
	base := pullServer(t, func(p *progressWriter, r *http.Request) {
		p.line(`{"status":"success"}`)
	})
	c := newClient(t, base)
	c.Registries = []string{"hf.co"}
	for name, host := range map[string]string{
		"169.254.169.254/latest/meta-data:x":    "169.254.169.254",
		"localhost:11434/library/llama3:latest": "localhost:11434",
		"10.0.0.1/ns/model":                     "10.0.0.1",
		"HF.CO.evil.example/org/repo:q4":        "hf.co.evil.example",
	} {
		var re *llm.RegistryError
		if err := c.StartPull(name); !errors.As(err, &re) || re.Host != host {
			t.Errorf("StartPull(%q): %v, want a RegistryError for %s", name, err, host)
		}
	}
	for _, name := range []string{"http://169.254.169.254/latest/meta-data:x", "https://hf.co/org/repo:q4"} {
		if err := c.StartPull(name); !errors.Is(err, llm.ErrBadModelName) {
			t.Errorf("StartPull(%q): %v, want ErrBadModelName", name, err)
		}
	}
	if len(c.Pulls()) != 0 {
		t.Fatalf("refused names were pulled: %+v", c.Pulls())
	}
	want := "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"
	if err := c.StartPull("HF.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"); err != nil {
		t.Fatalf("a pull from an enabled registry: %v", err)
	}
	eventually(t, 5*time.Second, "the pull from hf.co", func() bool {
		for _, p := range c.Pulls() {
			if strings.EqualFold(p.Model, want) && p.Done && p.Err == "" {
				return true
			}
		}
		return false
	})
}

func TestPullsForgetsFinished(t *testing.T) {
	t.Parallel()
	base := pullServer(t, func(p *progressWriter, r *http.Request) {
		p.line(`{"status":"success"}`)
	})
	c := newClient(t, base)
	if err := c.StartPull("small"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "not done", func() bool {
		st, _ := pullOf(c, "small:latest")
		return st.Done
	})
	if len(c.Pulls()) != 1 {
		t.Fatalf("Pulls: %+v", c.Pulls())
	}
	llm.SetPullKeep(c, 0)
	if p := c.Pulls(); len(p) != 0 {
		t.Errorf("Pulls still lists a pull finished longer ago than it keeps them: %+v", p)
	}
}

// TestPullRealServerFails pulls a model no registry has from the real
// server: offline that is a DNS error, online a 404 from the registry; either
// way it must end as a failed pull, not hang or pass.
func TestPullRealServerFails(t *testing.T) {
	t.Parallel()
	c := newClient(t, sendboxtest.Ollama(t))
	const name = "sendbox-test/no-such-model:v0"
	if err := c.StartPull(name); err != nil {
		t.Fatal(err)
	}
	var st llm.PullState
	eventually(t, 60*time.Second, "the pull did not end", func() bool {
		st, _ = pullOf(c, name)
		return st.Done
	})
	if st.Err == "" || st.Status == "success" {
		t.Errorf("%+v", st)
	}
	t.Logf("%+v", st)
}
