package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"sendbox/app"
	"sendbox/config"
	"sendbox/indexing"
	"sendbox/search"
	"sendbox/store"
)

// reindex rebuilds the search index from SQLite. With sendbox running, the
// running process does it (it owns the index) and keeps serving searches
// from the old index until the new one is complete; otherwise this process
// does it.
func reindex(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("sendbox reindex", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "data folder (default SENDBOX_DATA or ./sendbox-data)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, _, err := config.Load("sendbox", nil, config.Getenv, stderr)
	if err != nil {
		return err
	}
	if *data != "" {
		cfg.DataDir = *data
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bar := newProgressBar(stderr)
	client, err := app.ControlClient(cfg.DataDir)
	if err == nil {
		fmt.Fprintln(stderr, "sendbox is running: it rebuilds the index and keeps serving meanwhile.")
		return remoteReindex(ctx, client, bar)
	}
	if !errors.Is(err, app.ErrNotRunning) {
		return err
	}
	st, err := store.Open(ctx, cfg.Path("sendbox.db"), nil)
	if err != nil {
		return err
	}
	defer st.Close()
	idx, err := search.Open(search.Options{Dir: cfg.Path("search")})
	if err != nil {
		return err
	}
	defer idx.Close()
	start := time.Now()
	if err := idx.Rebuild(ctx, indexing.Source{Store: st}, bar.update); err != nil {
		return err
	}
	bar.finish(time.Since(start))
	return nil
}

func remoteReindex(ctx context.Context, client *http.Client, bar *progressBar) error {
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://sendbox/reindex", nil)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return errors.New(strings.TrimSpace(string(b)))
	}
	start := time.Now()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		var done, total int
		switch {
		case strings.HasPrefix(line, "progress "):
			if _, err := fmt.Sscanf(line, "progress %d %d", &done, &total); err == nil {
				bar.update(done, total)
			}
		case line == "done":
			bar.finish(time.Since(start))
			return nil
		case strings.HasPrefix(line, "error "):
			return errors.New(strings.TrimPrefix(line, "error "))
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("the connection to sendbox ended before the rebuild finished")
}

// progressBar draws "[#####-----] 45% 450000/1000000  12000/s  ETA 1m20s".
type progressBar struct {
	w     io.Writer
	start time.Time
	tty   bool
	last  time.Time
}

func newProgressBar(w io.Writer) *progressBar {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progressBar{w: w, start: time.Now(), tty: tty}
}

func (b *progressBar) update(done, total int) {
	if total <= 0 {
		return
	}
	if !b.tty && time.Since(b.last) < 5*time.Second && done < total {
		return // a log file gets a line every few seconds, not a stream of \r
	}
	b.last = time.Now()
	const width = 30
	filled := done * width / total
	rate := float64(done) / time.Since(b.start).Seconds()
	eta := "-"
	if rate > 0 && done < total {
		eta = (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second).String()
	}
	line := fmt.Sprintf("[%s%s] %3d%% %d/%d  %.0f/s  ETA %s", strings.Repeat("#", filled), strings.Repeat("-", width-filled),
		done*100/total, done, total, rate, eta)
	if b.tty {
		fmt.Fprintf(b.w, "\r%s", line)
	} else {
		fmt.Fprintln(b.w, line)
	}
}

func (b *progressBar) finish(took time.Duration) {
	if b.tty {
		fmt.Fprintln(b.w)
	}
	fmt.Fprintf(b.w, "Search index rebuilt in %s.\n", took.Round(time.Millisecond))
}
