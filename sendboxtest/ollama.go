package sendboxtest

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// OllamaModels are the models of tools/ollama-tiny that tests may use:
// "tiny" always answers "Hello, I am a tiny model.", "tiny-random" writes
// gibberish until num_predict, "tiny-embed" gives 64-dimension embeddings.
var OllamaModels = []string{"tiny", "tiny-random", "tiny-embed"}

// Ollama returns the base URL of a running ollama-tiny server (a real Ollama
// with tiny deterministic models, see tools/ollama-tiny/README.md), from
// SENDBOX_TEST_OLLAMA_URL. Without it the test is skipped, unless
// SENDBOX_REQUIRE_OLLAMA is set (CI sets it): then it fails, so the tests
// against Ollama can never be skipped silently where they must run. A server
// that does not answer or lacks one of OllamaModels fails the test.
func Ollama(t testing.TB) string {
	t.Helper()
	base := strings.TrimRight(os.Getenv("SENDBOX_TEST_OLLAMA_URL"), "/")
	if base == "" {
		const how = "tools/ollama-tiny/build.sh && tools/ollama-tiny/start.sh 11435, then SENDBOX_TEST_OLLAMA_URL=http://127.0.0.1:11435"
		if os.Getenv("SENDBOX_REQUIRE_OLLAMA") != "" {
			t.Fatal("SENDBOX_REQUIRE_OLLAMA is set but SENDBOX_TEST_OLLAMA_URL is not: " + how)
		}
		t.Skip("SENDBOX_TEST_OLLAMA_URL is not set, skipping the tests against Ollama: " + how)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/tags", nil)
	if err != nil {
		t.Fatalf("SENDBOX_TEST_OLLAMA_URL=%q: %v", base, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("the Ollama of SENDBOX_TEST_OLLAMA_URL does not answer (start it with tools/ollama-tiny/start.sh): %v", err)
	}
	defer resp.Body.Close()
	var tags struct {
		Models []struct {
			Name string `json:"name"`
		} `json:"models"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/api/tags: %s (is SENDBOX_TEST_OLLAMA_URL an Ollama server?)", base, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&tags); err != nil {
		t.Fatalf("GET %s/api/tags: %v (is SENDBOX_TEST_OLLAMA_URL an Ollama server?)", base, err)
	}
	var have []string
	for _, m := range tags.Models {
		have = append(have, m.Name)
	}
	for _, m := range OllamaModels {
		if !slices.Contains(have, m) && !slices.Contains(have, m+":latest") {
			t.Fatalf("the Ollama at %s lacks the model %q (it has %q): tools/ollama-tiny/start.sh creates the test models", base, m, have)
		}
	}
	return base
}
