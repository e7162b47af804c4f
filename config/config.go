// Package config is sendbox's one typed configuration table: for every
// option its default, its environment variable, its flag, whether it is a
// secret, and how it is checked. Values resolve default < environment < flag.
package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the effective configuration of one sendbox process.
type Config struct {
	DataDir  string // --data, SENDBOX_DATA
	HTTPAddr string // --http, SENDBOX_HTTP

	WA WhatsApp

	NATSURL string // SENDBOX_NATS_URL; "" runs the embedded broker
	// NATSReplicas is the stream replica count on an external cluster.
	NATSReplicas int
	// Fsync is how the embedded broker syncs acknowledged writes to disk.
	Fsync string

	LogLevel  string
	LogFormat string

	MediaMaxBytes   int64
	ShutdownTimeout time.Duration

	TLS TLS

	// OllamaURL is the local LLM server (SENDBOX_OLLAMA_URL). Sendbox starts
	// and works without it; the assistant then quotes the knowledge base.
	OllamaURL string
	// AITimeout bounds one assistant turn (SENDBOX_AI_TURN_TIMEOUT).
	AITimeout time.Duration
	// AIWorkers is how many assistant turns run at once (SENDBOX_AI_WORKERS).
	AIWorkers int
	// OllamaRegistries are the registry hosts, besides Ollama's own, that
	// model pulls may name (SENDBOX_OLLAMA_REGISTRIES); empty allows none.
	OllamaRegistries []string

	// WebhookMaxBytes is the largest webhook body accepted (SENDBOX_WEBHOOK_MAX_BYTES).
	WebhookMaxBytes int64
	// DiskFloor is the free space under which webhooks are answered 503 so
	// Meta retries them later (SENDBOX_DISK_FLOOR); 0 means the smaller of
	// 200 MB and 1 % of the data folder's volume.
	DiskFloor int64

	// SMTPURL is the mail server that tells people about urgent
	// conversations (SENDBOX_SMTP_URL); "" sends no e-mail.
	SMTPURL string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the
	// client (SENDBOX_TRUSTED_PROXIES); from anyone else the header is ignored.
	TrustedProxies []netip.Prefix

	// SecretKey encrypts the named secrets that flows send to other
	// services (SENDBOX_SECRET_KEY): 32 bytes in base64 or hex. "" keeps
	// the key in its own file of the data folder, secret.key.
	SecretKey string
	// HTTPAllowHosts are the hosts (or host:ports) that outbound requests
	// of flows may reach even on a private or loopback address
	// (SENDBOX_HTTP_ALLOW_HOSTS); every other private address is refused.
	HTTPAllowHosts []string

	// explicit holds the env names of options given in the environment or by flag.
	explicit map[string]bool
}

// TLS is automatic HTTPS: with a domain, sendbox obtains and renews a
// certificate over ACME and serves everything on HTTPS.
type TLS struct {
	Domain    string // --domain, SENDBOX_DOMAIN; "" serves plain HTTP
	Email     string // --acme-email, SENDBOX_ACME_EMAIL
	CA        string // --acme-ca, SENDBOX_ACME_CA; "" is Let's Encrypt
	CARoot    string // SENDBOX_ACME_CA_ROOT: PEM file to trust for a private CA's directory
	HTTPSAddr string // --https, SENDBOX_HTTPS
}

// Explicit reports whether the option with this env name was given in the
// environment or by flag rather than left at its default.
func (c *Config) Explicit(env string) bool { return c.explicit[env] }

// WhatsApp holds the Cloud API connection. With no phone number id or no
// token, sendbox runs in sandbox mode against its built-in simulator.
type WhatsApp struct {
	PhoneNumberID string
	WABAID        string
	AppID         string
	Token         string
	AppSecret     string
	VerifyToken   string
	APIURL        string
	APIVersion    string
	MPS           int
	// BulkShare is the percentage of MPS campaigns may use (1–100): the
	// rest stays free for replies, the assistant and transactional sends.
	BulkShare int
}

// Sandbox reports whether sendbox runs against its built-in simulator.
func (c *Config) Sandbox() bool { return c.WA.PhoneNumberID == "" || c.WA.Token == "" }

// Option is one row of the configuration table.
type Option struct {
	Flag    string // flag name without dashes; "" if env only
	Env     string
	Default string
	Secret  bool
	// URL options may carry a password in their user part: it is masked
	// wherever the value is shown (RedactURL).
	URL  bool
	Help string
	set  func(c *Config, v string) error
	get  func(c *Config) string
}

func str(p func(c *Config) *string) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error { *p(c) = v; return nil },
		func(c *Config) string { return *p(c) }
}

func positiveInt(p func(c *Config) *int) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n <= 0 {
				return fmt.Errorf("want a positive whole number, got %q", v)
			}
			*p(c) = n
			return nil
		},
		func(c *Config) string { return strconv.Itoa(*p(c)) }
}

func duration(p func(c *Config) *time.Duration) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d <= 0 {
				return fmt.Errorf("want a duration such as 15s, got %q", v)
			}
			*p(c) = d
			return nil
		},
		func(c *Config) string { return p(c).String() }
}

func oneOf(p func(c *Config) *string, allowed ...string) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
			v = strings.ToLower(strings.TrimSpace(v))
			for _, a := range allowed {
				if v == a {
					*p(c) = v
					return nil
				}
			}
			return fmt.Errorf("want one of %s, got %q", strings.Join(allowed, ", "), v)
		},
		func(c *Config) string { return *p(c) }
}

// Options is the table. Keep the names: integrations and ops scripts rely on them.
var Options = func() []Option {
	var opts []Option
	add := func(o Option, set func(*Config, string) error, get func(*Config) string) {
		o.set, o.get = set, get
		opts = append(opts, o)
	}
	s, g := str(func(c *Config) *string { return &c.DataDir })
	add(Option{Flag: "data", Env: "SENDBOX_DATA", Default: "./sendbox-data", Help: "data folder (SQLite, broker, media, keys)"}, s, g)
	s, g = str(func(c *Config) *string { return &c.HTTPAddr })
	add(Option{Flag: "http", Env: "SENDBOX_HTTP", Default: "127.0.0.1:8080", Help: "HTTP listen address"}, s, g)
	s, g = str(func(c *Config) *string { return &c.WA.PhoneNumberID })
	add(Option{Env: "SENDBOX_WA_PHONE_NUMBER_ID", Help: "WhatsApp phone number id (empty: sandbox mode)"}, s, g)
	s, g = str(func(c *Config) *string { return &c.WA.WABAID })
	add(Option{Env: "SENDBOX_WA_WABA_ID", Help: "WhatsApp Business Account id"}, s, g)
	s, g = str(func(c *Config) *string { return &c.WA.AppID })
	add(Option{Env: "SENDBOX_WA_APP_ID", Help: "Meta app id, for uploading a template's media header sample (Resumable Upload API)"}, s, g)
	s, g = str(func(c *Config) *string { return &c.WA.Token })
	add(Option{Env: "SENDBOX_WA_TOKEN", Secret: true, Help: "system user access token (empty: sandbox mode)"}, s, g)
	s, g = str(func(c *Config) *string { return &c.WA.AppSecret })
	add(Option{Env: "SENDBOX_WA_APP_SECRET", Secret: true, Help: "app secret that signs webhooks (sandbox: generated)"}, s, g)
	s, g = str(func(c *Config) *string { return &c.WA.VerifyToken })
	add(Option{Env: "SENDBOX_WA_VERIFY_TOKEN", Secret: true, Help: "webhook verify token (sandbox: generated)"}, s, g)
	s, g = str(func(c *Config) *string { return &c.WA.APIURL })
	add(Option{Env: "SENDBOX_WA_API_URL", Default: "https://graph.facebook.com", Help: "Graph API base URL"}, s, g)
	s, g = str(func(c *Config) *string { return &c.WA.APIVersion })
	add(Option{Env: "SENDBOX_WA_API_VERSION", Default: "v25.0", Help: "Graph API version"}, s, g)
	s, g = positiveInt(func(c *Config) *int { return &c.WA.MPS })
	add(Option{Env: "SENDBOX_WA_MPS", Default: "80", Help: "messages per second allowed for the number"}, s, g)
	add(Option{Env: "SENDBOX_BULK_SHARE", Default: "70", Help: "percentage of the number's messages per second campaigns may use (1-100)"},
		func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), "%"))
			if err != nil || n < 1 || n > 100 {
				return fmt.Errorf("want a percentage from 1 to 100, got %q", v)
			}
			c.WA.BulkShare = n
			return nil
		}, func(c *Config) string { return strconv.Itoa(c.WA.BulkShare) })
	s, g = str(func(c *Config) *string { return &c.NATSURL })
	add(Option{Env: "SENDBOX_NATS_URL", URL: true, Help: "external NATS URL (empty: embedded broker)"}, s, g)
	s, g = str(func(c *Config) *string { return &c.OllamaURL })
	add(Option{Env: "SENDBOX_OLLAMA_URL", URL: true, Default: "http://127.0.0.1:11434", Help: "Ollama server for the assistant (not needed to start)"}, s, g)
	s, g = positiveInt(func(c *Config) *int { return &c.AIWorkers })
	add(Option{Env: "SENDBOX_AI_WORKERS", Default: "1", Help: "assistant turns run at once (Ollama on a CPU serves one)"}, s, g)
	s, g = positiveInt(func(c *Config) *int { return &c.NATSReplicas })
	add(Option{Env: "SENDBOX_NATS_REPLICAS", Default: "1", Help: "stream replicas on an external NATS cluster"}, s, g)
	s, g = oneOf(func(c *Config) *string { return &c.Fsync }, "interval", "always")
	add(Option{Flag: "fsync", Env: "SENDBOX_FSYNC", Default: "interval", Help: "broker disk sync: interval (every second) or always (every write)"}, s, g)
	s, g = oneOf(func(c *Config) *string { return &c.LogLevel }, "debug", "info", "warn", "error")
	add(Option{Flag: "log-level", Env: "SENDBOX_LOG_LEVEL", Default: "info", Help: "log level: debug, info, warn, error"}, s, g)
	s, g = oneOf(func(c *Config) *string { return &c.LogFormat }, "text", "json")
	add(Option{Flag: "log-format", Env: "SENDBOX_LOG_FORMAT", Default: "text", Help: "log format: text or json"}, s, g)
	add(Option{Env: "SENDBOX_MEDIA_MAX_BYTES", Default: "104857600", Help: "largest inbound media file stored, in bytes"},
		func(c *Config, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n <= 0 {
				return fmt.Errorf("want a positive number of bytes, got %q", v)
			}
			c.MediaMaxBytes = n
			return nil
		},
		func(c *Config) string { return strconv.FormatInt(c.MediaMaxBytes, 10) })
	s, g = str(func(c *Config) *string { return &c.TLS.Domain })
	add(Option{Flag: "domain", Env: "SENDBOX_DOMAIN", Help: "domain to serve on HTTPS with an automatic certificate (empty: plain HTTP)"}, s, g)
	s, g = str(func(c *Config) *string { return &c.TLS.Email })
	add(Option{Flag: "acme-email", Env: "SENDBOX_ACME_EMAIL", Help: "e-mail the certificate authority may write to about the certificate"}, s, g)
	s, g = str(func(c *Config) *string { return &c.TLS.CA })
	add(Option{Flag: "acme-ca", Env: "SENDBOX_ACME_CA", Help: "ACME directory URL of another certificate authority (empty: Let's Encrypt)"}, s, g)
	s, g = str(func(c *Config) *string { return &c.TLS.CARoot })
	add(Option{Env: "SENDBOX_ACME_CA_ROOT", Help: "PEM file of the root to trust for a private certificate authority's directory"}, s, g)
	s, g = str(func(c *Config) *string { return &c.TLS.HTTPSAddr })
	add(Option{Flag: "https", Env: "SENDBOX_HTTPS", Default: ":443", Help: "HTTPS listen address, used with a domain"}, s, g)
	s, g = duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })
	add(Option{Env: "SENDBOX_SHUTDOWN_TIMEOUT", Default: "15s", Help: "how long shutdown waits for in-flight work"}, s, g)
	s, g = duration(func(c *Config) *time.Duration { return &c.AITimeout })
	add(Option{Env: "SENDBOX_AI_TURN_TIMEOUT", Default: "30s", Help: "longest an assistant turn may take before a human is asked"}, s, g)
	add(Option{Env: "SENDBOX_OLLAMA_REGISTRIES", Help: "other model registries pulls may name, comma-separated hosts (empty: Ollama's own only)"},
		func(c *Config, v string) error {
			c.OllamaRegistries = nil
			for _, h := range strings.Split(v, ",") {
				h = strings.ToLower(strings.TrimSpace(h))
				if h == "" {
					continue
				}
				if strings.ContainsAny(h, "/@ ") {
					return fmt.Errorf("want host names such as registry.example.com, got %q", h)
				}
				c.OllamaRegistries = append(c.OllamaRegistries, h)
			}
			return nil
		},
		func(c *Config) string { return strings.Join(c.OllamaRegistries, ",") })
	add(Option{Env: "SENDBOX_WEBHOOK_MAX_BYTES", Default: "4194304", Help: "largest webhook body accepted, in bytes (Meta sends up to 3 MB)"},
		func(c *Config, v string) error {
			// The broker must carry a whole body in one message, and NATS
			// allows messages of at most 64 MiB; 32 MiB is ten times Meta's.
			n, err := ParseBytes(v)
			if err != nil || n < 64<<10 || n > 32<<20 {
				return fmt.Errorf("want a size from 64KB to 32MiB, such as 4MB, got %q", v)
			}
			c.WebhookMaxBytes = n
			return nil
		},
		func(c *Config) string { return strconv.FormatInt(c.WebhookMaxBytes, 10) })
	add(Option{Env: "SENDBOX_DISK_FLOOR", Help: "free disk space under which webhooks get 503, such as 500MB (empty: the smaller of 200MB and 1% of the volume)"},
		func(c *Config, v string) error {
			if strings.TrimSpace(v) == "" {
				c.DiskFloor = 0
				return nil
			}
			n, err := ParseBytes(v)
			if err != nil || n <= 0 {
				return fmt.Errorf("want a size such as 500MB, got %q", v)
			}
			c.DiskFloor = n
			return nil
		},
		func(c *Config) string {
			if c.DiskFloor == 0 {
				return ""
			}
			return strconv.FormatInt(c.DiskFloor, 10)
		})
	s, g = str(func(c *Config) *string { return &c.SMTPURL })
	add(Option{Env: "SENDBOX_SMTP_URL", URL: true,
		Help: "mail server for urgent-conversation e-mails, such as smtp://user:password@mail.example.com:587?from=inbox@example.com"}, s, g)
	add(Option{Env: "SENDBOX_TRUSTED_PROXIES", Help: "reverse proxies whose X-Forwarded-For is believed, comma-separated addresses or CIDRs"},
		func(c *Config, v string) error {
			c.TrustedProxies = nil
			for _, f := range strings.Split(v, ",") {
				f = strings.TrimSpace(f)
				if f == "" {
					continue
				}
				p, err := netip.ParsePrefix(f)
				if err != nil {
					a, aerr := netip.ParseAddr(f)
					if aerr != nil {
						return fmt.Errorf("want addresses or CIDRs such as 127.0.0.1 or 10.0.0.0/8, got %q", f)
					}
					p = netip.PrefixFrom(a, a.BitLen())
				}
				c.TrustedProxies = append(c.TrustedProxies, p.Masked())
			}
			return nil
		},
		func(c *Config) string {
			var out []string
			for _, p := range c.TrustedProxies {
				out = append(out, p.String())
			}
			return strings.Join(out, ",")
		})
	add(Option{Env: "SENDBOX_SECRET_KEY", Secret: true,
		Help: "key that encrypts the secrets flows send to other services: 32 bytes in base64 or hex (empty: the file secret.key in the data folder)"},
		func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if v != "" {
				// The error must not quote the value: it is a secret.
				if _, err := ParseKey(v); err != nil {
					return err
				}
			}
			c.SecretKey = v
			return nil
		},
		func(c *Config) string { return c.SecretKey })
	add(Option{Env: "SENDBOX_HTTP_ALLOW_HOSTS", Help: "hosts or host:ports that flows' HTTP requests may reach on private or loopback addresses, comma-separated (empty: none)"},
		func(c *Config, v string) error {
			c.HTTPAllowHosts = nil
			for _, h := range strings.Split(v, ",") {
				h = strings.ToLower(strings.TrimSpace(h))
				if h == "" {
					continue
				}
				if !validHostPort(h) {
					return fmt.Errorf("want hosts or host:ports such as erp.lan or 10.0.0.5:8443, got %q", h)
				}
				c.HTTPAllowHosts = append(c.HTTPAllowHosts, h)
			}
			return nil
		},
		func(c *Config) string { return strings.Join(c.HTTPAllowHosts, ",") })
	return opts
}()

// validHostPort reports whether s is a host name, an IP address (IPv6 bare
// or in brackets), or either with a port.
func validHostPort(s string) bool {
	host := s
	if h, port, err := net.SplitHostPort(s); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return false
		}
		host = h
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host = s[1 : len(s)-1]
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	if host == "" || len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// ParseKey reads a 32-byte key written in base64 (standard or URL
// alphabet, padded or not) or in hex, as SENDBOX_SECRET_KEY and the
// secret.key file hold it. Its errors never quote the key.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	var key []byte
	if len(s) == 64 {
		key, _ = hex.DecodeString(s)
	}
	if key == nil {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(s); err == nil {
				key = b
				break
			}
		}
	}
	if key == nil {
		return nil, fmt.Errorf("want 32 bytes in base64 or hex (such as the output of: openssl rand -base64 32), got %d characters that are neither", len(s))
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("want a key of 32 bytes (44 characters of base64 or 64 of hex), got one of %d bytes", len(key))
	}
	return key, nil
}

// Defaults returns the configuration with every default applied.
func Defaults() *Config {
	c := &Config{}
	for _, o := range Options {
		if err := o.set(c, o.Default); err != nil && o.Default != "" {
			panic(fmt.Sprintf("config: bad default for %s: %v", o.Env, err))
		}
	}
	return c
}

// Load resolves the configuration from defaults, the environment (getenv)
// and the command-line args (flags of the table only), then validates it.
// The returned FlagSet has parsed args; its Args() are the positional rest.
func Load(name string, args []string, getenv func(string) string, out io.Writer) (*Config, *flag.FlagSet, error) {
	c := Defaults()
	c.explicit = map[string]bool{}
	for _, o := range Options {
		if v := getenv(o.Env); v != "" {
			if err := o.set(c, v); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", o.Env, err)
			}
			c.explicit[o.Env] = true
		}
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	for _, o := range Options {
		if o.Flag == "" {
			continue
		}
		o := o
		fs.Func(o.Flag, fmt.Sprintf("%s (env %s, default %q)", o.Help, o.Env, o.Default), func(v string) error {
			c.explicit[o.Env] = true
			return o.set(c, v)
		})
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if c.TLS.Domain != "" && !c.explicit["SENDBOX_HTTP"] {
		// With a domain, plain HTTP serves the ACME challenge and redirects:
		// it must be port 80.
		c.HTTPAddr = ":80"
	}
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	return c, fs, nil
}

// Validate checks the values that depend on each other.
func (c *Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.DataDir) == "" {
		errs = append(errs, errors.New("SENDBOX_DATA: the data folder must not be empty"))
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("SENDBOX_HTTP: want host:port, got %q", c.HTTPAddr))
	}
	if u, err := url.Parse(c.WA.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("SENDBOX_WA_API_URL: want an http(s) URL, got %q", c.WA.APIURL))
	}
	if !strings.HasPrefix(c.WA.APIVersion, "v") {
		errs = append(errs, fmt.Errorf("SENDBOX_WA_API_VERSION: want a version such as v25.0, got %q", c.WA.APIVersion))
	}
	if (c.WA.PhoneNumberID == "") != (c.WA.Token == "") {
		errs = append(errs, errors.New("SENDBOX_WA_PHONE_NUMBER_ID and SENDBOX_WA_TOKEN go together: set both for production, neither for sandbox mode"))
	}
	if !c.Sandbox() {
		if c.WA.AppSecret == "" {
			errs = append(errs, errors.New("SENDBOX_WA_APP_SECRET is required with real credentials: webhooks cannot be verified without it"))
		}
		if c.WA.VerifyToken == "" {
			errs = append(errs, errors.New("SENDBOX_WA_VERIFY_TOKEN is required with real credentials: Meta's webhook handshake needs it"))
		}
	}
	if d := c.TLS.Domain; d != "" {
		if strings.ContainsAny(d, "/: ") || !strings.Contains(d, ".") {
			errs = append(errs, fmt.Errorf("SENDBOX_DOMAIN: want a domain name such as inbox.example.com, got %q", d))
		}
		if _, _, err := net.SplitHostPort(c.TLS.HTTPSAddr); err != nil {
			errs = append(errs, fmt.Errorf("SENDBOX_HTTPS: want host:port, got %q", c.TLS.HTTPSAddr))
		}
	}
	if ca := c.TLS.CA; ca != "" {
		if u, err := url.Parse(ca); err != nil || u.Scheme != "https" || u.Host == "" {
			errs = append(errs, fmt.Errorf("SENDBOX_ACME_CA: want the https URL of an ACME directory, got %q", ca))
		}
	}
	if u, err := url.Parse(c.OllamaURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("SENDBOX_OLLAMA_URL: want a URL such as http://127.0.0.1:11434, got %q", RedactURL(c.OllamaURL)))
	}
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			errs = append(errs, fmt.Errorf("SENDBOX_SMTP_URL: want a URL such as smtp://user:password@mail.example.com:587?from=inbox@example.com, got %q", RedactURL(c.SMTPURL)))
		}
	}
	if c.NATSURL != "" {
		if u, err := url.Parse(c.NATSURL); err != nil || u.Host == "" {
			errs = append(errs, fmt.Errorf("SENDBOX_NATS_URL: want a URL such as nats://host:4222, got %q", RedactURL(c.NATSURL)))
		}
	}
	return errors.Join(errs...)
}

// PublicURL is the address users and Meta reach sendbox on: https://domain
// with a domain, else "" (the caller knows its listener).
func (c *Config) PublicURL() string {
	if c.TLS.Domain == "" {
		return ""
	}
	_, port, _ := net.SplitHostPort(c.TLS.HTTPSAddr)
	if port == "443" || port == "" {
		return "https://" + c.TLS.Domain
	}
	return "https://" + net.JoinHostPort(c.TLS.Domain, port)
}

// Path returns a path inside the data folder.
func (c *Config) Path(elem ...string) string {
	return filepath.Join(append([]string{c.DataDir}, elem...)...)
}

// Mask hides a secret but says whether it is set.
func Mask(v string) string {
	if v == "" {
		return ""
	}
	return "********"
}

// RedactURL masks the password of a URL's user part
// ("nats://app:********@host:4222"), for logs and printouts. A value that
// does not parse is masked whole: it may still hold a password.
func RedactURL(s string) string {
	if s == "" || !strings.Contains(s, "@") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return Mask(s)
	}
	if u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); !ok {
		return u.String()
	}
	// url.UserPassword would escape the stars to %2A: put the mask in
	// after the user name (escaped, so the first "@" is the separator).
	u.User = url.User(u.User.Username())
	return strings.Replace(u.String(), "@", ":********@", 1)
}

// ParseBytes reads a size: a number of bytes, or one with a unit such as
// 500MB, 4MiB or 1GB (KB, MB, GB are powers of 1000; KiB, MiB, GiB of 1024).
func ParseBytes(v string) (int64, error) {
	v = strings.ToUpper(strings.TrimSpace(v))
	units := []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			v, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("not a size: %q", v)
	}
	return int64(f * float64(mult)), nil
}

// Print writes the effective configuration, one option a line, secrets masked.
func (c *Config) Print(w io.Writer) {
	for _, o := range Options {
		v := o.get(c)
		if o.Secret {
			v = Mask(v)
		}
		if o.URL {
			v = RedactURL(v)
		}
		fmt.Fprintf(w, "%-28s %s\n", o.Env, strconv.Quote(v))
	}
	mode := "production (Meta Cloud API)"
	if c.Sandbox() {
		mode = "sandbox (built-in simulator)"
	}
	fmt.Fprintf(w, "%-28s %s\n", "# mode", mode)
}

// Getenv is os.Getenv, the usual argument of Load.
var Getenv = os.Getenv
