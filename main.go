// Command sendbox is a self-hosted WhatsApp Business platform in one binary.
//
//	sendbox [serve]                 run (the default)
//	sendbox version                 print the version
//	sendbox config                  print the effective configuration, secrets masked
//	sendbox apikey create --name N  create an API key (printed once)
//	sendbox apikey list             list API keys
//	sendbox apikey revoke ID        revoke an API key
//	sendbox user reset-password --email E
//	                                print a one-time link to set a new password
//	sendbox reindex                 rebuild the search index
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
	_ "time/tzdata" // time zones of business hours and timers, on a box without /usr/share/zoneinfo

	"sendbox/accounts"
	"sendbox/app"
	"sendbox/config"
	"sendbox/knowledge"
	"sendbox/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	knowledge.RunChild() // this process may be the reader of an uploaded PDF
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args, stderr)
	case "version":
		fmt.Fprintf(stdout, "sendbox %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	case "config":
		var cfg *config.Config
		if cfg, _, err = config.Load("sendbox config", args, config.Getenv, stderr); err == nil {
			cfg.Print(stdout)
		}
	case "apikey":
		err = apikey(args, stdout, stderr)
	case "user":
		err = user(args, stdout, stderr)
	case "reindex":
		err = reindex(args, stderr)
	case "help", "-h", "--help":
		usage(stdout)
	default:
		fmt.Fprintf(stderr, "sendbox: unknown command %q\n\n", cmd)
		usage(stderr)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sendbox %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: sendbox [command] [flags]

commands:
  serve                   run sendbox (the default)
  version                 print the version
  config                  print the effective configuration, secrets masked
  apikey create --name N  create an API key; it is printed once [--role owner|admin|agent|viewer]
  apikey list             list API keys
  apikey revoke ID        revoke an API key
  user reset-password --email E
                          print a one-time link where that user sets a new password (and the
                          owner gets back in); works whether sendbox runs or not [--url U]
  reindex                 rebuild the search index from the database (a running sendbox keeps serving)

Every command takes --data (SENDBOX_DATA); "sendbox serve -h" lists every flag.
`)
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(args []string, stderr io.Writer) error {
	cfg, fs, err := config.Load("sendbox serve", args, config.Getenv, stderr)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	log := newLogger(cfg, stderr)
	slog.SetDefault(log)
	if os.Getenv("GOGC") == "" {
		// The live heap is small (tens of MB), and with Go's default of 100 a
		// webhook flood spends a fifth of its CPU collecting garbage: let the
		// heap grow to four times the live data before collecting. GOGC and
		// GOMEMLIMIT in the environment still decide when they are set.
		debug.SetGCPercent(300)
	}
	if os.Getenv("GOMAXPROCS") == "" {
		// One thread more than the CPUs. Go hands a goroutine a 10 ms slice:
		// with a thread per CPU, a webhook's handler waited whole slices
		// behind the indexer and the assistant, and its p99 at 1,000/s was
		// ~50 ms on 2 cores. With one more, the kernel interleaves them
		// finely and the p99 halves; the store and the index keep their
		// pace. GOMAXPROCS in the environment still decides when set.
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + 1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	sb, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	log.Info("started", slog.Duration("in", time.Since(start)), slog.String("version", version))
	if sb.Sim != nil {
		log.Info("sandbox mode: the built-in simulator stands in for Meta; set SENDBOX_WA_PHONE_NUMBER_ID and SENDBOX_WA_TOKEN to connect a real number")
	}
	link, err := sb.SetupLink(ctx)
	switch {
	case err != nil:
		// Not a reason to stay down: on a full disk, webhooks still get
		// their 503 and sendbox recovers once space is freed.
		log.Error("the one-time setup link could not be created; it is printed at the next start", slog.Any("err", err))
	case link != "":
		// The one secret printed on purpose: whoever holds it creates the
		// owner account, once. It is void as soon as it is used.
		fmt.Fprintf(stderr, "\n  No owner account yet. Open this one-time link to create it:\n\n    %s\n\n", link)
	default:
		log.Info("panel ready", slog.String("url", sb.PanelURL()))
	}
	return sb.Run(ctx)
}

func apikey(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("say what to do: create, list or revoke")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("sendbox apikey "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "a name saying who uses the key")
	role := fs.String("role", "admin", "the key's role: owner, admin, agent or viewer")
	data := fs.String("data", "", "data folder (default SENDBOX_DATA or ./sendbox-data)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	_, st, err := openStore(ctx, *data, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "create":
		if *name == "" {
			return errors.New("--name is required, e.g. --name zapier")
		}
		key, k, err := accounts.CreateAPIKey(ctx, st, *name, *role)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "Created API key %d %q (role %s). It is shown only this once:\n", k.ID, k.Name, k.Role)
		fmt.Fprintln(stdout, key)
	case "list":
		keys, err := st.ListAPIKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tROLE\tCREATED\tLAST USED\tREVOKED")
		for _, k := range keys {
			fmt.Fprintf(tw, "%d\t%s\t%s…\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, k.Role, day(k.CreatedAt), day(k.LastUsedAt), day(k.RevokedAt))
		}
		tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return errors.New("give the id of the key to revoke (see: sendbox apikey list)")
		}
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a key id", fs.Arg(0))
		}
		if err := st.RevokeAPIKey(ctx, id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no live API key with id %d", id)
			}
			return err
		}
		fmt.Fprintf(stdout, "API key %d revoked.\n", id)
	default:
		return fmt.Errorf("unknown apikey command %q: use create, list or revoke", sub)
	}
	return nil
}

// resetLinkTTL is how long a link of "sendbox user reset-password" works:
// it is made by someone at the server, to be opened at once.
const resetLinkTTL = time.Hour

func user(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "reset-password" {
		return errors.New("say what to do: reset-password --email E")
	}
	fs := flag.NewFlagSet("sendbox user reset-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the address the user signs in with")
	data := fs.String("data", "", "data folder (default SENDBOX_DATA or ./sendbox-data)")
	base := fs.String("url", "", "where the panel is opened (default https://SENDBOX_DOMAIN, else http://SENDBOX_HTTP)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("--email is required, e.g. --email owner@example.com")
	}
	ctx := context.Background()
	cfg, st, err := openStore(ctx, *data, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	token, u, err := accounts.PasswordReset(ctx, st, *email, resetLinkTTL)
	if err != nil {
		return err
	}
	link := strings.TrimRight(panelBase(cfg, *base), "/") + "/invite?token=" + token
	fmt.Fprintf(stderr, "One-time link for %s (%s, role %s). It works once, within the hour; it signs them in and ends their other sessions:\n",
		u.Email, u.Name, u.Role)
	fmt.Fprintln(stdout, link)
	return nil
}

// panelBase is where a link printed by a command is opened: the given
// address, else the public URL, else the listen address (loopback when it
// listens on every interface).
// openStore opens the database of the data folder a command names (else the
// configured one) for the commands that work on it beside, or instead of, a
// running sendbox.
func openStore(ctx context.Context, data string, stderr io.Writer) (*config.Config, *store.Store, error) {
	cfg, _, err := config.Load("sendbox", nil, config.Getenv, stderr)
	if err != nil {
		return nil, nil, err
	}
	if data != "" {
		cfg.DataDir = data
	}
	st, err := store.Open(ctx, cfg.Path("sendbox.db"), nil)
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}

func panelBase(cfg *config.Config, given string) string {
	if given != "" {
		return given
	}
	if u := cfg.PublicURL(); u != "" {
		return u
	}
	host, port, err := net.SplitHostPort(cfg.HTTPAddr)
	if err != nil {
		return "http://" + cfg.HTTPAddr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("2006-01-02 15:04")
}
