package cli

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pkgpersist/pkgpersist/collector/clidoc"
	"github.com/pkgpersist/pkgpersist/collector/completion"
	"github.com/pkgpersist/pkgpersist/collector/manpage"
)

// definitions is the command line as clidoc reads it, from the app the
// running command belongs to.
func definitions(c *cli.Context) *clidoc.Command {
	return clidoc.FromApp(App(c.App.Writer, c.App.ErrWriter))
}

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash or zsh",
		ArgsUsage: strings.Join(completion.Shells, "|"),
		Description: `Prints a completion script for the shell named: pkgpersist's commands,
subcommands and flags, and file names for flags that take a FILE or DIR.
The packages install them; by hand:
  pkgpersist completion bash > /etc/bash_completion.d/pkgpersist
  pkgpersist completion zsh > "${fpath[1]}/_pkgpersist"`,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("pkgpersist completion", "name one shell: "+strings.Join(completion.Shells, " or "))
			}
			if err := completion.Write(c.App.Writer, c.Args().First(), definitions(c)); err != nil {
				return usageError("pkgpersist completion", err.Error())
			}
			return nil
		},
	}
}

// manCommand writes the man pages; make dist runs it for the packages.
func manCommand() *cli.Command {
	return &cli.Command{
		Name:   "man",
		Usage:  "write a man page for every command into a directory",
		Hidden: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Required: true, Usage: "`DIR` to write NAME.1 files into"},
		},
		Action: func(c *cli.Context) error {
			files, err := manpage.Write(c.String("out"), definitions(c), "pkgpersist "+Version)
			if err != nil {
				return &exitError{1, err}
			}
			fmt.Fprintf(c.App.ErrWriter, "pkgpersist: %d man pages in %s\n", len(files), c.String("out"))
			return nil
		},
	}
}
