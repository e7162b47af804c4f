package sendboxtest

import (
	"context"
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
	var ctx context.Context
	var cancelCtx, cancelAlloc context.CancelFunc
	var errs []string
	for attempt := 1; ; attempt++ {
		ctx, cancelCtx, cancelAlloc = launch(t, path, opts)
		err := chromedp.Do(ctx, chromedp.Navigate("about:blank"))
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
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

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
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
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

// Run runs chromedp actions with a generous timeout, failing the test with
// what was being done.
func Run(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		Screenshot(t, ctx, "failed-"+strings.ReplaceAll(what, " ", "-"))
		t.Fatalf("%s: %v", what, err)
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
