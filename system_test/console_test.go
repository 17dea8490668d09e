package system_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromiumPath is Debian's chromium; .ci/run installs it and sets
// RDB_REQUIRE_CHROMIUM=1, which turns a missing browser into a failure.
const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds the browser's life in one test; stepTimeout
// bounds each step, on a busy machine.
const (
	browserTimeout = 5 * time.Minute
	stepTimeout    = time.Minute
)

// newBrowser starts a headless chromium with a fresh profile, or skips
// the test when chromium is not installed. The machine has no network:
// background services that would reach out are off.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("RDB_REQUIRE_CHROMIUM") != "" {
			t.Fatalf("RDB_REQUIRE_CHROMIUM is set but %s is missing: %v", chromiumPath, err)
		}
		t.Skipf("skipping browser test: %s not installed (apt-get install chromium)", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	life, cancelLife := context.WithTimeout(context.Background(), browserTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		cancelLife()
	})
	// The first call starts the browser and binds it to ctx; later steps
	// run with their own timeouts derived from it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// screenshotDir is where screenshots go: $RDB_SCREENSHOT_DIR if set (to
// keep them), else the test's temporary directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("RDB_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// do runs browser steps within stepTimeout, failing the test with what
// was being done.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one browser action that returns a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(tctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// shoot saves a PNG of the whole page as dir/name and logs its path.
func shoot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png := get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", p, len(png))
}

// tableJS reads the table matched by sel as rows of cell texts, the
// header row first.
func tableJS(sel string) string {
	return fmt.Sprintf(`Array.from(document.querySelector(%q).querySelectorAll("tr"))
		.map(r => Array.from(r.children).map(c => c.textContent))`, sel)
}

// css is a CSS selector.
func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

func TestConsole_Browser(t *testing.T) {
	ctx := newBrowser(t)
	n := StartNode(t)
	shots := screenshotDir(t)

	// / redirects to the console, whose status tab shows this node.
	do(t, ctx, "load the console",
		chromedp.Navigate(n.URL()+"/"),
		chromedp.WaitVisible(css(`#status-cards dd`)),
		chromedp.WaitVisible(css(`#nodes-table tbody tr`)))
	loc := get(t, ctx, "read the location", chromedp.Location())
	if !strings.HasSuffix(loc, "/console/#status") {
		t.Errorf("location after loading / is %q, want the console", loc)
	}
	cards := get(t, ctx, "read the status cards", chromedp.Text(css(`#status-cards`)))
	for _, want := range []string{n.ID(), "Leader", "Applied index", "Uptime", "Version"} {
		if !strings.Contains(cards, want) {
			t.Errorf("status cards lack %q: %q", want, cards)
		}
	}
	nodes := get(t, ctx, "read the nodes table", chromedp.Evaluate[[][]string](tableJS(`#nodes-table`)))
	if len(nodes) != 2 || nodes[1][0] != n.ID() || nodes[1][1] != "leader" {
		t.Errorf("nodes table = %q, want this node as leader", nodes)
	}
	shoot(t, ctx, shots, "1-status.png")
	consoleKeyboard(t, ctx)

	consoleQuery(t, ctx, shots)
	consoleSQLError(t, ctx, shots)
	consoleSchema(t, ctx, shots)
	backup := consoleBackup(t, ctx, shots)
	consoleRestore(t, ctx, n, backup)
	consolePhone(t, ctx, shots)
}

// consoleKeyboard checks the tabs work from the keyboard and that every
// form control has a label.
func consoleKeyboard(t *testing.T, ctx context.Context) {
	t.Helper()
	selected := func() string {
		return get(t, ctx, "read the selected tab", chromedp.Evaluate[string](
			`document.querySelector('[role="tab"][aria-selected="true"]').id + " " + document.activeElement.id`))
	}
	do(t, ctx, "arrow right from Status", chromedp.Focus(css(`#tab-status`)), chromedp.KeyEvent(kb.ArrowRight))
	if got := selected(); got != "tab-query tab-query" {
		t.Errorf("after ArrowRight: selected and focused %q, want tab-query", got)
	}
	do(t, ctx, "End", chromedp.KeyEvent(kb.End))
	if got := selected(); got != "tab-backup tab-backup" {
		t.Errorf("after End: selected and focused %q, want tab-backup", got)
	}
	do(t, ctx, "Home", chromedp.KeyEvent(kb.Home))
	if got := selected(); got != "tab-status tab-status" {
		t.Errorf("after Home: selected and focused %q, want tab-status", got)
	}
	unlabelled := get(t, ctx, "find unlabelled controls", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("input, select, textarea"))
			.filter(e => e.labels.length === 0 && !e.getAttribute("aria-label")).map(e => e.id || e.name)`))
	if len(unlabelled) != 0 {
		t.Errorf("form controls without a label: %q", unlabelled)
	}
}

// consoleQuery runs CREATE, INSERT and SELECT from the editor with
// Ctrl+Enter and reads the result table from the DOM.
func consoleQuery(t *testing.T, ctx context.Context, shots string) {
	t.Helper()
	sql := "CREATE TABLE fruit(id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER);\n" +
		"CREATE INDEX fruit_name ON fruit(name);\n" +
		"INSERT INTO fruit(name, qty) VALUES('apple', 3), ('pear', 5), ('fig', NULL);\n" +
		"SELECT name, qty FROM fruit ORDER BY id"
	do(t, ctx, "run statements with Ctrl+Enter",
		chromedp.Click(css(`#tab-query`)),
		chromedp.WaitVisible(css(`#sql`)),
		chromedp.SetValue(css(`#sql`), sql),
		chromedp.SetValue(css(`#level`), "strong"),
		chromedp.Focus(css(`#sql`)),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.WaitVisible(css(`#query-results .result-table`)))
	rows := get(t, ctx, "read the result table", chromedp.Evaluate[[][]string](tableJS(`#query-results .result-table`)))
	want := [][]string{{"name", "qty"}, {"apple", "3"}, {"pear", "5"}, {"fig", "NULL"}}
	if !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("result table = %q, want %q", rows, want)
	}
	summary := get(t, ctx, "read the summary", chromedp.Text(css(`#query-summary`)))
	if !strings.Contains(summary, "4 statements") || !strings.Contains(summary, "ms") {
		t.Errorf("summary %q lacks the statement count or timings", summary)
	}
	results := get(t, ctx, "read the results", chromedp.Text(css(`#query-results`)))
	if !strings.Contains(results, "3 rows affected") {
		t.Errorf("results lack the INSERT's rows affected: %q", results)
	}
	history := get(t, ctx, "read the history", chromedp.Evaluate[int](`document.querySelectorAll("#history li").length`))
	if history != 1 {
		t.Errorf("history holds %d entries, want 1", history)
	}
	shoot(t, ctx, shots, "2-query.png")
}

// consoleSQLError shows a failing statement's error inline.
func consoleSQLError(t *testing.T, ctx context.Context, shots string) {
	t.Helper()
	do(t, ctx, "run a failing statement",
		chromedp.SetValue(css(`#sql`), "SELECT * FROM no_such_table"),
		chromedp.Click(css(`#run`)),
		chromedp.WaitVisible(css(`#query-results .error`)))
	msg := get(t, ctx, "read the error", chromedp.Text(css(`#query-results .error`)))
	if !strings.Contains(msg, "no such table: no_such_table") {
		t.Errorf("error shown is %q", msg)
	}
	if get(t, ctx, "look for the copy buttons", chromedp.Evaluate[bool](`document.getElementById("copy-bar").offsetParent !== null`)) {
		t.Error("copy buttons shown without a result table")
	}
	shoot(t, ctx, shots, "3-query-error.png")
}

// consoleSchema browses the table made by consoleQuery.
func consoleSchema(t *testing.T, ctx context.Context, shots string) {
	t.Helper()
	fruit := css(`#tables button[data-table="fruit"]`)
	do(t, ctx, "list the tables",
		chromedp.Click(css(`#tab-schema`)),
		chromedp.WaitVisible(fruit))
	count := get(t, ctx, "read the row count", chromedp.Text(css(`#tables button[data-table="fruit"] .muted`)))
	if count != "3" {
		t.Errorf("row count shown for fruit is %q, want 3", count)
	}
	listed := get(t, ctx, "list table names", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#tables button")).map(b => b.dataset.table)`))
	if !slices.Equal(listed, []string{"fruit"}) {
		t.Errorf("tables listed %q, want only fruit (rdb's own bookkeeping hidden)", listed)
	}
	do(t, ctx, "open the table", chromedp.Click(fruit), chromedp.WaitVisible(css(`#table-detail .result-table`)))
	cols := get(t, ctx, "read the columns", chromedp.Evaluate[[][]string](tableJS(`#table-detail .result-table`)))
	var names []string
	for _, r := range cols[1:] {
		names = append(names, r[1])
	}
	if want := []string{"id", "name", "qty"}; !slices.Equal(names, want) {
		t.Errorf("columns shown %q, want %q", names, want)
	}
	data := get(t, ctx, "read the first rows", chromedp.Evaluate[[][]string](`(() => {
		const t = document.querySelectorAll("#table-detail .result-table");
		return Array.from(t[t.length - 1].querySelectorAll("tr")).map(r => Array.from(r.children).map(c => c.textContent));
	})()`))
	if len(data) != 4 || !slices.Equal(data[1], []string{"1", "apple", "3"}) {
		t.Errorf("first rows shown %q", data)
	}
	detail := get(t, ctx, "read the detail", chromedp.Text(css(`#table-detail`)))
	if !strings.Contains(detail, "fruit_name") {
		t.Errorf("index fruit_name not shown: %q", detail)
	}
	shoot(t, ctx, shots, "4-schema.png")
}

// consoleBackup downloads a backup through the page's link and returns
// the file's path.
func consoleBackup(t *testing.T, ctx context.Context, shots string) string {
	t.Helper()
	dir := t.TempDir()
	enabled := true
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &enabled,
	}); err != nil {
		t.Fatalf("allow downloads: %v", err)
	}
	do(t, ctx, "open the backup tab", chromedp.Click(css(`#tab-backup`)), chromedp.WaitVisible(css(`#backup-link`)))
	shoot(t, ctx, shots, "5-backup.png")

	wctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	progress := chromedp.BrowserEvents(wctx, browser.DownloadProgress)
	do(t, ctx, "click the download link", chromedp.Click(css(`#backup-link`)))
	var guid string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("backup download did not complete: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatalf("backup download cancelled")
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			guid = ev.GUID
			break
		}
	}
	path := filepath.Join(dir, guid)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "SQLite format 3\x00") || !strings.Contains(string(b), "CREATE TABLE fruit") {
		t.Errorf("downloaded backup (%d bytes) is not a SQLite file holding fruit", len(b))
	}
	t.Logf("downloaded backup: %d bytes", len(b))
	return path
}

// consoleRestore empties the table behind the page's back, then uploads
// the backup through the restore form and checks the rows are back.
func consoleRestore(t *testing.T, ctx context.Context, n *Node, backup string) {
	t.Helper()
	n.Execute("/db/execute", `["DELETE FROM fruit"]`)
	do(t, ctx, "restore the backup",
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.SetUploadFiles(css(`#restore-file`), []string{backup}),
		chromedp.Click(css(`#restore-run`)),
		chromedp.WaitVisible(css(`#restore-result .ok, #restore-result .error`)))
	msg := get(t, ctx, "read the restore result", chromedp.Text(css(`#restore-result`)))
	if !strings.HasPrefix(msg, "Restored ") {
		t.Fatalf("restore result: %q", msg)
	}
	if got := n.Query("SELECT COUNT(*) FROM fruit", "level=strong"); !strings.Contains(got, `"values":[[3]]`) {
		t.Errorf("after the restore: %s, want the 3 rows of the backup", got)
	}
}

// consolePhone checks the query tab fits a phone-sized screen.
func consolePhone(t *testing.T, ctx context.Context, shots string) {
	t.Helper()
	do(t, ctx, "show the query tab on a phone-sized screen",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)),
		chromedp.Click(css(`#tab-query`)),
		chromedp.SetValue(css(`#sql`), "SELECT name, qty FROM fruit"),
		chromedp.Click(css(`#run`)),
		chromedp.WaitVisible(css(`#query-results .result-table`)))
	overflow := get(t, ctx, "measure the page", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if overflow {
		t.Error("the page scrolls sideways on a 390px-wide screen")
	}
	shoot(t, ctx, shots, "6-query-phone.png")
}

func TestConsole_Browser_Auth(t *testing.T) {
	ctx := newBrowser(t)
	authFile := filepath.Join(t.TempDir(), "auth.json")
	users := `[{"username": "*", "perms": ["ready"]},
		{"username": "viewer", "password": "pw", "perms": ["ui", "status"]}]`
	if err := os.WriteFile(authFile, []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	n := StartNode(t, "-auth", authFile)
	prompt := answerAuth(t, ctx)

	// No credentials: the browser's Basic-auth prompt is dismissed, and
	// the page is the 401.
	if code := navigate(t, ctx, n.URL()+"/console/"); code != http.StatusUnauthorized {
		t.Errorf("console without credentials: status %d, want 401", code)
	}
	if got := prompt.asked.Load(); got == 0 {
		t.Error("the browser was never asked for credentials")
	}
	tabs := get(t, ctx, "count tabs", chromedp.Evaluate[int](`document.querySelectorAll('[role="tab"]').length`))
	if tabs != 0 {
		t.Errorf("the refused page shows %d console tabs", tabs)
	}

	// Credentials typed into the prompt: the console loads, and its own
	// API calls (same origin) reuse them.
	prompt.user.Store(&[2]string{"viewer", "pw"})
	if code := navigate(t, ctx, n.URL()+"/console/"); code != http.StatusOK {
		t.Errorf("console with credentials: status %d, want 200", code)
	}
	do(t, ctx, "wait for status", chromedp.WaitVisible(css(`#status-cards dd`)))
	cards := get(t, ctx, "read status with credentials", chromedp.Text(css(`#status-cards`)))
	if !strings.Contains(cards, n.ID()) {
		t.Errorf("status cards lack the node ID: %q", cards)
	}
}

// authPrompt plays the user at the browser's Basic-auth prompt: it
// cancels while user is nil, else types user[0] and user[1].
type authPrompt struct {
	user  atomic.Pointer[[2]string]
	asked atomic.Int32
}

// answerAuth intercepts the tab's requests so that its auth prompts come
// to the test (headless chromium shows none).
func answerAuth(t *testing.T, ctx context.Context) *authPrompt {
	t.Helper()
	p := &authPrompt{}
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	challenges := chromedp.Events(ctx, fetch.AuthRequired)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	}()
	go func() {
		for ev, err := range challenges {
			if err != nil {
				return
			}
			p.asked.Add(1)
			answer := &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseCancelAuth}
			if u := p.user.Load(); u != nil {
				answer = &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseProvideCredentials,
					Username: u[0], Password: u[1]}
			}
			chromedp.Call(ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: ev.RequestID, AuthChallengeResponse: answer})
		}
	}()
	handle := true
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{HandleAuthRequests: &handle}); err != nil {
		t.Fatalf("intercept requests: %v", err)
	}
	return p
}

// navigate loads url and returns the HTTP status of the document. A
// page whose status is an error with an empty body is a "load error" to
// chromium; the status is then read from the network events.
func navigate(t *testing.T, ctx context.Context, url string) int64 {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("enable network events: %v", err)
	}
	tctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	responses := chromedp.Events(tctx, network.ResponseReceived)
	if err := chromedp.Do(tctx, chromedp.Navigate(url)); err != nil && !strings.Contains(err.Error(), "ERR_HTTP_RESPONSE_CODE_FAILURE") {
		t.Fatalf("load %s: %v", url, err)
	}
	for ev, err := range responses {
		if err != nil {
			t.Fatalf("no response for %s: %v", url, err)
		}
		if ev.Type == network.ResourceTypeDocument && ev.Response.URL == url {
			return ev.Response.Status
		}
	}
	t.Fatalf("no response for %s", url)
	return 0
}
