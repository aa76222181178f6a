package pyscan

import (
	"reflect"
	"testing"
)

const sample = `# -*- coding: utf-8 -*-
"""Docstring with class Fake(dnf.Plugin): inside."""
from __future__ import absolute_import
import dnf, os as _os
import dnf.cli
from dnf import Plugin as P
from dnf.plugin import Plugin
import subprocess

NAME = 'from-constant'

open('/tmp/marker', 'w')  # module-level code runs at import

class One(dnf.Plugin):
    """One plugin."""
    name = 'one'
    config_name = "one-conf"

    def __init__(self, base, cli):
        super(One, self).__init__(base, cli)
        name = 'not-an-attribute'

class Two(P,
          object):
    name = ('two'
            'suffix')

class Three(Plugin, metaclass=type):
    name = NAME

class Indirect(One):
    name = 'indirect'

class Computed(dnf.Plugin):
    name = 'x' + 'y'

def helper():
    class Hidden(dnf.Plugin):
        name = 'hidden'

def pretrans_hook(conduit):
    s = r'raw \' string' ; t = b"bytes"
    u = f"{conduit}"
    return s

async def posttrans_hook(c): pass

if True:
    class Conditional(dnf.Plugin):
        name = 'conditional'

@dnf.plugin.register_command
class BuildDepCommand(dnf.cli.Command):
    aliases = ('builddep', 'build-dep')
`

func TestScan(t *testing.T) {
	m, err := Scan([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	type cls struct {
		name  string
		bases []string
		attr  string
		lit   bool
	}
	var got []cls
	for _, c := range m.Classes {
		a := c.Attrs["name"]
		got = append(got, cls{c.Name, c.Bases, a.Value, a.Literal})
	}
	want := []cls{
		{"One", []string{"dnf.Plugin"}, "one", true},
		{"Two", []string{"dnf.Plugin", "object"}, "twosuffix", true},
		{"Three", []string{"dnf.plugin.Plugin"}, "from-constant", true},
		{"Indirect", []string{"One"}, "indirect", true},
		{"Computed", []string{"dnf.Plugin"}, "'x' + 'y'", false},
		{"Conditional", []string{"dnf.Plugin"}, "conditional", true},
		{"BuildDepCommand", []string{"dnf.cli.Command"}, "", false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("classes:\n got %#v\nwant %#v", got, want)
	}
	last := m.Classes[len(m.Classes)-1]
	if !reflect.DeepEqual(last.Decorators, []string{"dnf.plugin.register_command"}) || !reflect.DeepEqual(last.Attrs["aliases"].Items, []string{"builddep", "build-dep"}) {
		t.Errorf("decorated class: %+v", last)
	}
	if m.Classes[0].Attrs["config_name"].Value != "one-conf" {
		t.Errorf("config_name: %+v", m.Classes[0].Attrs)
	}
	var fns []string
	for _, f := range m.Functions {
		fns = append(fns, f.Name)
	}
	if !reflect.DeepEqual(fns, []string{"helper", "pretrans_hook", "posttrans_hook"}) {
		t.Errorf("functions: %v", fns)
	}
	if m.Imports["_os"] != "os" || m.Imports["P"] != "dnf.Plugin" || m.Imports["dnf"] != "dnf" {
		t.Errorf("imports: %v", m.Imports)
	}
}

func TestScanErrors(t *testing.T) {
	for _, src := range []string{"x = 'unterminated\n", "x = '''never closed\n", "f(\n", "x = )\n"} {
		if _, err := Scan([]byte(src)); err == nil {
			t.Errorf("%q: no error", src)
		}
	}
}

func FuzzScan(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("class A(dnf.Plugin):\n  name='a'\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		m, err := Scan(src)
		if err == nil && m == nil {
			t.Fatal("nil module without error")
		}
	})
}
