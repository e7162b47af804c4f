package ui_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sendbox/config"
	"sendbox/sendboxtest"
)

// TestPullNamesStayOnRegistries: a pull name is a registry model name, and
// names a host only where the admin enabled that registry. Ollama fetches
// from the host a name gives, so "169.254.169.254/latest/meta-data:x" once
// made it request the cloud's metadata service.
func TestPullNamesStayOnRegistries(t *testing.T) {
	var mu sync.Mutex
	var asked []string // the names Ollama was asked to pull
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/version":
			fmt.Fprint(w, `{"version":"0.17.4"}`)
		case "/api/tags":
			fmt.Fprint(w, `{"models":[]}`)
		case "/api/pull":
			var req struct{ Model string }
			json.NewDecoder(r.Body).Decode(&req)
			mu.Lock()
			asked = append(asked, req.Model)
			mu.Unlock()
			w.Header().Set("Content-Type", "application/x-ndjson")
			fmt.Fprintln(w, `{"status":"success"}`)
		}
	}))
	t.Cleanup(srv.Close)
	a := sendboxtest.New(t, sendboxtest.WithConfig(func(c *config.Config) {
		c.OllamaURL = srv.URL
		c.OllamaRegistries = []string{"hf.co"}
	}))
	owner := setupOwner(t, a)
	sendboxtest.Eventually(t, 10*time.Second, "the stand-in Ollama to be seen online", a.LLM.Online)
	owner.get("/settings/assistant")

	for name, want := range map[string]string{
		"169.254.169.254/latest/meta-data:x":        "169.254.169.254",
		"localhost:11434/library/llama3:latest":     "localhost:11434",
		"evil.example/library/llama3":               "evil.example",
		"HF.co.evil.example/org/repo:q4":            "hf.co.evil.example",
		"http://169.254.169.254/latest/meta-data:x": "is not a model name",
		"https://hf.co/org/repo:q4":                 "is not a model name",
	} {
		// The page's form (htmx swaps the answer in: it comes with 200)...
		if _, body := owner.htmx("POST", "/settings/assistant/pull", url.Values{"model": {name}}); !strings.Contains(body, want) {
			t.Errorf("pull %q: the answer does not say %q:\n%s", name, want, body)
		}
		// ...and the same form without JavaScript.
		if resp, body := owner.post("/settings/assistant/pull", url.Values{"model": {name}}); resp.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(body, want) {
			t.Errorf("pull %q without htmx: %d, want 422 saying %q", name, resp.StatusCode, want)
		}
	}
	for _, name := range []string{"llama3.2:3b", "acme/helper:3b", "registry.ollama.ai/library/qwen2.5:7b", "hf.co/org/repo:Q4_K_M"} {
		if resp, body := owner.htmx("POST", "/settings/assistant/pull", url.Values{"model": {name}}); resp.StatusCode != http.StatusOK {
			t.Errorf("pull %q: %d %s", name, resp.StatusCode, body)
		}
	}
	sendboxtest.Eventually(t, 10*time.Second, "the four pulls to reach Ollama", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(asked) >= 4
	})
	time.Sleep(200 * time.Millisecond) // a refused name would have arrived by now too
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(asked)
	if want := []string{"acme/helper:3b", "hf.co/org/repo:Q4_K_M", "llama3.2:3b", "qwen2.5:7b"}; !slices.Equal(asked, want) {
		t.Errorf("Ollama was asked to pull %q, want %q", asked, want)
	}
}
