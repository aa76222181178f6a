// Package cronline reads one line of a crontab as osquery's crontab table
// does (osquery/tables/system/posix/crontab.cpp, cronFromFile and
// genCronLine): the line trimmed, comments and blank lines skipped, the
// rest split on spaces and tabs into five time fields and a command, or an
// @event and a command. It follows osquery, not cron: it does not know the
// user field of system crontabs (it stays at the start of the command),
// environment lines with a command-length tail look like jobs, and runs of
// blanks inside the command come back as one space.
//
// Crontab lines are untrusted input; Parse never panics and allocates in
// proportion to the line.
package cronline

import "strings"

// Entry is one job line. Fields osquery leaves unset are "" (osquery's
// virtual table reads a missing column as an empty string, see the
// crontab table's package doc).
type Entry struct {
	Event      string // "@reboot", "@daily"…: any first word starting with @
	Minute     string
	Hour       string
	DayOfMonth string
	Month      string
	DayOfWeek  string
	Command    string
}

// spaces are std::isspace in the C locale, which boost::trim uses: bytes
// from 0x80 up are not spaces.
const spaces = " \t\n\v\f\r"

// Trim is boost::algorithm::trim in the C locale.
func Trim(s string) string { return strings.Trim(s, spaces) }

// Split is osquery::split(s, delims): split at every byte of delims, drop
// the empty pieces, then trim each piece (in that order, so a piece of
// only \v, \f or \r survives as "").
func Split(s, delims string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && strings.IndexByte(delims, s[i]) < 0 {
			continue
		}
		if i > start {
			out = append(out, Trim(s[start:i]))
		}
		start = i + 1
	}
	return out
}

// Parse reads one line of a crontab file (without its newline). It returns
// false for a line osquery makes no row of: blank, a comment (# after
// leading blanks), or one with no command word (an environment setting
// such as SHELL=/bin/sh, or a short line).
func Parse(line string) (Entry, bool) {
	line = Trim(line)
	if line == "" || line[0] == '#' {
		return Entry{}, false
	}
	var e Entry
	fields := [...]*string{&e.Minute, &e.Hour, &e.DayOfMonth, &e.Month, &e.DayOfWeek}
	var cmd strings.Builder
	index := 0
	for i, w := range Split(line, " \t") {
		switch {
		case i == 0 && w[0] == '@':
			// the line is trimmed, so the first word is never empty
			e.Event = w
			index = 5
			continue
		case index < 5:
			*fields[index] = w
		case index > 5:
			cmd.WriteByte(' ')
			fallthrough
		default:
			cmd.WriteString(w)
		}
		index++
	}
	if e.Command = cmd.String(); e.Command == "" {
		return Entry{}, false
	}
	return e, true
}
