package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// TestSecretsStayOutOfTheLog: passwords inside SENDBOX_NATS_URL and
// SENDBOX_OLLAMA_URL are masked wherever sendbox writes the URL: its log
// (at debug level), its error messages, the panel's API. The log is what
// people paste into issues.
func TestSecretsStayOutOfTheLog(t *testing.T) {
	const natsPW, ollamaPW = "natsS3cretPW", "ollamaS3cretPW"
	// A bad URL is refused with the reason, the password masked.
	for env, pw := range map[string]string{
		"SENDBOX_NATS_URL=nats://app:" + natsPW + "@[bad":   natsPW,
		"SENDBOX_OLLAMA_URL=ftp://ai:" + ollamaPW + "@host": ollamaPW,
	} {
		_, errOut, code := runCLI(t, []string{env}, "config")
		if code != 1 || strings.Contains(errOut, pw) || !strings.Contains(errOut, "********") {
			t.Errorf("%s: exit %d, stderr %q: want it refused with the password masked", env, code, errOut)
		}
	}

	// A NATS server that wants a password, and an Ollama behind a proxy that
	// wants one too (Ollama has no authentication of its own).
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoSigs: true, NoLog: true, Username: "app", Password: natsPW,
		MaxPayload: 8 << 20}) // room for a 4 MiB webhook: sendbox refuses a smaller broker
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	var authed atomic.Int64
	ollama := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ai" || p != ollamaPW {
			w.Header().Set("WWW-Authenticate", `Basic realm="ollama"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		authed.Add(1)
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, "Ollama is running")
		case "/api/version":
			fmt.Fprint(w, `{"version":"0.17.4"}`)
		case "/api/tags":
			fmt.Fprint(w, `{"models":[]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ollama.Close)
	natsURL := strings.Replace(ns.ClientURL(), "nats://", "nats://app:"+natsPW+"@", 1)
	ollamaURL := strings.Replace(ollama.URL, "http://", "http://ai:"+ollamaPW+"@", 1)

	dataDir := t.TempDir()
	env := []string{"SENDBOX_DATA=" + dataDir, "SENDBOX_NATS_URL=" + natsURL, "SENDBOX_OLLAMA_URL=" + ollamaURL}
	out, _, code := runCLI(t, env, "config")
	if code != 0 || strings.Contains(out, natsPW) || strings.Contains(out, ollamaPW) {
		t.Fatalf("sendbox config: %d\n%s", code, out)
	}
	key, _, code := runCLI(t, env, "apikey", "create", "--name", "t", "--role", "viewer")
	if code != 0 {
		t.Fatalf("apikey create: %d", code)
	}
	p := start(t, dataDir, append(env[1:], "SENDBOX_LOG_LEVEL=debug")...)
	get := func(path string) string {
		req, _ := http.NewRequest("GET", "http://"+p.addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(key))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st struct {
			Online bool `json:"ollama_online"`
		}
		body := get("/api/v1/assistant")
		json.Unmarshal([]byte(body), &st)
		if st.Online {
			if strings.Contains(body, ollamaPW) {
				t.Errorf("GET /api/v1/assistant shows the Ollama password: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ollama behind its password not seen online in 30 s (%d authenticated requests): %s\n%s", authed.Load(), body, p.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	log := p.log.String()
	for _, pw := range []string{natsPW, ollamaPW} {
		if strings.Contains(log, pw) {
			t.Errorf("the log shows a password:\n%s", log)
		}
	}
	if !strings.Contains(log, "ai:********@") {
		t.Errorf("the log does not name the Ollama server it uses (masked):\n%s", log)
	}
}
