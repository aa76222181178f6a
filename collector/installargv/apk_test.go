package installargv

import (
	"strings"
	"testing"
)

// TestApk: apk is not installed here, so each case cites the apk-tools
// source that decides it (src/apk.c parse_options and option tables,
// src/app_add.c; v2.14.10 and v3.0.6).
func TestApk(t *testing.T) {
	for cmd, want := range map[string]bool{
		"apk add x.apk":                        true, // app_add.c: a target containing ".apk" is read as a package file
		"apk add ./pkgs/x-1.0-r0.apk":          true,
		"apk add --allow-untrusted /tmp/x.apk": true,
		"apk --root /mnt add x.apk":            true, // root is APK_OPT_ARG: /mnt is its value
		"apk -p /mnt -X https://r add x.apk":   true,
		"apk -pX add x.apk":                    true, // -p takes the rest of its cluster as its value
		"apk x.apk add":                        true, // the applet is the first operand naming one; the others are targets
		"apk add -t .virt x.apk":               true, // --virtual takes a value
		"apk add --no-simulate x.apk":          true, // APK_OPT_BOOL simulate: its --no- form
		"apk add -s --no-simulate x.apk":       true, // the last one wins
		"apk add --force-overwrite -U x.apk":   true,
		"apk add --allow x.apk":                true,  // a unique prefix names the option (opt_match)
		"apk add -s x.apk":                     false, // COMMIT_OPTIONS: -s/--simulate
		"apk add --simulate x.apk":             false,
		"apk add --sim x.apk":                  false,
		"apk add x.apk --simulate":             false, // options anywhere
		"apk add -h x.apk":                     false, // help: usage and exit
		"apk -V add x.apk":                     false,
		"apk --print-arch add x.apk":           false,
		"apk add curl":                         false, // a name from the repositories, not a file
		"apk del x.apk":                        false,
		"apk info add x.apk":                   false, // the applet is info
		"apk fetch x.apk":                      false,
		"apk add --bogus x.apk":                false, // apk 3: unrecognized option
		"apk add --no x.apk":                   false, // ambiguous
		"apk add --root":                       false, // expects an argument
		"apk add --initdb=1 x.apk":             false, // takes none
		"apk -- add x.apk":                     true,  // operands after "--"
		"apk add -- -s x.apk":                  true,
		"apk --repository add x.apk":           false, // "add" is the repository: no applet
	} {
		in, ok := Classify(strings.Fields(cmd))
		if ok != want || ok && (in.Form != "add" || in.Tool != "apk" || in.Rule) {
			t.Errorf("%s: %+v %t, want install=%t", cmd, in, ok, want)
		}
	}
}
