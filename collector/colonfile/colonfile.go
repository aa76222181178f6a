// Package colonfile reads /etc/passwd and /etc/group style files: one
// record a line, fields separated by ':'. Lines that do not have the
// expected fields are skipped, as getpwent(3) skips them.
package colonfile

import "strings"

// Records returns the lines of data with exactly n fields; comment lines
// ('#') and NIS markers ('+', '-') are skipped.
func Records(data []byte, n int) [][]string {
	var out [][]string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != n {
			continue
		}
		out = append(out, f)
	}
	return out
}
