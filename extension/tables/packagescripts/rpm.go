package packagescripts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/rpmdb"
	"github.com/pkgpersist/pkgpersist/extension/scriptcalls"
	"github.com/pkgpersist/pkgpersist/extension/shellcmd"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// RPM lists the scriptlets of every package of the root's rpm database,
// whichever format rpmdb finds it in, in rpm's order of the packages and,
// within one, in the order rpm -q --scripts, --triggers and
// --filetriggers print them (rpmdb.Header.Scriptlets). A damaged header
// is a problem of the root that rpm skips too; a database that cannot be
// read, or not to the end, is a problem and a row saying so.
func RPM(ctx context.Context, fs *fsroot.Root) []Script {
	db := rpmdb.Cached(ctx, ctx, fs)
	defer db.Close()
	var out []Script
	pkgs, err := db.Summaries()
	for _, p := range pkgs {
		if cerr := table.Check(ctx); cerr != nil {
			err = cerr
			break
		}
		for _, sl := range p.Scriptlets {
			out = append(out, rpmScript(ctx, fs, db.Path(), p, sl))
		}
	}
	switch {
	case err == nil, errors.Is(err, rpmdb.ErrNoDatabase):
	case table.Check(ctx) != nil:
		fs.Report(db.Path(), err)
		out = append(out, Script{Manager: "rpm", Path: db.Path(), Reasons: []string{"rpm database not read to the end: the table's time ran out"}})
	default:
		// rpmdb recorded the problem
		out = append(out, Script{Manager: "rpm", Path: db.Path(), Reasons: []string{"rpm database not read to the end: " + err.Error()}})
	}
	return out
}

// rpmScript is the row of one scriptlet of package p, read from the
// database file dbPath.
func rpmScript(ctx context.Context, fs *fsroot.Root, dbPath string, p rpmdb.Summary, sl rpmdb.Scriptlet) Script {
	s := Script{Manager: "rpm", Package: p.Name, Version: p.EVR, Arch: p.Arch, Kind: sl.Kind,
		Condition: strings.Join(sl.Conditions, "\n"), Flags: sl.FlagNames(), Installed: true, Reasons: sl.Damage}
	if p.HasInstallTime {
		s.InstallTime = strconv.FormatInt(p.InstallTime, 10)
	}
	if sl.HasPriority {
		s.Priority = strconv.FormatUint(uint64(sl.Priority), 10)
	}
	argv := sl.Interpreter()
	s.Interpreter = strings.Join(argv, " ")
	if sl.HasBody {
		textBody(sl.Body, &s)
		sum := sha256.Sum256([]byte(sl.Body))
		s.SHA256 = hex.EncodeToString(sum[:])
		noteCut(fs, dbPath, p.Name+" "+sl.Kind+": ", &s)
	}
	switch {
	case argv == nil:
		s.note("calls not read: rpm does not run it")
		return s
	case sl.Flags&(rpmdb.ScriptExpand|rpmdb.ScriptQFormat) != 0:
		s.note("rpm expands the body's macros (expand) or query-format tags (qformat) before it runs it: body and calls are of the recorded text")
	}
	if !sl.HasBody {
		progCalls(argv, &s)
		return s
	}
	calls(ctx, fs, dbPath, &s)
	return s
}

// progCalls reads the calls of a scriptlet without a body: rpm then runs
// its interpreter with the given arguments and nothing else.
func progCalls(argv []string, s *Script) {
	s.note("no script text: rpm runs the interpreter by itself")
	if argv[0] == "<lua>" {
		return
	}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	s.Calls = scriptcalls.Lines(scriptcalls.Shell(strings.Join(quoted, " "), shellcmd.Sh).Calls)
}
