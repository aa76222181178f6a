package clidoc

import (
	"reflect"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestFromApp: commands and flags as the app defines them, hidden ones
// left out, the flags urfave/cli adds (help, version) in.
func TestFromApp(t *testing.T) {
	root := FromApp(&cli.App{Name: "p", Version: "1", Commands: []*cli.Command{
		{Name: "a", Aliases: []string{"x"}, Subcommands: []*cli.Command{{Name: "b", HideHelp: true}}, Flags: []cli.Flag{
			&cli.StringFlag{Name: "db", Value: "p.db", Usage: "the `FILE` to use"},
			&cli.StringFlag{Name: "root", Usage: "a `DIR`"},
			&cli.IntFlag{Name: "n", Usage: "count", Required: true},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "say less"},
			&cli.StringFlag{Name: "secret", Hidden: true},
		}},
		{Name: "hidden", Hidden: true},
	}})
	var lines []string
	root.Walk(func(c *Command) { lines = append(lines, c.Line()+"|"+c.Name()) })
	if want := []string{"p|p", "p a|p-a", "p a b|p-a-b"}; !reflect.DeepEqual(lines, want) {
		t.Errorf("commands %q, want %q", lines, want)
	}
	a := root.Subcommands[0]
	want := []Flag{
		{Names: []string{"db"}, Placeholder: "FILE", Usage: "the FILE to use", TakesValue: true, Default: `"p.db"`},
		{Names: []string{"root"}, Placeholder: "DIR", Usage: "a DIR", TakesValue: true},
		{Names: []string{"n"}, Placeholder: "VALUE", Usage: "count", TakesValue: true, Default: "0", Required: true},
		{Names: []string{"quiet", "q"}, Usage: "say less"},
		{Names: []string{"help", "h"}, Usage: "show help"},
	}
	if !reflect.DeepEqual(a.Flags, want) {
		t.Errorf("flags\n got %+v\nwant %+v", a.Flags, want)
	}
	if got := a.Flags[3].Dashed(); !reflect.DeepEqual(got, []string{"--quiet", "-q"}) {
		t.Errorf("dashed %q", got)
	}
	if f, d := a.Flags[0].TakesPath(); !f || d {
		t.Errorf("FILE: file %v dir %v", f, d)
	}
	if f, d := a.Flags[1].TakesPath(); f || !d {
		t.Errorf("DIR: file %v dir %v", f, d)
	}
	if len(root.Flags) != 2 || root.Flags[0].Names[0] != "version" || len(a.Subcommands[0].Flags) != 0 {
		t.Errorf("program flags %+v, b's %+v", root.Flags, a.Subcommands[0].Flags)
	}
}
