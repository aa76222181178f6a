package packagescripts

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/table"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// scriptlet is what the rpm oracle compares of one scriptlet: the
// package (name, EVR, arch, install time), kind, interpreter, conditions
// as rpm prints them (joined by ", "), text, and the priority and flags
// rpm's aliases do not print, which the query format adds.
type scriptlet struct {
	Pkg, Kind, Interp, Cond, Body, Prio, Flags string
}

func (s scriptlet) String() string {
	return fmt.Sprintf("%s %s (using %s) -- %s [prio %s flags %s]\n%q", s.Pkg, s.Kind, s.Interp, s.Cond, s.Prio, s.Flags, s.Body)
}

// rpmQuery is rpm -qa with the --scripts, --triggers and --filetriggers
// aliases, whose query formats rpm concatenates (lib/poptQV.c), after a
// marker line per package (\x01) and lines of the flags and priorities
// of its trigger scripts (\x02).
var rpmQuery = []string{"-qa", "--qf",
	"\x01%{NAME}\t%{EVR}\t%{ARCH}\t%{INSTALLTIME}\t" +
		"%{PRETRANSFLAGS}\t%{PREINFLAGS}\t%{POSTINFLAGS}\t%{PREUNFLAGS}\t%{POSTUNFLAGS}\t%{POSTTRANSFLAGS}\t%{VERIFYSCRIPTFLAGS}\n" +
		"[\x02trigger flags %{TRIGGERSCRIPTFLAGS}\n][\x02filetrigger flags %{FILETRIGGERSCRIPTFLAGS}\n][\x02filetrigger prio %{FILETRIGGERPRIORITIES}\n]" +
		"[\x02transfiletrigger flags %{TRANSFILETRIGGERSCRIPTFLAGS}\n][\x02transfiletrigger prio %{TRANSFILETRIGGERPRIORITIES}\n]",
	"--scripts", "--triggers", "--filetriggers"}

// plainLabels are rpm's words for the plain scriptlets in --scripts, in
// its order, with the table's kind and the place of its flags in the
// marker line.
var plainLabels = map[string]struct {
	kind string
	flag int
}{
	"pretrans": {"pretrans", 4}, "preinstall": {"pre", 5}, "postinstall": {"post", 6}, "preuninstall": {"preun", 7},
	"postuninstall": {"postun", 8}, "posttrans": {"posttrans", 9}, "verify": {"verifyscript", 10},
}

// scriptHeader is a header line of rpm's --scripts, --triggers and
// --filetriggers output (rpmpopt's aliases).
var scriptHeader = regexp.MustCompile(`(?m)^(?:(pretrans|preinstall|postinstall|preuninstall|postuninstall|posttrans|verify) (?:scriptlet(?: \(using (.*)\))?:|program: (.*))` +
	`|(trigger|filetrigger|transfiletrigger)(prein|in|un|postun|) scriptlet \(using (.*)\) -- (.*))$`)

// rpmScriptlets is rpm's own list of the scriptlets of a database; args
// say where it is (--root, --dbpath, --define).
func rpmScriptlets(t testing.TB, args ...string) []scriptlet {
	t.Helper()
	cmd := exec.Command(need.Program(t, "rpm"), append(args, rpmQuery...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rpm %q: %v", args, err)
	}
	var all []scriptlet
	for _, block := range strings.Split(string(out), "\x01")[1:] {
		marker, rest, _ := strings.Cut(block, "\n")
		f := strings.Split(marker, "\t")
		if len(f) != 11 {
			t.Fatalf("rpm's marker line %q", marker)
		}
		if f[2] == "(none)" {
			f[2] = ""
		}
		pkg := strings.Join(f[:4], " ")
		arrays := map[string][]string{}
		for strings.HasPrefix(rest, "\x02") {
			var line string
			line, rest, _ = strings.Cut(rest[1:], "\n")
			set, what, _ := strings.Cut(line, " ")
			what, v, _ := strings.Cut(what, " ")
			arrays[set+" "+what] = append(arrays[set+" "+what], v)
		}
		seen := map[string]int{}
		locs := scriptHeader.FindAllStringSubmatchIndex(rest, -1)
		for i, loc := range locs {
			end := len(rest)
			if i+1 < len(locs) {
				end = locs[i+1][0]
			}
			sub := func(g int) string {
				if loc[2*g] < 0 {
					return ""
				}
				return rest[loc[2*g]:loc[2*g+1]]
			}
			// rpm prints the text and a newline after the header line
			body := strings.TrimSuffix(rest[min(loc[1]+1, end):end], "\n")
			s := scriptlet{Pkg: pkg}
			if label := sub(1); label != "" {
				p := plainLabels[label]
				s.Kind, s.Interp, s.Body, s.Flags = p.kind, sub(2), body, flagNames(f[p.flag])
				if prog := sub(3); prog != "" {
					s.Interp, s.Body = prog, ""
				} else if s.Interp == "" {
					s.Interp = "/bin/sh" // no interpreter recorded: rpm runs /bin/sh
				}
			} else {
				set := sub(4)
				n := seen[set]
				seen[set]++
				s.Kind, s.Interp, s.Cond, s.Body = set+sub(5), sub(6), sub(7), body
				if fl := arrays[set+" flags"]; n < len(fl) {
					s.Flags = flagNames(fl[n])
				}
				if p := arrays[set+" prio"]; n < len(p) {
					s.Prio = p[n]
				}
			}
			all = append(all, s)
		}
	}
	return all
}

// flagNames are RPMSCRIPT_FLAG_* bits by name (lib/rpmscript.h).
func flagNames(v string) string {
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return "" // (none)
	}
	var out []string
	for bit, name := range []string{"expand", "qformat", "critical"} {
		if n&(1<<bit) != 0 {
			out = append(out, name)
			n &^= 1 << bit
		}
	}
	if n != 0 {
		out = append(out, fmt.Sprintf("0x%x", n))
	}
	return strings.Join(out, ",")
}

// tableScriptlets are the rpm rows in the oracle's terms.
func tableScriptlets(rows []table.Row) []scriptlet {
	var out []scriptlet
	for _, r := range rows {
		if r["manager"] != "rpm" {
			continue
		}
		out = append(out, scriptlet{Pkg: strings.Join([]string{r["package"], r["version"], r["arch"], r["install_time"]}, " "),
			Kind: r["script"], Interp: r["interpreter"], Cond: strings.ReplaceAll(r["condition"], "\n", ", "),
			Body: r["body"], Prio: r["priority"], Flags: r["flags"]})
	}
	return out
}

// compareScriptlets checks the table's rpm rows against rpm's list, in
// order, and returns how many agree.
func compareScriptlets(t testing.TB, rows []table.Row, want []scriptlet) int {
	t.Helper()
	got := tableScriptlets(rows)
	for i := 0; i < len(got) && i < len(want); i++ {
		if got[i] != want[i] {
			t.Fatalf("scriptlet %d:\n table %s\n rpm   %s", i, got[i], want[i])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d scriptlets, rpm lists %d", len(got), len(want))
	}
	return len(got)
}
