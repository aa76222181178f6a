package webreport

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/pkgpersist/pkgpersist/test/need"
)

// chromium runs headless Chromium on a page file with args (--dump-dom,
// --screenshot=…) and returns what it printed. As root Chromium needs
// --no-sandbox; in a container /dev/shm is small; a profile of its own
// keeps it off the user's.
func chromium(t testing.TB, page string, args ...string) []byte {
	t.Helper()
	return runChromium(t, need.Program(t, "chromium"), page, args...)
}

func runChromium(t testing.TB, bin, page string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--disable-extensions", "--disable-background-networking"}, args...)
	cmd := exec.CommandContext(ctx, bin, append(args, "file://"+page)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// writePage writes the fixture's page to a file.
func writePage(t testing.TB, dir string) string {
	t.Helper()
	st, o := fixture(t)
	path := filepath.Join(dir, "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := Write(context.Background(), f, st, o); err != nil {
		t.Fatal(err)
	}
	return path
}

// repoRoot is the directory holding go.mod, above the test's.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = up
	}
}

// TestChromium: the page as a real browser builds it. Chromium loads the
// fixture's page from a file (its script runs: the page's CSP allows it
// by nonce), and the DOM it dumps shows each host with its state and
// findings, each detection with its counts and first/last seen, a bar a
// day with new findings as high as its count, both stacks' rows, each
// finding's file, line, package and sha256, and every hostile value as
// its literal text with no element or handler made from it. Then a
// screenshot goes to build/report.png for the README.
func TestChromium(t *testing.T) {
	dir := t.TempDir()
	page := writePage(t, dir)
	dom, err := parseDOM(string(chromium(t, page, "--dump-dom", "--virtual-time-budget=2000")))
	if err != nil {
		t.Fatal(err)
	}
	// the document's title comes first (the chart's bars have titles too)
	if title := dom.all(byTag("title")); len(title) == 0 || title[0].textContent() != "pkgpersist report" {
		t.Fatalf("title %v: a hostile value ran", title)
	}

	t.Run("hosts", func(t *testing.T) {
		rows := dom.byID("hosts-table").all(byClass("host"))
		got := map[string]*node{}
		for _, r := range rows {
			got[r.attrs["data-host"]] = r
		}
		for host, state := range wantStates {
			r := got[host]
			if r == nil {
				t.Errorf("host %q not listed", host)
				continue
			}
			c := r.cells()
			if c[0] != host || c[3] != state || r.attrs["data-state"] != state {
				t.Errorf("host %q: cells %q, want state %s", host, c, state)
			}
			if hunted := state != stateLogging; hunted == (c[1] == "") || hunted != (c[2] == "") {
				t.Errorf("host %q: last hunt %q, last logged %q", host, c[1], c[2])
			}
			if f, ok := wantHostFindings[host]; ok && (c[4] != strconv.Itoa(f[0]) || c[5] != strconv.Itoa(f[1])) {
				t.Errorf("host %q: findings %s triaged %s, want %v", host, c[4], c[5], f)
			}
		}
		if c := got["web2"].cells(); c[6] != "1" || !strings.Contains(c[7], "50secret") {
			t.Errorf("web2's unread file and reason: %q", c)
		}
		if c := got["db1"].cells(); !strings.Contains(c[7], "Connection refused") {
			t.Errorf("db1's failure: %q", c)
		}
		if got["web1"].cells()[1] != stamp(day3) {
			t.Errorf("web1's last hunt %q, want %q", got["web1"].cells()[1], stamp(day3))
		}
	})

	t.Run("detections", func(t *testing.T) {
		got := map[string][]string{}
		for _, r := range dom.byID("detections-table").all(byClass("detection")) {
			got[r.attrs["data-detection"]] = r.cells()
		}
		for id, w := range wantDetections {
			c := got[id]
			if c == nil {
				t.Errorf("detection %s not listed", id)
				continue
			}
			if c[2] != strconv.Itoa(w[0]) || c[3] != strconv.Itoa(w[1]) || c[4] != strconv.Itoa(w[2]) || c[5] != strconv.Itoa(w[3]) {
				t.Errorf("%s: counts %q, want distinct %d, on hosts %d, hosts %d, triaged %d", id, c[2:6], w[0], w[1], w[2], w[3])
			}
		}
		if c := got["unowned-hooks"]; c[6] != stamp(day1) || c[7] != stamp(day3) {
			t.Errorf("unowned-hooks first/last seen %q %q, want %q %q", c[6], c[7], stamp(day1), stamp(day3))
		}
		if c := got["hook-runs-unowned"]; c[6] != stamp(day3) || c[7] != stamp(day3) {
			t.Errorf("hook-runs-unowned first/last seen %q %q", c[6], c[7])
		}
	})

	t.Run("chart", func(t *testing.T) {
		svg := dom.byID("timeline-chart")
		if svg == nil || svg.tag != "svg" {
			t.Fatal("no chart svg")
		}
		bars := svg.all(byClass("bar"))
		if len(bars) != len(wantDays) {
			t.Fatalf("%d bars, want %d", len(bars), len(wantDays))
		}
		top := 0
		for _, n := range wantDays {
			top = max(top, n)
		}
		for _, b := range bars {
			day, n := b.attrs["data-day"], wantDays[b.attrs["data-day"]]
			count, _ := strconv.Atoi(b.attrs["data-count"])
			h, err := strconv.ParseFloat(b.attrs["height"], 64)
			if err != nil || count != n || math.Abs(h-chartHeight*float64(n)/float64(top)) > 0.01 {
				t.Errorf("bar %s: count %d height %q, want %d and %g", day, count, b.attrs["height"], n, chartHeight*float64(n)/float64(top))
			}
			if y, _ := strconv.ParseFloat(b.attrs["y"], 64); math.Abs(y+h-(chartTop+chartHeight)) > 0.01 {
				t.Errorf("bar %s does not stand on the axis: y %g height %g", day, y, h)
			}
		}
	})

	t.Run("stacks", func(t *testing.T) {
		files, children := dom.byID("stack-files").all(byClass("stack")), dom.byID("stack-children").all(byClass("stack"))
		if len(files) != wantStackFiles || len(children) != wantStackChildren {
			t.Fatalf("stack rows: %d files, %d children; want %d, %d", len(files), len(children), wantStackFiles, wantStackChildren)
		}
		if c := files[len(files)-1].cells(); c[0] != "/usr/bin/python3" || c[1] != "/etc/apt/apt.conf.d/99evil" || c[2] != "20" || c[3] != "4" {
			t.Errorf("the most frequent file write: %q", c)
		}
	})

	t.Run("provenance", func(t *testing.T) {
		findings := dom.byID("findings-table").all(byClass("finding"))
		if len(findings) != 5 {
			t.Fatalf("%d findings listed, want 5", len(findings))
		}
		cell := func(r *node, class string) string {
			if c := r.all(byClass(class)); len(c) == 1 {
				return strings.TrimSpace(c[0].textContent())
			}
			return "<missing>"
		}
		var changed, hostile *node
		for _, r := range findings {
			switch cell(r, "prov-file") {
			case "/etc/apt/apt.conf.d/20listchanges":
				changed = r
			case hostilePath:
				hostile = r
			}
		}
		if changed == nil || cell(changed, "prov-line") != "2" || cell(changed, "prov-package") != "apt-listchanges" ||
			cell(changed, "prov-sha256") != "9f2c4e1d0b8a7c6e5f4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a21" {
			t.Errorf("hook-runs-unowned's provenance not shown")
		}
		if hostile == nil || cell(hostile, "prov-line") != "12" || !strings.Contains(hostile.textContent(), hostileCommand) {
			t.Errorf("the hostile finding's literal values not shown")
		}
		if hostile != nil && cell(hostile, "prov-package") != `evil\u202egpj.sh\u200b\u2028\x07` {
			t.Errorf("the bidi and invisible characters shown as %q, want them escaped", cell(hostile, "prov-package"))
		}
		triaged := 0
		for _, r := range findings {
			if t := cell(r, "triage"); strings.Contains(t, "ticket 42") || strings.Contains(t, "default") {
				triaged++
			}
		}
		if triaged != 2 {
			t.Errorf("%d findings shown triaged, want 2 (dbrow, docker-clean)", triaged)
		}
	})

	t.Run("hostile", func(t *testing.T) {
		// the page's own elements only: no image, no svg but the chart,
		// no handler attribute, the page's one script
		if imgs := dom.all(byTag("img")); len(imgs) != 0 {
			t.Errorf("%d img elements made from values", len(imgs))
		}
		if svgs := dom.all(byTag("svg")); len(svgs) != 1 {
			t.Errorf("%d svg elements, want the chart's", len(svgs))
		}
		if scripts := dom.all(byTag("script")); len(scripts) != 1 {
			t.Errorf("%d script elements, want the page's", len(scripts))
		}
		for _, n := range dom.all(func(n *node) bool { return true }) {
			for a := range n.attrs {
				if strings.HasPrefix(a, "on") {
					t.Errorf("<%s %s=%q>", n.tag, a, n.attrs[a])
				}
			}
		}
		text := dom.textContent()
		for _, v := range []string{hostileCommand, hostilePath, hostileHost} {
			if !strings.Contains(text, v) {
				t.Errorf("%q not shown as text", v)
			}
		}
		// nothing that reorders or hides text reaches the page's text
		for _, r := range text {
			if r != '\n' && r != '\t' && (unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029) {
				t.Errorf("the page's text holds %U", r)
			}
		}
	})

	t.Run("script", func(t *testing.T) {
		// the inline script ran: it shows the filter boxes it drives
		for _, in := range dom.all(byClass("filter")) {
			if _, hidden := in.attrs["hidden"]; hidden {
				t.Errorf("filter %s still hidden: the script did not run", in.attrs["data-filter"])
			}
		}
	})

	shot := filepath.Join(repoRoot(t), "build", "report.png")
	if err := os.MkdirAll(filepath.Dir(shot), 0o755); err != nil {
		t.Fatal(err)
	}
	chromium(t, page, "--screenshot="+shot, "--window-size=1280,2000", "--hide-scrollbars")
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10000 {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
}
