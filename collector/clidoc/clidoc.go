// Package clidoc reads a urfave/cli command line into one plain model, the
// one source of its man pages (collector/manpage) and shell completion
// (collector/completion): what a page or a completion says of a command is
// what the command itself defines.
package clidoc

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// Command is the program or one of its (sub)commands, hidden ones left out.
type Command struct {
	// Path is the command line up to and including it: ["pkgpersist",
	// "report", "html"].
	Path        []string
	Aliases     []string
	Usage       string // one line
	ArgsUsage   string // what follows the flags, e.g. "SQL"
	Description string
	Flags       []Flag
	Subcommands []*Command
}

// Name is the page name of the command: its path joined by hyphens
// (pkgpersist-report-html).
func (c *Command) Name() string { return strings.Join(c.Path, "-") }

// Line is the command as typed (pkgpersist report html).
func (c *Command) Line() string { return strings.Join(c.Path, " ") }

// Walk calls fn for c and every command below it, parents first.
func (c *Command) Walk(fn func(*Command)) {
	fn(c)
	for _, s := range c.Subcommands {
		s.Walk(fn)
	}
}

// Flag is one flag of a command.
type Flag struct {
	Names []string // without dashes, the long name first
	// Placeholder names the value a flag takes (the back-quoted word of
	// its usage: FILE, DIR, ADDR); "" for a flag that takes none or whose
	// usage names none (then VALUE).
	Placeholder string
	Usage       string // back-quotes removed
	TakesValue  bool
	Default     string // "" when none worth saying
	Required    bool
}

// Dashed is the flag's names as typed: --name, -n.
func (f Flag) Dashed() []string {
	var d []string
	for _, n := range f.Names {
		if len(n) == 1 {
			d = append(d, "-"+n)
		} else {
			d = append(d, "--"+n)
		}
	}
	return d
}

// TakesPath says whether the flag's value is a file or directory name,
// for completion: a FILE or DIR placeholder.
func (f Flag) TakesPath() (file, dir bool) {
	return f.Placeholder == "FILE" || strings.HasSuffix(f.Placeholder, "_FILE"), f.Placeholder == "DIR"
}

// FromApp reads the program and every visible command below it.
func FromApp(app *cli.App) *Command {
	fl := app.Flags
	// the flags urfave/cli adds when the app runs
	if app.Version != "" && !app.HideVersion {
		fl = append(fl, cli.VersionFlag)
	}
	if !app.HideHelp {
		fl = append(fl, cli.HelpFlag)
	}
	root := &Command{Path: []string{app.Name}, Usage: app.Usage, ArgsUsage: app.ArgsUsage,
		Description: app.Description, Flags: flags(fl)}
	root.Subcommands = commands(root.Path, app.Commands)
	return root
}

func commands(parent []string, cmds []*cli.Command) []*Command {
	var out []*Command
	for _, c := range cmds {
		if c.Hidden {
			continue
		}
		path := append(append([]string(nil), parent...), c.Name)
		fl := c.Flags
		if !c.HideHelp {
			fl = append(fl, cli.HelpFlag)
		}
		d := &Command{Path: path, Aliases: c.Aliases, Usage: c.Usage, ArgsUsage: c.ArgsUsage,
			Description: c.Description, Flags: flags(fl)}
		d.Subcommands = commands(path, c.Subcommands)
		out = append(out, d)
	}
	return out
}

func flags(fs []cli.Flag) []Flag {
	var out []Flag
	for _, f := range fs {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		d := Flag{Names: f.Names()}
		if g, ok := f.(cli.DocGenerationFlag); ok {
			d.Placeholder, d.Usage = unquote(g.GetUsage())
			d.TakesValue = g.TakesValue()
			if d.TakesValue {
				d.Default = g.GetDefaultText()
				if d.Placeholder == "" {
					d.Placeholder = "VALUE"
				}
			}
		}
		if r, ok := f.(cli.RequiredFlag); ok {
			d.Required = r.IsRequired()
		}
		out = append(out, d)
	}
	return out
}

// unquote takes the first back-quoted word out of a usage, as urfave/cli's
// help does: it is the placeholder of the flag's value.
func unquote(usage string) (placeholder, text string) {
	i := strings.IndexByte(usage, '`')
	if i < 0 {
		return "", usage
	}
	j := strings.IndexByte(usage[i+1:], '`')
	if j < 0 {
		return "", usage
	}
	name := usage[i+1 : i+1+j]
	return name, usage[:i] + name + usage[i+2+j:]
}
