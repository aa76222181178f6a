package installargv

import "strings"

// hasArg is whether an option takes a value, as getopt_long's has_arg.
type hasArg int

const (
	noArg       hasArg = iota
	requiredArg        // attached (--x=v, -xv) or the next argument
	optionalArg        // only attached (--x=v)
)

// getopt walks a command line the way pacman's (glibc getopt_long) and
// apk's parsers read it: options anywhere among the operands, clusters of
// short options, a short option's value attached or in the next argument,
// a long option's after "=" or in the next argument, any unambiguous
// prefix of a long name naming it, "-" an operand, "--" ending the
// options.
type getopt struct {
	long  map[string]hasArg
	short map[byte]hasArg
}

// match resolves a long option as written to its full name: the exact
// name, else the only name it is a prefix of.
func (g getopt) match(written string) (string, bool) {
	if _, ok := g.long[written]; ok {
		return written, true
	}
	found := ""
	for name := range g.long {
		if strings.HasPrefix(name, written) {
			if found != "" {
				return "", false // ambiguous
			}
			found = name
		}
	}
	return found, found != ""
}

// walk calls opt for each option (its full long name, or the short
// letter; its value; the argument it was written in) and operand for each
// operand, in order. It returns false where the program itself rejects
// the command line: an unknown or ambiguous option, a value missing or
// given to an option that takes none, or opt returning false.
func (g getopt) walk(args []string, opt func(name, value, token string) bool, operand func(string)) bool {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			for _, o := range args[i+1:] {
				operand(o)
			}
			return true
		case strings.HasPrefix(a, "--"):
			written, value, attached := strings.Cut(a[2:], "=")
			name, ok := g.match(written)
			if !ok {
				return false
			}
			switch g.long[name] {
			case noArg:
				if attached {
					return false
				}
			case requiredArg:
				if !attached {
					if i+1 == len(args) {
						return false
					}
					i++
					value = args[i]
				}
			}
			if !opt(name, value, a) {
				return false
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				has, known := g.short[a[j]]
				if !known {
					return false
				}
				value := ""
				if has == requiredArg {
					value = a[j+1:]
					if value == "" {
						if i+1 == len(args) {
							return false
						}
						i++
						value = args[i]
					}
				}
				if !opt(a[j:j+1], value, a) {
					return false
				}
				if has == requiredArg {
					break // the rest of the cluster was the value
				}
			}
		default:
			operand(a)
		}
	}
	return true
}
