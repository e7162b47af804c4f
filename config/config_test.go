package config

import (
	"encoding/base64"
	"io"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsAreSandbox(t *testing.T) {
	c, _, err := Load("sendbox", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "./sendbox-data" || c.HTTPAddr != "127.0.0.1:8080" || c.WA.APIVersion != "v25.0" ||
		c.WA.APIURL != "https://graph.facebook.com" || c.WA.MPS != 80 || c.NATSURL != "" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if !c.Sandbox() {
		t.Fatal("no credentials should mean sandbox mode")
	}
}

func TestFlagBeatsEnvBeatsDefault(t *testing.T) {
	c, fs, err := Load("sendbox", []string{"--http", "0.0.0.0:9000", "rest"},
		env(map[string]string{"SENDBOX_HTTP": "127.0.0.1:1", "SENDBOX_DATA": "/tmp/x", "SENDBOX_WA_MPS": "1000"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "0.0.0.0:9000" || c.DataDir != "/tmp/x" || c.WA.MPS != 1000 {
		t.Fatalf("got %+v", c)
	}
	if got := fs.Args(); len(got) != 1 || got[0] != "rest" {
		t.Fatalf("positional args: %v", got)
	}
}

func TestValidationErrors(t *testing.T) {
	cases := map[string]map[string]string{
		"SENDBOX_WA_MPS":           {"SENDBOX_WA_MPS": "zero"},
		"SENDBOX_HTTP":             {"SENDBOX_HTTP": "nonsense"},
		"go together":              {"SENDBOX_WA_PHONE_NUMBER_ID": "123"},
		"SENDBOX_WA_APP_SECRET":    {"SENDBOX_WA_PHONE_NUMBER_ID": "123", "SENDBOX_WA_TOKEN": "t", "SENDBOX_WA_VERIFY_TOKEN": "v"},
		"SENDBOX_WA_VERIFY_TOKEN":  {"SENDBOX_WA_PHONE_NUMBER_ID": "123", "SENDBOX_WA_TOKEN": "t", "SENDBOX_WA_APP_SECRET": "s"},
		"SENDBOX_LOG_LEVEL":        {"SENDBOX_LOG_LEVEL": "loud"},
		"SENDBOX_WA_API_URL":       {"SENDBOX_WA_API_URL": "ftp://x"},
		"SENDBOX_SHUTDOWN_TIMEOUT": {"SENDBOX_SHUTDOWN_TIMEOUT": "-1s"},
		"SENDBOX_NATS_URL":         {"SENDBOX_NATS_URL": "::"},
	}
	for want, e := range cases {
		_, _, err := Load("sendbox", nil, env(e), io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: want an error mentioning %q, got %v", e, want, err)
		}
	}
}

func TestPrintMasksSecrets(t *testing.T) {
	c, _, err := Load("sendbox", nil, env(map[string]string{
		"SENDBOX_WA_PHONE_NUMBER_ID": "123", "SENDBOX_WA_TOKEN": "EAAG-very-secret",
		"SENDBOX_WA_APP_SECRET": "appsecret-xyz", "SENDBOX_WA_VERIFY_TOKEN": "verify-abc",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	c.Print(&sb)
	out := sb.String()
	for _, secret := range []string{"EAAG-very-secret", "appsecret-xyz", "verify-abc"} {
		if strings.Contains(out, secret) {
			t.Errorf("secret %q printed:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, `SENDBOX_WA_PHONE_NUMBER_ID   "123"`) || !strings.Contains(out, "production") {
		t.Errorf("effective config not printed:\n%s", out)
	}
}

func TestURLPasswordsMasked(t *testing.T) {
	c, _, err := Load("sendbox", nil, env(map[string]string{
		"SENDBOX_NATS_URL":   "nats://app:nats-pw-123@nats.example.com:4222",
		"SENDBOX_OLLAMA_URL": "http://me:ollama-pw-456@10.0.0.5:11434",
		"SENDBOX_SMTP_URL":   "smtp://mailer:smtp-pw-789@mail.example.com:587?from=inbox@example.com",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	c.Print(&sb)
	out := sb.String()
	for _, secret := range []string{"nats-pw-123", "ollama-pw-456", "smtp-pw-789"} {
		if strings.Contains(out, secret) {
			t.Errorf("password %q printed:\n%s", secret, out)
		}
	}
	for _, kept := range []string{"nats://app:********@nats.example.com:4222", "http://me:********@10.0.0.5:11434", "mail.example.com:587"} {
		if !strings.Contains(out, kept) {
			t.Errorf("%q not shown:\n%s", kept, out)
		}
	}
	if got := RedactURL("nats://nats.example.com:4222"); got != "nats://nats.example.com:4222" {
		t.Errorf("a URL without a password changed: %q", got)
	}
	if got := RedactURL("smtp://in%40box:p%40ss@mail.example.com:587"); got != "smtp://in%40box:********@mail.example.com:587" {
		t.Errorf("a user name with an escaped @: %q", got)
	}
}

func TestNewOptions(t *testing.T) {
	c, _, err := Load("sendbox", nil, env(map[string]string{
		"SENDBOX_WEBHOOK_MAX_BYTES": "5MiB", "SENDBOX_DISK_FLOOR": "500MB",
		"SENDBOX_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8", "SENDBOX_OLLAMA_REGISTRIES": "Registry.Example.com",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.WebhookMaxBytes != 5<<20 || c.DiskFloor != 500e6 || len(c.TrustedProxies) != 2 ||
		c.TrustedProxies[1].String() != "10.0.0.0/8" || c.OllamaRegistries[0] != "registry.example.com" {
		t.Fatalf("got %+v", c)
	}
	d := Defaults()
	if d.WebhookMaxBytes != 4<<20 || d.DiskFloor != 0 {
		t.Fatalf("defaults: %d %d", d.WebhookMaxBytes, d.DiskFloor)
	}
	for e, v := range map[string]string{"SENDBOX_WEBHOOK_MAX_BYTES": "10", "SENDBOX_DISK_FLOOR": "lots",
		"SENDBOX_TRUSTED_PROXIES": "proxy.local", "SENDBOX_SMTP_URL": "http://mail", "SENDBOX_OLLAMA_REGISTRIES": "a/b"} {
		if _, _, err := Load("sendbox", nil, env(map[string]string{e: v}), io.Discard); err == nil || !strings.Contains(err.Error(), e) {
			t.Errorf("%s=%q: want an error naming it, got %v", e, v, err)
		}
	}
	// NATS carries a webhook in one message of at most 64 MiB.
	if _, _, err := Load("sendbox", nil, env(map[string]string{"SENDBOX_WEBHOOK_MAX_BYTES": "100MB"}), io.Discard); err == nil {
		t.Error("a 100 MB webhook limit was accepted")
	}
}

// TestSecretKeyAndAllowHosts: the secret key is read in base64 or hex and
// never quoted in an error; the allow-list takes hosts and host:ports.
func TestSecretKeyAndAllowHosts(t *testing.T) {
	const b64 = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=" // 32 bytes
	for _, k := range []string{b64, strings.TrimRight(b64, "="), strings.Repeat("ab", 32)} {
		c, _, err := Load("sendbox", nil, env(map[string]string{"SENDBOX_SECRET_KEY": k}), io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", k, err)
		}
		if key, err := ParseKey(c.SecretKey); err != nil || len(key) != 32 {
			t.Fatalf("%q: %d bytes, %v", k, len(key), err)
		}
		var out strings.Builder
		c.Print(&out)
		if strings.Contains(out.String(), k) {
			t.Fatalf("the key is printed:\n%s", out.String())
		}
	}
	for _, k := range []string{"short-and-secret", strings.Repeat("ab", 16), base64Of(31)} {
		_, _, err := Load("sendbox", nil, env(map[string]string{"SENDBOX_SECRET_KEY": k}), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "SENDBOX_SECRET_KEY") || strings.Contains(err.Error(), k) {
			t.Errorf("%q: want an error naming the option but not the key, got %v", k, err)
		}
	}

	c, _, err := Load("sendbox", nil, env(map[string]string{"SENDBOX_HTTP_ALLOW_HOSTS": " ERP.lan, 10.0.0.5:8443,[fd00::1]:80,fd00::2 "}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.HTTPAllowHosts, ","); got != "erp.lan,10.0.0.5:8443,[fd00::1]:80,fd00::2" {
		t.Fatalf("allow hosts: %q", got)
	}
	for _, v := range []string{"http://erp.lan", "erp.lan/path", "user@erp.lan", "erp.lan:0", "erp.lan:http", "bad host"} {
		if _, _, err := Load("sendbox", nil, env(map[string]string{"SENDBOX_HTTP_ALLOW_HOSTS": v}), io.Discard); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
}

func base64Of(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
