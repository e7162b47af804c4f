package config

import (
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
