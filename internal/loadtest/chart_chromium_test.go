package loadtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ScreenshotPath is where TestReportRendersInChromium keeps its screenshot
// of the HTML report (a CI artefact, named in the README), relative to the
// repository root; APICTL_ARTIFACTS_DIR moves it.
const ScreenshotPath = ".ci/artifacts/loadtest-report.png"

// chromiumPath finds Debian's chromium; the test is skipped without it
// unless APICTL_REQUIRE_CHROMIUM is set (.ci/run sets it).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("APICTL_REQUIRE_CHROMIUM") != "" {
		t.Fatal("chromium not found and APICTL_REQUIRE_CHROMIUM is set (apt-get install chromium)")
	}
	t.Skip("chromium not installed (apt-get install chromium; .ci/run installs it)")
	return ""
}

// TestReportRendersInChromium opens the HTML report of a real search in
// headless Chromium, offline, and checks that it renders the found rate and
// the latency objective line with no console error, then keeps a screenshot.
func TestReportRendersInChromium(t *testing.T) {
	exe := chromiumPath(t)
	c, _, page := reportRun(t)
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()

	// Every console message up to a last one the test writes itself.
	const end = "apictl-test: end of page"
	messages := chromedp.Console(ctx)
	var problems []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				problems = append(problems, "console: "+err.Error())
				return
			}
			if m.Text == end {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException() {
				problems = append(problems, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
			}
		}
	}()

	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.ID("found-rate"))); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	found, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("found-rate")))
	if err != nil {
		t.Fatal(err)
	}
	objWidth, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector("#rate-latency-objective line").getBoundingClientRect().width`))
	if err != nil {
		t.Fatal(err)
	}
	foundHeight, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector("#rate-latency-found line").getBoundingClientRect().height`))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`console.log("`+end+`")`)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("console: the last message never came")
	}
	if want := fmtRate(c.SustainableRPS) + " rps"; strings.TrimSpace(found) != want {
		t.Errorf("found rate shown %q, want %q", found, want)
	}
	if objWidth < 300 {
		t.Errorf("objective line is %.0f px wide, want across the chart", objWidth)
	}
	if foundHeight < 100 {
		t.Errorf("found-rate marker is %.0f px high", foundHeight)
	}
	for _, p := range problems {
		t.Errorf("chromium %s", p)
	}
	dir := os.Getenv("APICTL_ARTIFACTS_DIR")
	path := filepath.Join("..", "..", ScreenshotPath)
	if dir != "" {
		path = filepath.Join(dir, filepath.Base(ScreenshotPath))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(shot))
}
