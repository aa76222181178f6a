package hooktargets

import (
	"context"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/canonpath"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/provenance"
	"github.com/pkgpersist/pkgpersist/extension/shellcmd"
)

const (
	// maxShebang is Linux's bound on #! interpreters nested
	// (BINPRM_MAX_RECURSION).
	maxShebang = 4
	// shebangBuf is how much of a file the kernel reads for its #! line
	// (BINPRM_BUF_SIZE).
	shebangBuf = 256
	// maxDirPrograms bounds the programs listed from one directory that
	// APT runs programs from (Dir::Bin::methods and the like).
	maxDirPrograms = 256
)

// target is one row before its provenance is filled in.
type target struct {
	x        shellcmd.Exec
	path     string // as executed, inside the root
	resolved string // after symlinks
	exists   bool   // a regular file
	reason   string
	// cands are the names a package database may list the file under
	// (the file reached, the name it was reached by, their aliases
	// through top-level directory links such as /bin -> usr/bin).
	cands []string
	prov  provenance.Of
	owner string // the package that lists a missing file
}

func (t *target) note(s string) {
	switch {
	case s == "":
	case t.reason == "":
		t.reason = s
	default:
		t.reason += "; " + s
	}
}

type resolver struct {
	ctx   context.Context // bounds the reading of targets
	fs    *fsroot.Root
	prov  *provenance.Source
	names *canonpath.Resolver
	sh    *shellcmd.Dialect
	facts map[string]facts // by resolved path
}

// facts are an existing target's provenance, and what kept it from being
// read whole.
type facts struct {
	of   provenance.Of
	note string
}

func newResolver(ctx context.Context, root *fsroot.Root) *resolver {
	return &resolver{ctx: ctx, fs: root, prov: provenance.Cached(ctx, root), names: canonpath.New(root), facts: map[string]facts{}}
}

func (r *resolver) close() { r.prov.Close() }

// shDialect is what the root's /bin/sh is: bash on Fedora and RHEL, dash
// on Debian.
func (r *resolver) shDialect() shellcmd.Dialect {
	if r.sh == nil {
		d := shellcmd.Sh
		if c := r.names.Chain("/bin/sh"); c.Kind == "file" && strings.HasPrefix(path.Base(c.Canonical), "bash") {
			d = shellcmd.Bash
		}
		r.sh = &d
	}
	return *r.sh
}

// resolve finds the files of one program; depth counts #! levels; dirs
// is true for a setting whose directory APT runs the programs of
// (Dir::Bin::methods): the other package managers skip a directory.
func (r *resolver) resolve(x shellcmd.Exec, depth int, dirs bool) []target {
	t := target{x: x, reason: x.Reason}
	switch x.Lookup {
	case shellcmd.LookupAbsolute:
		r.file(&t, path.Join("/", x.Root, x.Word))
	case shellcmd.LookupRelative, shellcmd.LookupScript:
		switch {
		case path.IsAbs(x.Word):
			r.file(&t, path.Join("/", x.Root, x.Word))
		case x.Dir != "":
			r.file(&t, path.Join("/", x.Root, x.Dir, x.Word))
		default:
			t.note("relative to the working directory, which the package manager does not fix")
		}
	case shellcmd.LookupPath:
		r.lookPath(&t)
	default:
		return []target{t}
	}
	out := []target{t}
	if dirs && !t.exists && t.resolved != "" && r.fs.Kind(t.resolved) == "dir" && x.How == shellcmd.HowDirect {
		out = append(out, r.dirPrograms(t)...)
	}
	if t.exists && depth < maxShebang && runsFile(x.How) {
		out = append(out, r.shebang(t, depth)...)
	}
	return out
}

// runsFile reports the ways of running a program in which the kernel
// executes the file (and so reads its #! line); a script given to an
// interpreter or sourced is read, not executed.
func runsFile(how string) bool {
	switch how {
	case shellcmd.HowScript, shellcmd.HowSource, HowModule:
		return false
	}
	return true
}

// file fills in what p is.
func (r *resolver) file(t *target, p string) {
	t.path = p
	c := r.names.Chain(p)
	t.resolved = c.Canonical
	t.cands = uniq(append(append([]string{c.Canonical, c.LastHop, p}, r.names.Aliases(c.Canonical)...), r.names.Aliases(c.LastHop)...))
	switch {
	case c.Err != nil:
		t.note("cannot be followed: " + c.Err.Error())
	case c.Kind == "":
		t.note("does not exist in the root")
	case c.Kind == "file":
		t.exists = true
		t.cands = uniq(append(append([]string{c.Canonical, c.LastHop}, r.names.Aliases(c.Canonical)...), r.names.Aliases(c.LastHop)...))
		if f, err := r.fs.Describe(c.Canonical, nil); err == nil && !executable(f.Mode) && runsFile(t.x.How) {
			t.note("not executable (mode " + f.Mode + "): executing it fails")
		}
	case c.Kind == "dir":
		t.note("is a directory: cannot be executed")
	default:
		t.note("is a " + kindName(c.Kind) + ": cannot be executed")
	}
}

func kindName(k string) string {
	if k == "fifo" {
		return "named pipe"
	}
	return k
}

func executable(mode string) bool {
	m, err := strconv.ParseUint(mode, 8, 32)
	return err == nil && m&0o111 != 0
}

// lookPath searches the PATH the program is looked up on, as dash and
// bash do: the first regular file with an execute bit.
func (r *resolver) lookPath(t *target) {
	x := t.x
	var found, shadowed, notExec string
	var unknown, cands []string
	for _, d := range strings.Split(x.PATH, ":") {
		switch {
		case strings.Contains(d, "$") || strings.Contains(d, "`"):
			unknown = append(unknown, d)
			continue
		case d == "" || !path.IsAbs(d):
			if x.Dir == "" {
				unknown = append(unknown, d)
				continue
			}
			d = path.Join(x.Dir, d)
		}
		cand := path.Join("/", x.Root, d, x.Word)
		cands = append(cands, cand)
		if r.fs.Kind(cand) != "file" {
			continue
		}
		f, err := r.fs.Describe(cand, nil)
		if err != nil || !executable(f.Mode) {
			if notExec == "" {
				notExec = cand
			}
			continue
		}
		switch {
		case found == "":
			found = cand
		case shadowed == "" && r.names.Chain(cand).Canonical != r.names.Chain(found).Canonical:
			// the same file through /bin -> usr/bin is no second one
			shadowed = cand
		}
	}
	if len(unknown) > 0 {
		t.note("PATH has entries only known at run time (" + strings.Join(unknown, ":") + ")")
	}
	if found != "" {
		r.file(t, found)
		if shadowed != "" {
			t.note("first on PATH; shadows " + shadowed)
		}
		return
	}
	t.note("not found on PATH " + x.PATH)
	if notExec != "" {
		t.note(notExec + " exists but is not executable")
	}
	// the package that would put it there, found after Prefetch
	t.cands = cands
}

// dirPrograms lists the programs of a directory APT runs programs from.
func (r *resolver) dirPrograms(t target) []target {
	names, _ := r.fs.ReadDir(t.resolved)
	sort.Strings(names)
	var out []target
	for i, n := range names {
		if i >= maxDirPrograms {
			r.fs.ReportLimit(t.resolved, "more than "+strconv.Itoa(maxDirPrograms)+" programs in the directory; the rest are not listed")
			break
		}
		x := t.x
		x.Word, x.Lookup, x.Reason = path.Join(t.resolved, n), shellcmd.LookupAbsolute, ""
		x.Via = append(append([]string(nil), t.x.Via...), t.x.Word)
		out = append(out, r.resolve(x, maxShebang, false)...)
	}
	return out
}

// shebang follows the interpreter a target's #! line names (Linux
// binfmt_script: the interpreter, then at most one argument, the rest of
// the line with surrounding blanks removed).
func (r *resolver) shebang(t target, depth int) []target {
	f, err := r.fs.OpenFile(t.resolved)
	if err != nil {
		return nil
	}
	buf := make([]byte, shebangBuf)
	n, _ := io.ReadFull(f, buf)
	f.Close()
	line := string(buf[:n])
	if !strings.HasPrefix(line, "#!") {
		return nil
	}
	line = line[2:]
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	line = strings.Trim(line, " \t")
	interp, arg, _ := strings.Cut(line, " ")
	if i := strings.IndexByte(interp, '\t'); i >= 0 {
		interp, arg = interp[:i], interp[i+1:]+" "+arg
	}
	if interp == "" {
		return nil
	}
	argv := []string{interp}
	if arg = strings.Trim(arg, " \t"); arg != "" {
		argv = append(argv, arg)
	}
	via := append(append([]string(nil), t.x.Via...), t.path)
	res := shellcmd.Argv(argv, HowShebang, shellcmd.Options{Sh: r.shDialect(), PATH: t.x.PATH, Via: via})
	var out []target
	for _, x := range res.Execs {
		if x.How == HowShebang && !path.IsAbs(x.Word) && x.Lookup != shellcmd.LookupDynamic {
			// the kernel does not search PATH for the interpreter
			x.Lookup = shellcmd.LookupRelative
		}
		out = append(out, r.resolve(x, depth+1, false)...)
	}
	return out
}

// fill adds the provenance of every target, reading the package
// databases once for all of them.
func (r *resolver) fill(ts []target) {
	var all []string
	for _, t := range ts {
		all = append(all, t.cands...)
	}
	r.prov.Prefetch(all)
	for i := range ts {
		t := &ts[i]
		if !t.exists {
			for _, c := range t.cands {
				if pkg := r.prov.Owner(c); pkg != "" {
					t.owner = pkg
					if t.path == "" {
						t.path = c
						t.note(pkg + " lists " + c)
					}
					break
				}
			}
			if !t.exists && t.resolved != "" && r.fs.Kind(t.resolved) != "" {
				if f, err := r.fs.Describe(t.resolved, nil); err == nil {
					t.prov = provenance.Of{Found: true, Facts: f}
					t.prov.Package = t.owner
				}
			}
			continue
		}
		f := r.regular(t)
		t.prov = f.of
		t.note(f.note)
	}
}

// digests streams a target for its checksums, in the time given for
// reading (nil when it cannot be read to the end: the root records why).
func (r *resolver) digests(name string) *fsroot.Digests {
	f, err := r.fs.OpenFile(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	if f.DrainContext(r.ctx) != nil {
		return nil
	}
	d, ok := f.Digests()
	if !ok {
		return nil
	}
	return &d
}

// regular is the provenance of an existing target: its facts, and the
// first of its names a package lists (the file reached, then the name it
// was reached by, then their aliases).
func (r *resolver) regular(t *target) facts {
	if f, ok := r.facts[t.resolved]; ok {
		return f
	}
	var f facts
	d := r.digests(t.resolved)
	if d == nil {
		f.note = "not read to the end: its contents are unknown"
		fd, _ := r.fs.Describe(t.resolved, nil)
		f.of = provenance.Of{Found: true, Facts: fd}
		for _, c := range t.cands {
			if pkg := r.prov.Owner(c); pkg != "" {
				f.of.Package = pkg
				break
			}
		}
	} else {
		f.of = r.prov.File(t.resolved, d)
		for _, c := range t.cands {
			if f.of.Package != "" {
				break
			}
			if co := r.prov.File(c, d); co.Package != "" {
				f.of.Package, f.of.Modified = co.Package, co.Modified
			}
		}
	}
	r.facts[t.resolved] = f
	return f
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
