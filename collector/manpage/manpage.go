// Package manpage writes a man page (roff, section 1) for the program and
// each of its commands and subcommands, from their definitions (clidoc).
// The release builds leave out urfave/cli's own man page generation (tag
// urfave_cli_no_docs), and it writes one page for the whole program.
package manpage

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pkgpersist/pkgpersist/collector/clidoc"
)

// Page is one man page.
type Page struct {
	Name string // pkgpersist-report-html: the file is Name.1
	Text string
}

// Pages are the pages of root and every command below it; source is the
// footer's source (pkgpersist VERSION).
func Pages(root *clidoc.Command, source string) []Page {
	var pages []Page
	root.Walk(func(c *clidoc.Command) {
		pages = append(pages, Page{Name: c.Name(), Text: render(root, c, source)})
	})
	return pages
}

// Write writes every page into dir as NAME.1 and returns the files.
func Write(dir string, root *clidoc.Command, source string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for _, p := range Pages(root, source) {
		f := filepath.Join(dir, p.Name+".1")
		if err := os.WriteFile(f, []byte(p.Text), 0o644); err != nil {
			return nil, fmt.Errorf("man page %s: %w", p.Name, err)
		}
		files = append(files, f)
	}
	return files, nil
}

// exitPara finds the paragraph of a description that states the exit
// status: it goes under EXIT STATUS instead.
var exitPara = regexp.MustCompile(`(?i)^exit status:?\s*`)

func render(root, c *clidoc.Command, source string) string {
	var b strings.Builder
	line := func(s string) { b.WriteString(s + "\n") }
	line(fmt.Sprintf(`.TH %s 1 "" %s "pkgpersist manual"`, quote(strings.ToUpper(c.Name())), quote(source)))
	// no hyphenation: option names and paths stay whole
	line(".nh")
	line(".SH NAME")
	line(text(c.Name()) + ` \- ` + text(c.Usage))

	line(".SH SYNOPSIS")
	syn := `.B ` + quote(c.Line())
	line(syn)
	var rest []string
	if len(c.Subcommands) > 0 {
		rest = append(rest, `\fICOMMAND\fR`)
	}
	if len(c.Flags) > 0 {
		rest = append(rest, `[\fIOPTIONS\fR]`)
	}
	if c.ArgsUsage != "" {
		rest = append(rest, text(c.ArgsUsage))
	}
	if len(rest) > 0 {
		line(strings.Join(rest, " "))
	}

	paras, exit := paragraphs(c.Description)
	line(".SH DESCRIPTION")
	if len(paras) == 0 {
		paras = [][]string{{c.Usage}}
	}
	body(&b, paras)

	if len(c.Subcommands) > 0 {
		line(".SH COMMANDS")
		for _, s := range c.Subcommands {
			line(".TP")
			line(`.B ` + quote(s.Path[len(s.Path)-1]))
			line(text(s.Usage) + ` (see \fB` + text(s.Name()) + `\fR(1))`)
		}
	}

	if len(c.Flags) > 0 {
		line(".SH OPTIONS")
		for _, f := range c.Flags {
			line(".TP")
			var names []string
			for _, n := range f.Dashed() {
				names = append(names, `\fB`+text(n)+`\fR`)
			}
			head := strings.Join(names, ", ")
			if f.TakesValue {
				head += ` \fI` + text(f.Placeholder) + `\fR`
			}
			line(head)
			u := text(f.Usage)
			if f.Required {
				u += " (required)"
			} else if f.Default != "" {
				u += " (default: " + text(f.Default) + ")"
			}
			line(u)
		}
	}

	if len(exit) > 0 {
		line(".SH EXIT STATUS")
		body(&b, exit)
	}

	var see []string
	if len(c.Path) > 1 {
		see = append(see, strings.Join(c.Path[:len(c.Path)-1], "-"))
	}
	for _, s := range c.Subcommands {
		see = append(see, s.Name())
	}
	if c != root && len(c.Path) > 2 {
		see = append(see, root.Name())
	}
	if len(see) > 0 {
		line(".SH SEE ALSO")
		for i, s := range see {
			sep := ","
			if i == len(see)-1 {
				sep = ""
			}
			line(`.BR ` + quote(s) + ` (1)` + sep)
		}
	}
	return b.String()
}

// paragraphs splits a description at blank lines, the exit status
// paragraph (and any after it that continue it) apart.
func paragraphs(desc string) (paras, exit [][]string) {
	var cur []string
	inExit := false
	flush := func() {
		if len(cur) == 0 {
			return
		}
		if exitPara.MatchString(cur[0]) {
			inExit = true
			cur[0] = exitPara.ReplaceAllString(cur[0], "")
		}
		if inExit {
			exit = append(exit, cur)
		} else {
			paras = append(paras, cur)
		}
		cur = nil
	}
	for _, l := range strings.Split(strings.TrimSpace(desc), "\n") {
		if strings.TrimSpace(l) == "" {
			flush()
			inExit = false
			continue
		}
		cur = append(cur, strings.TrimRight(l, " \t"))
	}
	flush()
	return paras, exit
}

// body writes paragraphs: runs of plain lines are filled text; runs of
// indented lines (examples, lists laid out in columns) are kept as they
// are, indented.
func body(b *strings.Builder, paras [][]string) {
	for _, p := range paras {
		b.WriteString(".PP\n")
		for i := 0; i < len(p); {
			j := i
			indented := strings.HasPrefix(p[i], " ") || strings.HasPrefix(p[i], "\t")
			for j < len(p) && (strings.HasPrefix(p[j], " ") || strings.HasPrefix(p[j], "\t")) == indented {
				j++
			}
			if indented {
				b.WriteString(".RS 2\n.nf\n")
				for _, l := range p[i:j] {
					b.WriteString(text(strings.TrimPrefix(strings.TrimPrefix(l, "  "), "\t")) + "\n")
				}
				b.WriteString(".fi\n.RE\n")
			} else {
				for _, l := range p[i:j] {
					b.WriteString(text(strings.TrimSpace(l)) + "\n")
				}
			}
			i = j
		}
	}
}

// text escapes s for a line of roff text: a backslash is roff's escape
// character (\e prints it), every hyphen is a minus sign so that options
// can be copied from the page (\-), and a line must not start with a
// control character (. or '), which \& in front of it disarms.
func text(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// quote makes s one argument of a request: escaped as text, within double
// quotes, a double quote inside doubled ("" is groff's and mandoc's way).
func quote(s string) string {
	return `"` + strings.ReplaceAll(text(s), `"`, `""`) + `"`
}
