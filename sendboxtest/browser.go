package sendboxtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser starts Debian's Chromium, headless, for a test and returns a
// chromedp context for it. Without Chromium the test is skipped, unless
// SENDBOX_REQUIRE_BROWSER is set (CI sets it): then it fails, so browser
// tests can never be skipped silently where they must run.
//
// opts add Chromium options, such as a host-resolver rule that serves the
// panel under a name that is not a secure context.
func Browser(t testing.TB, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("SENDBOX_REQUIRE_BROWSER") != "" {
			t.Fatal("SENDBOX_REQUIRE_BROWSER is set but no chromium is on PATH (apt-get install chromium)")
		}
		t.Skip("no chromium on PATH: install Debian's chromium to run the browser tests")
	}
	// Start the browser now, so a broken install fails here and clearly.
	// Chromium now and then exits at launch before it prints its DevTools
	// address (seen once in CI, with several browsers starting at once):
	// a launch is tried three times, each with a fresh profile.
	//
	// The first action allocates the browser and binds its process to the
	// context it is given, so the launch cannot take a timeout context: a
	// timer cancels a launch that hangs instead.
	var ctx context.Context
	var cancelCtx, cancelAlloc context.CancelFunc
	var errs []string
	for attempt := 1; ; attempt++ {
		ctx, cancelCtx, cancelAlloc = launch(t, path, opts)
		hung := time.AfterFunc(launchTimeout, cancelAlloc)
		err := chromedp.Do(ctx, chromedp.Navigate("about:blank"))
		if !hung.Stop() && err == nil {
			err = fmt.Errorf("no answer within %s", launchTimeout)
		}
		if err == nil {
			break
		}
		cancelCtx()
		cancelAlloc()
		errs = append(errs, err.Error())
		if attempt == 3 {
			t.Fatalf("start chromium, 3 tries:\n%s", strings.Join(errs, "\n"))
		}
		time.Sleep(time.Duration(attempt) * 500 * time.Millisecond)
	}
	// A backstop: a browser test that hangs (a read waiting for a node that
	// never comes, Chromium stuck) fails after Lifetime with what it was
	// doing, instead of holding the package until go test's own timeout,
	// which names no test.
	backstop := time.AfterFunc(Lifetime, func() {
		t.Errorf("browser test still running after %s: Chromium closed, so the step that waits fails", Lifetime)
		cancelAlloc()
	})
	t.Cleanup(func() {
		backstop.Stop()
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

// launchTimeout bounds Chromium's start; Lifetime bounds a whole browser
// test, far above the longest one (about a minute on a loaded CI machine).
const launchTimeout = time.Minute

const Lifetime = 8 * time.Minute

// ScreenshotDir is where browser tests save screenshots: SENDBOX_SCREENSHOTS,
// else testdata-out/screenshots at the module root.
func ScreenshotDir(t testing.TB) string {
	dir := os.Getenv("SENDBOX_SCREENSHOTS")
	if dir == "" {
		wd, _ := os.Getwd()
		for d := wd; d != filepath.Dir(d); d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(d, "testdata-out", "screenshots")
				break
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Screenshot saves a full-page PNG named name under ScreenshotDir.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	buf, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	name = strings.ReplaceAll(name, " ", "-")
	if !strings.HasSuffix(name, ".png") {
		name += ".png"
	}
	if err := os.WriteFile(filepath.Join(ScreenshotDir(t), name), buf, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
	}
}

// StepTimeout bounds one browser step (Run) or read (Read): generous,
// because a loaded 2-core CI machine answers a flow's message in tens of
// seconds at worst, and a step that waits for something that never comes
// should still fail well before the test's Lifetime.
const StepTimeout = time.Minute

// Run runs chromedp actions within StepTimeout, failing the test with what
// was being done.
func Run(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		Screenshot(t, ctx, "failed-"+strings.ReplaceAll(what, " ", "-"))
		t.Fatalf("%s: %v", what, err)
	}
}

// Read runs one chromedp action that returns a value, such as the text of
// a node, failing the test with what was being read if it has no answer
// within StepTimeout. See TryRead.
func Read[T any](t testing.TB, ctx context.Context, what string, action chromedp.Action[T]) T {
	t.Helper()
	v, err := TryRead(ctx, action)
	if err != nil {
		Screenshot(t, ctx, "failed-"+strings.ReplaceAll(what, " ", "-"))
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// TryRead runs one chromedp action that returns a value, for up to
// StepTimeout. A query finds a node and then reads it; the panel redraws parts
// of a page live (htmx), and a node swapped out in between fails the read
// ("No node with given id found") or leaves it waiting for good. Reads
// change nothing, so such a read is tried again, each try bounded.
func TryRead[T any](ctx context.Context, action chromedp.Action[T]) (T, error) {
	deadline := time.Now().Add(StepTimeout)
	for {
		tctx, cancel := context.WithTimeout(ctx, min(5*time.Second, time.Until(deadline)))
		v, err := chromedp.Run(tctx, action)
		cancel()
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return v, err
		}
		if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "node with given id") {
			return v, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func launch(t testing.TB, path string, extra []chromedp.ExecAllocatorOption) (context.Context, context.CancelFunc, context.CancelFunc) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1440, 900),
	}
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	return ctx, cancelCtx, cancelAlloc
}
