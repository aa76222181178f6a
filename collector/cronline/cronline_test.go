package cronline

import (
	"reflect"
	"strings"
	"testing"
)

// Line numbers are of osquery/tables/system/posix/crontab.cpp at commit
// 35973ec4 (the table's last change).
func TestParse(t *testing.T) {
	cases := []struct {
		line string
		want Entry
		ok   bool
	}{
		// 47-55: blank and comment lines, after trimming, make no row
		{"", Entry{}, false},
		{" \t\r", Entry{}, false},
		{"# 0 * * * * comment", Entry{}, false},
		{"\t  # indented comment", Entry{}, false},
		// 79-89: five fields and a command
		{"0 * * * * /bin/job", Entry{Minute: "0", Hour: "*", DayOfMonth: "*", Month: "*", DayOfWeek: "*", Command: "/bin/job"}, true},
		// 67: split on spaces and tabs; 90-93: the command's words joined by one space
		{"17 *\t* * *\troot\tcd /  &&  run-parts", Entry{Minute: "17", Hour: "*", DayOfMonth: "*", Month: "*", DayOfWeek: "*", Command: "root cd / && run-parts"}, true},
		// 73-77: a first word starting with @ is the event; the next word starts the command
		{"@reboot root /bin/x -y", Entry{Event: "@reboot", Command: "root /bin/x -y"}, true},
		{"@anything x", Entry{Event: "@anything", Command: "x"}, true},
		{"@", Entry{}, false},
		{"@reboot", Entry{}, false},
		// 97-100: no command word, no row (environment lines, short lines)
		{"SHELL=/bin/sh", Entry{}, false},
		{"MAILTO = root", Entry{}, false},
		{"0 4 * * *", Entry{}, false},
		// ... but an environment line of six words or more is a job to osquery
		{"A = b c d e f", Entry{Minute: "A", Hour: "=", DayOfMonth: "b", Month: "c", DayOfWeek: "d", Command: "e f"}, true},
		// 52: the line is trimmed with boost::trim (\r of CRLF files, \v, \f)
		{"\v1 2 3 4 5 cmd\r", Entry{Minute: "1", Hour: "2", DayOfMonth: "3", Month: "4", DayOfWeek: "5", Command: "cmd"}, true},
		// split.cpp: empty pieces are dropped before each is trimmed, so a
		// piece of only \v is an empty field, and an empty command word
		// still counts when more words follow
		{"1 \v 3 4 5 cmd", Entry{Minute: "1", DayOfMonth: "3", Month: "4", DayOfWeek: "5", Command: "cmd"}, true},
		{"1 2 3 4 5 \v x", Entry{Minute: "1", Hour: "2", DayOfMonth: "3", Month: "4", DayOfWeek: "5", Command: " x"}, true},
		{"1 2 3 4 5 a \f b", Entry{Minute: "1", Hour: "2", DayOfMonth: "3", Month: "4", DayOfWeek: "5", Command: "a  b"}, true},
		// bytes from 0x80 up are not spaces in the C locale
		{"1 2 3 4 5 \xa0x\x85", Entry{Minute: "1", Hour: "2", DayOfMonth: "3", Month: "4", DayOfWeek: "5", Command: "\xa0x\x85"}, true},
		// a # later in the line is part of it
		{"1 2 3 4 5 echo #x", Entry{Minute: "1", Hour: "2", DayOfMonth: "3", Month: "4", DayOfWeek: "5", Command: "echo #x"}, true},
	}
	for _, c := range cases {
		got, ok := Parse(c.line)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, %v", c.line, got, ok, c.want, c.ok)
		}
	}
}

func TestSplit(t *testing.T) {
	cases := map[string][]string{
		"":          nil,
		"  ":        nil,
		"a  b\tc ":  {"a", "b", "c"},
		"a \v\r b":  {"a", "", "b"},
		"\va\f b\n": {"a", "b"},
	}
	for in, want := range cases {
		if got := Split(in, " \t"); !reflect.DeepEqual(got, want) {
			t.Errorf("Split(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParse: no line makes Parse panic, and every row keeps osquery's
// shape: words without blanks, an event only with no time fields, a
// command that is the line's tail.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"0 * * * * /bin/job", "@reboot root x", "SHELL=/bin/sh", "# c", "1 \v 3 4 5 cmd\r",
		"17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly", "@", "\x00 \xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		e, ok := Parse(line)
		if !ok {
			if e != (Entry{}) {
				t.Fatalf("no row but fields: %+v", e)
			}
			return
		}
		if e.Command == "" || strings.ContainsAny(e.Command, "\t") {
			t.Fatalf("command %q", e.Command)
		}
		for _, w := range []string{e.Event, e.Minute, e.Hour, e.DayOfMonth, e.Month, e.DayOfWeek} {
			if strings.ContainsAny(w, " \t") || w != Trim(w) {
				t.Fatalf("field %q of %+v", w, e)
			}
		}
		if e.Event != "" && (e.Event[0] != '@' || e.Minute+e.Hour+e.DayOfMonth+e.Month+e.DayOfWeek != "") {
			t.Fatalf("event row %+v", e)
		}
		if e.Event == "" && e.Minute == "" {
			t.Fatalf("no first field: %+v", e)
		}
		// the command is made of the line's last words, in order
		if last := Split(Trim(line), " \t"); strings.Join(last[len(last)-len(strings.Split(e.Command, " ")):], " ") != e.Command {
			t.Fatalf("command %q is not the tail of %q", e.Command, line)
		}
	})
}
