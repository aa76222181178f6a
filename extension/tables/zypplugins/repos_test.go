package zypplugins

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
)

// repoRows are the rows a repository or service names, by trigger.
func repoRows(t *testing.T, root string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, r := range rows(t, root) {
		if strings.HasPrefix(r["trigger"], "whenever repository") || strings.HasPrefix(r["trigger"], "whenever service") {
			out[r["trigger"]] = r
		}
	}
	return out
}

// TestRepoParseFailure: a repository file libzypp cannot parse throws out
// of its RepoManager and zypper stops (oracle: "Invalid path name
// component" for a CR), so no repository's resolver runs.
func TestRepoParseFailure(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"usr/lib/zypp/plugins/urlresolver/x": "#!/bin/sh\n",
		"etc/zypp/repos.d/a.repo":            "[a]\nbaseurl=plugin:x\n",
	})
	got := repoRows(t, root)
	if len(got) != 1 {
		t.Fatalf("%v", got)
	}
	for _, r := range got {
		if r["runs"] != "1" {
			t.Fatalf("before: %v", r)
		}
	}
	writeFiles(t, root, map[string]string{"etc/zypp/repos.d/b.repo": "[b]\nbaseurl=plugin:x\r\n"})
	for _, r := range repoRows(t, root) {
		if r["runs"] != "0" || !strings.Contains(r["reason"], "b.repo") {
			t.Errorf("after: %v", r)
		}
	}
}

// TestRepoDirs: zypp.conf's reposdir and servicesdir move the
// directories; a service's url= names a resolver too (oracle probe: a
// ris service with url=plugin:<name> ran it on refresh); a repository
// alias defined twice keeps the first file read; a FIFO is a problem,
// not a hang.
func TestRepoDirs(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"usr/lib/zypp/plugins/urlresolver/x": "#!/bin/sh\n",
		"etc/zypp/zypp.conf":                 "[main]\nreposdir = /srv/repos\nservicesdir=/srv/svc\n",
		"srv/repos/a.repo":                   "[a]\nbaseurl=plugin:x\n",
		"srv/repos/b.repo":                   "[a]\nbaseurl=plugin:x\n",
		"srv/svc/s":                          "[s]\nurl=plugin:x\n",
		"etc/zypp/repos.d/ignored.repo":      "[ignored]\nbaseurl=plugin:x\n",
	})
	if err := syscall.Mkfifo(filepath.Join(root, "srv/repos/fifo.repo"), 0o644); err != nil {
		t.Fatal(err)
	}
	ps := &fsroot.Problems{}
	rs, err := Rows(fsroot.WithProblems(context.Background(), ps), root)
	if err != nil {
		t.Fatal(err)
	}
	var runs, dups, svc int
	for _, r := range rs {
		switch {
		case strings.Contains(r["trigger"], "ignored"):
			t.Errorf("read outside reposdir: %v", r)
		case strings.HasPrefix(r["trigger"], "whenever service s (/srv/svc/s:2)"):
			svc++
		case strings.HasPrefix(r["trigger"], "whenever repository a") && r["runs"] == "1":
			runs++
		case strings.HasPrefix(r["trigger"], "whenever repository a") && strings.Contains(r["reason"], "read first"):
			dups++
		}
	}
	if runs != 1 || dups != 1 || svc != 1 {
		t.Errorf("runs %d, duplicates %d, service %d:\n%v", runs, dups, svc, rs)
	}
	found := false
	for _, p := range ps.List() {
		found = found || p.Path == "/srv/repos/fifo.repo"
	}
	if !found {
		t.Errorf("no problem for the FIFO: %v", ps.List())
	}
}
