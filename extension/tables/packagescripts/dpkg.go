package packagescripts

import (
	"bytes"
	"context"
	"fmt"
	"io"
	iofs "io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/dbcache"
	"github.com/pkgpersist/pkgpersist/extension/dpkgdb"
	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/scriptcalls"
	"github.com/pkgpersist/pkgpersist/extension/shellcmd"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// dpkgKinds are the control files dpkg keeps in its info directory that
// make code run, in the order dpkg runs them on an install.
var dpkgKinds = []string{"preinst", "config", "postinst", "prerm", "postrm", "triggers"}

// Dpkg lists the maintainer scripts and triggers files of dpkg's database
// in admindir: those of the packages of the status file, then the script
// files that no package of it names (orphans).
// The scripts are read once for every query of the run when ctx has a
// cache (dbcache), and are then shared: not to be changed.
func Dpkg(ctx context.Context, fs *fsroot.Root, admindir string) ([]Script, error) {
	admindir = path.Clean("/" + admindir)
	st := dpkgdb.ReadStatus(ctx, fs, admindir, func() error { return table.Check(ctx) })
	if st.OpenErr != nil && fs.Kind(admindir) == "" {
		return nil, nil // no dpkg database here
	}
	if st.ParseErr != nil {
		fs.Report(admindir+"/status", st.ParseErr)
	}
	return dbcache.Get(ctx, fs, "dpkg scripts "+admindir, func(r *dbcache.Reader) ([]Script, bool) {
		// the scripts are those of the packages of the status file read
		r.Depends(admindir+"/status", st.Info, st.OpenErr)
		out := dpkgScripts(ctx, r, admindir, st)
		// a script whose calls the deadline kept from being read is
		// not what the next query would read
		return out, st.Complete() && ctx.Err() == nil
	}), nil
}

// scriptFS is what scripts are read through: the root, or a
// dbcache.Reader noting what is read.
type scriptFS interface {
	OpenFile(name string) (*fsroot.File, error)
	Stat(name string) (iofs.FileInfo, error)
	ReadDir(name string) ([]string, error)
	Report(name string, err error) error
	ReportLimit(name, what string)
}

// dpkgScripts reads the scripts of the packages of st, the status file of
// admindir, and the orphans.
func dpkgScripts(ctx context.Context, fs scriptFS, admindir string, st dpkgdb.Status) []Script {
	info := admindir + "/info"
	var out []Script
	pkgs := st.Packages
	switch {
	case st.OpenErr != nil:
		// every script file is then an orphan: say why
		out = append(out, Script{Manager: "dpkg", Path: admindir + "/status", Reasons: []string{"dpkg's status file not read: " + st.OpenErr.Error()}})
	case st.ParseErr != nil:
		out = append(out, Script{Manager: "dpkg", Path: admindir + "/status", Reasons: []string{"dpkg's status file not read to the end: " + st.ParseErr.Error()}})
	}
	names, _ := fs.ReadDir(info)
	files := map[string]bool{}
	for _, n := range names {
		files[n] = true
	}
	known := map[string]bool{}
	for _, p := range pkgs {
		name := p.InfoName()
		known[name] = true
		for _, k := range dpkgKinds {
			if !files[name+"."+k] {
				continue
			}
			s := Script{Manager: "dpkg", Package: name, Version: p.Version, Arch: p.Arch, Kind: k, State: p.State, Installed: p.Present()}
			switch {
			case p.State == "config-files":
				s.note("removed but not purged (config-files): dpkg keeps the postrm to run it at purge")
			case !p.Present():
				s.note("dpkg's status has the package as " + orNone(p.State))
			default:
				if fi, err := fs.Stat(info + "/" + name + ".list"); err == nil {
					s.InstallTime = strconv.FormatInt(fi.ModTime().Unix(), 10)
				}
			}
			read(ctx, fs, info+"/"+name+"."+k, &s)
			out = append(out, s)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		stem, kind := splitKind(n)
		if kind == "" || known[stem] {
			continue
		}
		s := Script{Manager: "dpkg", Package: stem, Kind: kind}
		if pkg, arch, ok := strings.Cut(stem, ":"); ok {
			s.Arch = arch
			s.note("no package of dpkg's status has its files named " + stem + " (a " + pkg + " that is not Multi-Arch: same is named without :" + arch + ")")
		} else {
			s.note("no package of dpkg's status is named " + stem)
		}
		read(ctx, fs, info+"/"+n, &s)
		out = append(out, s)
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "no state"
	}
	return s
}

func splitKind(name string) (stem, kind string) {
	for _, k := range dpkgKinds {
		if strings.HasSuffix(name, "."+k) && len(name) > len(k)+1 {
			return name[:len(name)-len(k)-1], k
		}
	}
	return "", ""
}

// read fills the row from the file: its text (up to MaxBody), digest,
// line count, interpreter and calls. A file that cannot be read is still
// a row, with why (and a problem of the root).
func read(ctx context.Context, fs scriptFS, p string, s *Script) {
	s.Path = p
	f, err := fs.OpenFile(p)
	if err != nil {
		s.note("not read: " + err.Error())
		return
	}
	defer f.Close()
	s.Mtime = strconv.FormatInt(f.Info.ModTime().Unix(), 10)
	if s.Kind != "triggers" && f.Info.Mode()&0o111 == 0 {
		s.Flags = append(s.Flags, "not-executable")
	}
	err = takeBody(f, f.Info.Size(), s)
	if err != nil {
		fs.Report(p, err)
		s.note("not read to the end: " + err.Error())
	} else if d, ok := f.Digests(); ok {
		s.SHA256 = d.SHA256
	}
	noteCut(fs, p, "", s)
	if s.Kind == "triggers" {
		ds, terr, _ := dpkgdb.ParseTriggers(strings.NewReader(s.Body))
		s.Condition = dpkgdb.DirectiveLines(ds)
		if terr != nil {
			s.note("dpkg refuses this file at " + terr.Error() + " (it stops the package's next install, upgrade or removal)")
		}
		return
	}
	interp, flags := shebang(s.Body)
	s.Interpreter = interp
	s.Flags = append(s.Flags, flags...)
	calls(ctx, fs, p, s)
}

// takeBody reads r to the end into the row: its first MaxBody bytes as
// the body, the line count of all of it. size is what the file's size
// says, to size the buffer (a script is most often a few hundred bytes).
func takeBody(r io.Reader, size int64, s *Script) error {
	buf := make([]byte, min(max(size+1, 512), 32<<10))
	var body bytes.Buffer
	n, lines, last, err := copyCount(&body, r, buf, MaxBody)
	if err == nil {
		// the rest is counted (and hashed by the caller's reader), not kept
		rn, rl, rlast, rerr := copyCount(io.Discard, r, buf, -1)
		if rn > 0 {
			last = rlast
		}
		err = rerr
		n += rn
		lines += rl
		s.Truncated = rn > 0
	}
	if n > 0 && last != '\n' {
		lines++
	}
	s.Lines = lines
	s.Body = body.String()
	return err
}

// textBody fills the row from a script held whole in memory, as
// takeBody does from a file.
func textBody(text string, s *Script) {
	s.Body = text
	if len(text) > MaxBody {
		s.Body, s.Truncated = text[:MaxBody], true
	}
	s.Lines = strings.Count(text, "\n")
	if text != "" && text[len(text)-1] != '\n' {
		s.Lines++
	}
}

// noteCut records a body cut at MaxBody, on the row and as a limit
// problem of the file p it was read from (whose names the script within
// a file that holds many).
func noteCut(fs scriptFS, p, whose string, s *Script) {
	if !s.Truncated {
		return
	}
	fs.ReportLimit(p, fmt.Sprintf("%sbody cut at %d bytes; calls read from that part only", whose, MaxBody))
	s.note(fmt.Sprintf("body and calls are of the first %d bytes only", MaxBody))
}

// copyCount copies up to max bytes (all for -1) from r to w through buf,
// counting newlines; last is the last byte copied.
func copyCount(w io.Writer, r io.Reader, buf []byte, max int64) (n int64, lines int, last byte, err error) {
	for max < 0 || n < max {
		want := int64(len(buf))
		if max >= 0 && max-n < want {
			want = max - n
		}
		k, rerr := r.Read(buf[:want])
		if k > 0 {
			w.Write(buf[:k])
			lines += bytes.Count(buf[:k], []byte{'\n'})
			last = buf[k-1]
			n += int64(k)
		}
		if rerr == io.EOF {
			return n, lines, last, nil
		}
		if rerr != nil {
			return n, lines, last, rerr
		}
	}
	return n, lines, last, nil
}

// shebang is the interpreter the kernel runs the file with: the #! line's
// program and its one argument (binfmt_script), or /bin/sh, which dpkg's
// execvp falls back to for a file without one.
func shebang(body string) (string, []string) {
	if !strings.HasPrefix(body, "#!") {
		return "/bin/sh", []string{"no-shebang"}
	}
	line, _, _ := strings.Cut(body[2:], "\n")
	line = strings.Trim(line, " \t")
	prog, arg := line, ""
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		prog, arg = line[:i], strings.Trim(line[i:], " \t")
	}
	if arg != "" {
		return prog + " " + arg, nil
	}
	return prog, nil
}

// calls reads the script's calls in the language of its interpreter.
func calls(ctx context.Context, fs scriptFS, p string, s *Script) {
	prog, _, _ := strings.Cut(s.Interpreter, " ")
	var d shellcmd.Dialect
	switch path.Base(prog) {
	case "sh", "dash":
		d = shellcmd.Sh
	case "bash":
		d = shellcmd.Bash
	default:
		s.note("calls not read: pkgpersist reads shell scripts, this one runs with " + prog)
		return
	}
	if table.Check(ctx) != nil {
		s.note("calls not read: the table's time ran out")
		return
	}
	res := scriptcalls.Shell(s.Body, d)
	s.Calls = scriptcalls.Lines(res.Calls)
	if res.Cut != "" {
		fs.ReportLimit(p, res.Cut)
		s.note("calls cut: " + res.Cut)
	}
}
