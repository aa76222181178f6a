package shellcmd_test

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/shellcmd"
	"github.com/pkgpersist/pkgpersist/test/need"
)

// TestOracleSyntaxRandom: on random strings of shell tokens, Parse refuses
// exactly what `dash -n` and `bash -n` refuse. One bash quirk is left
// out: after `[[ ]]` bash -n reports nothing, yet bash runs nothing from
// there on (`bash -c '[[ ]] x; echo after'` prints nothing), which is what
// Parse's error means.
func TestOracleSyntaxRandom(t *testing.T) {
	need.Program(t, "dash")
	need.Program(t, "bash")
	toks := []string{"a", "/bin/x", "'q w'", `"d $e"`, "$(b)", "`c`", "${z}", ";", "&", "&&", "||", "|", "(", ")",
		"{", "}", "<", ">", ">>", "<<E", "2>&1", "if", "then", "else", "elif", "fi", "for", "in", "do", "done", "case",
		"esac", "while", "until", "!", "\n", ";;", "f()", "x=1", "#c", "\\", "$((1))", "[[", "]]", "function", "<(",
		"&>", "|&"}
	rng := rand.New(rand.NewSource(1))
	for n := 0; n < 1500; n++ {
		var parts []string
		for i := rng.Intn(7) + 1; i > 0; i-- {
			parts = append(parts, toks[rng.Intn(len(toks))])
		}
		src := strings.Join(parts, " ")
		for _, d := range []shellcmd.Dialect{shellcmd.Sh, shellcmd.Bash} {
			if d == shellcmd.Bash && strings.Contains(src, "[[ ]]") {
				continue
			}
			refused, why := refuses(d.String(), src)
			if d == shellcmd.Sh {
				refused, why = refuses("dash", src)
			}
			if p := shellcmd.Parse(src, d); (p.Err != nil) != refused {
				t.Errorf("%s -n %q: shell says %q, Parse error %v", d, src, why, p.Err)
			}
		}
	}
}
