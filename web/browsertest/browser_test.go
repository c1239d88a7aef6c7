package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Viewports for screenshots: a phone and a desktop.
var viewports = []struct {
	name          string
	width, height int64
	mobile        bool
}{
	{"phone", 390, 844, true},
	{"desktop", 1280, 800, false},
}

// waitLimit bounds every wait on the page: generous, as the machine may be busy.
const waitLimit = 45 * time.Second

// chromium returns the Chromium to drive, or skips the test when there is none.
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CHAMBER_TEST_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CHAMBER_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("Chromium is required (CHAMBER_TEST_REQUIRE_SERVICES=1) but %s is missing: %v", path, err)
		}
		t.Skipf("no Chromium at %s: set CHAMBER_TEST_CHROMIUM", path)
	}
	return path
}

// browser is one headless Chromium with a fresh profile, and one tab in it.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string // screenshot directory
	name  string // names this browser's screenshots and log lines
}

// newBrowser starts a browser; extra options are applied last, so they may override
// the defaults (such as the autoplay policy).
func newBrowser(t *testing.T, name string, extra ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	path := chromium(t)
	if testing.Short() {
		t.Skip("drives a browser")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.WindowSize(1280, 800),
	}
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: ctx, shots: screenshotDir(t), name: name}
	// Start the browser now, with no deadline on this first call: it lives as long
	// as ctx.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start Chromium: %v", err)
	}
	logConsole(t, ctx, name)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return b
}

// profile opens a tab in a browser profile of its own (its own cookies and storage,
// as another person's browser would have) in the same Chromium as b.
func (b *browser) profile(name string) *browser {
	b.t.Helper()
	return b.newTab(name, chromedp.WithNewBrowserContext())
}

// tab opens another tab in b's browser profile: it shares b's cookies and storage, as
// a second window of the same person's browser does.
func (b *browser) tab(name string) *browser {
	b.t.Helper()
	return b.newTab(name)
}

func (b *browser) newTab(name string, opts ...chromedp.ContextOption) *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, opts...)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		cancel()
		b.t.Fatalf("open a tab for %s: %v", name, err)
	}
	logConsole(b.t, ctx, name)
	b.t.Cleanup(cancel)
	return &browser{t: b.t, ctx: ctx, shots: b.shots, name: name}
}

// logConsole logs the page's errors and warnings to the test.
func logConsole(t *testing.T, ctx context.Context, name string) {
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if strings.HasSuffix(m.URL, "/favicon.ico") {
				continue
			}
			if m.Type == chromedp.ConsoleError || m.IsException() || m.Type == chromedp.ConsoleWarning {
				t.Logf("%s console: %s", name, oneLine(m.String()))
			}
		}
	}()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

var screenshotOnce = map[string]bool{}

// screenshotDir is where a test's screenshots go; it is logged once per test.
func screenshotDir(t *testing.T) string {
	base := os.Getenv("CHAMBER_TEST_SCREENSHOTS")
	if base == "" {
		base = filepath.Join(os.TempDir(), "chamber-screenshots")
	}
	dir := filepath.Join(base, regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot directory: %v", err)
	}
	if !screenshotOnce[dir] {
		screenshotOnce[dir] = true
		t.Logf("screenshots in %s", dir)
	}
	return dir
}

// do runs actions with a deadline.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitLimit)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
}

// open goes to a URL and waits for the page to load.
func (b *browser) open(url string) {
	b.t.Helper()
	b.do("open "+url, chromedp.Navigate(url))
}

// eval evaluates a JavaScript expression (awaiting a promise) into T.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitLimit)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: evaluate %s: %v", b.name, expr, err)
	}
	return v
}

// waitJS waits until a JavaScript expression is truthy.
func (b *browser) waitJS(what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitLimit)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(100*time.Millisecond),
		chromedp.WithPollingTimeout(waitLimit))); err != nil {
		state, _ := chromedp.Run(context.WithoutCancel(b.ctx), chromedp.Evaluate[string](
			`[...document.querySelectorAll("[role=status], [role=alert], .live-status, .connection")].map(e => e.textContent.trim()).filter(Boolean).join(" | ")`))
		b.t.Fatalf("%s: waiting until %s (%s): %v; status: %q", b.name, what, expr, err, oneLine(state))
	}
}

// text returns the text of the first element that matches a CSS selector.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%q)||{}).textContent||""`, sel))
}

// click clicks the element that a CSS selector names, once it is visible.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

// key sends one key press to the focused element ("\t", "\r", " ", or a kb constant).
func (b *browser) key(keys string) {
	b.t.Helper()
	b.do("press keys", chromedp.KeyEvent(keys))
}

// screenshot saves the page as it is at phone and desktop widths, then leaves the
// desktop size in place.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	for _, vp := range viewports {
		var opts []chromedp.EmulateViewportOption
		if vp.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateScale(1))
		}
		ctx, cancel := context.WithTimeout(b.ctx, waitLimit)
		err := chromedp.Do(ctx, chromedp.EmulateViewport(vp.width, vp.height, opts...))
		if err == nil {
			time.Sleep(300 * time.Millisecond) // let the layout settle
			var shot []byte
			shot, err = chromedp.Run(ctx, fullPage(vp.width))
			if err == nil {
				file := filepath.Join(b.shots, fmt.Sprintf("%s-%s-%s.png", b.name, name, vp.name))
				err = os.WriteFile(file, shot, 0o644)
			}
		}
		cancel()
		if err != nil {
			b.t.Fatalf("%s: screenshot %s at %s: %v", b.name, name, vp.name, err)
		}
	}
	b.do("reset the viewport", chromedp.ResetViewport())
}

// fullPage captures the whole page at the emulated width, beyond the viewport.
func fullPage(width int64) chromedp.Action[[]byte] {
	return func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		h, err := chromedp.Evaluate[float64](`Math.max(document.documentElement.scrollHeight, innerHeight)`)(ctx, t)
		if err != nil {
			return nil, err
		}
		r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format:                page.CaptureScreenshotFormatPng,
			CaptureBeyondViewport: ptrTo(true),
			Clip:                  &page.Viewport{X: 0, Y: 0, Width: float64(width), Height: min(h, 6000), Scale: 1},
		})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	}
}

func ptrTo[T any](v T) *T { return &v }

func chromedpSendKeys(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(sel), text)
}

func chromedpClick(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel))
}
