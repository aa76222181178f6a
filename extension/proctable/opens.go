package proctable

import "github.com/pkgpersist/pkgpersist/extension/fanotify"

// Opened records a file process e.PID opened for execution. Give every
// open read before applying the process events read before it: the
// kernel opens an exec's files before it sends the exec event.
func (t *Table) Opened(e fanotify.Exec) { t.opens.add(e) }

// Chain is what one exec ran, from the files the kernel opened for it.
type Chain struct {
	// Path is the executable, as /proc/PID/exe names it after the exec.
	Path string
	// Script is the file execve was given when it is not the executable
	// (a `#!` script, a binfmt_misc file); "" for a program.
	Script string
}

// NextChain splits the opens of one exec off the front of a process's
// opens, in the order the kernel made them. An exec opens the file it was
// given; when that is a script (or a binfmt_misc file), its interpreter,
// and so on until an ELF program; and when that program names an ELF
// interpreter (PT_INTERP), the interpreter, which the kernel maps and
// starts but which /proc/PID/exe does not name. So: the files before the
// first ELF one are the script and its script interpreters, the first
// ELF file is the executable, and an ELF file without an interpreter
// right after an ELF file with one is that one's interpreter. A static
// program, or an ELF interpreter run as the program, is the executable
// alone.
//
// The kernel's queue merges an open into an identical one (same file,
// same process) still queued: a process that execs again and again (sh
// -c 'exec ...') reports its ELF interpreter once, after its first
// program. The rule holds for that, as the next program is ELF with an
// interpreter, except when the next program is static: it is then taken
// for the interpreter, and the exec after has no opens (its path is
// /proc's, "" when gone). An exec that failed after opening its file (a
// file of no known format) leaves opens without an exec: before a later
// exec's, they read as its script. Opens without an ELF file make a
// chain with no path.
func NextChain(opens []fanotify.Exec) (c Chain, rest []fanotify.Exec) {
	i := 0
	for i < len(opens) && opens[i].Kind != fanotify.Dynamic && opens[i].Kind != fanotify.Static {
		i++
	}
	if i > 0 {
		c.Script = opens[0].Path
	}
	if i == len(opens) {
		return c, nil
	}
	c.Path = opens[i].Path
	if opens[i].Kind == fanotify.Dynamic && i+1 < len(opens) && opens[i+1].Kind == fanotify.Static {
		i++
	}
	return c, opens[i+1:]
}

// Bounds of the opens kept: a process that opens files for execution
// and never execs (each exec that fails after its open) keeps its last
// maxOpensPerPID; the processes with opens not taken by an exec or an exit
// (both lost) are forgotten a generation of maxOpenPIDs later.
const (
	maxOpensPerPID = 16
	maxOpenPIDs    = 8192
)

// opens are the files opened for execution by each process since its
// last exec, in two generations: cur takes new processes, and when it is
// full it becomes old and the old one is dropped.
type opens struct {
	cur, old map[int][]fanotify.Exec
}

func newOpens() opens {
	return opens{cur: map[int][]fanotify.Exec{}, old: map[int][]fanotify.Exec{}}
}

func (o *opens) add(e fanotify.Exec) {
	l := o.pop(e.PID)
	if len(l) == maxOpensPerPID {
		l = append(l[:0], l[1:]...)
	}
	o.cur[e.PID] = append(l, e)
	if len(o.cur) >= maxOpenPIDs {
		o.old, o.cur = o.cur, map[int][]fanotify.Exec{}
	}
}

// pop removes and returns a process's opens.
func (o *opens) pop(pid int) []fanotify.Exec {
	l, ok := o.cur[pid]
	if !ok {
		l = o.old[pid]
	}
	o.drop(pid)
	return l
}

func (o *opens) drop(pid int) {
	delete(o.cur, pid)
	delete(o.old, pid)
}

// take returns the chain of a process's next exec and keeps what follows
// it (opens of a later exec, read before that exec's event). An exec that
// failed after its opens (a program whose ELF interpreter is missing, of
// another architecture, a file of no known format) left a chain that
// ends before an ELF interpreter or static program: when /proc named the
// executable (exe, "" when the process is gone) and such a chain does not
// name it, it is passed over for the next, which would otherwise be taken
// for this exec, and this one for the next. A complete chain that does
// not name /proc's executable is this exec's still: the process has
// exec'd again since (sh -c 'exec ...'), /proc shows the later program.
func (o *opens) take(pid int, exe string) Chain {
	l := o.pop(pid)
	c, rest := NextChain(l)
	for exe != "" && c.Path != exe && len(rest) > 0 && cut(l, rest) {
		l = rest
		c, rest = NextChain(l)
	}
	if len(rest) > 0 {
		o.cur[pid] = rest
	}
	return c
}

// cut is whether the chain taken from l, leaving rest, was cut short:
// it does not end with an ELF interpreter or a static program.
func cut(l, rest []fanotify.Exec) bool {
	return l[len(l)-len(rest)-1].Kind != fanotify.Static
}
