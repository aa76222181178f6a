package cli

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// usageConventions makes every command below cmds (path is the command
// line up to them) answer a usage error alike: one line on stderr with a
// suggestion for a mistyped flag or subcommand and where help is, exit 2.
func usageConventions(path string, cmds []*cli.Command) {
	for _, c := range cmds {
		p := path + " " + c.Name
		c.OnUsageError = onUsageError(p)
		if len(c.Subcommands) > 0 {
			if c.Action == nil {
				c.Action = unknownCommand(p, c.Subcommands)
			}
			usageConventions(p, c.Subcommands)
		}
	}
}

func onUsageError(path string) cli.OnUsageErrorFunc {
	return func(c *cli.Context, err error, _ bool) error {
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
			name = strings.TrimLeft(name, "-")
			msg = "unknown flag --" + name
			var names []string
			for _, f := range c.Command.VisibleFlags() {
				names = append(names, f.Names()...)
			}
			if s := suggest(name, names); s != "" {
				msg += fmt.Sprintf(" (did you mean --%s?)", s)
			}
		}
		return usageError(path, msg)
	}
}

// unknownCommand is the action of a command that only has subcommands
// (the program itself among them): without arguments it shows its help,
// with an unknown one it is a usage error.
func unknownCommand(path string, cmds []*cli.Command) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() == 0 {
			return cli.ShowSubcommandHelp(c)
		}
		name := c.Args().First()
		var names []string
		for _, sc := range cmds {
			if !sc.Hidden {
				names = append(names, sc.Names()...)
			}
		}
		msg := fmt.Sprintf("unknown command %q", name)
		if s := suggest(name, names); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		return usageError(path, msg)
	}
}

// usageError is a one-line usage error pointing to the command's help.
func usageError(path, msg string) error {
	return &exitError{2, fmt.Errorf("%s; see %s --help", msg, path)}
}

// suggest is the name closest to typed, if it is close enough to be a
// typo: at most two edits apart (one for short names), or a prefix.
func suggest(typed string, names []string) string {
	best, bestD := "", 3
	if len(typed) <= 3 {
		bestD = 2
	}
	for _, n := range names {
		d := editDistance(typed, n)
		if strings.HasPrefix(n, typed) && len(typed) >= 3 {
			d = 1
		}
		if d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
