// Package zypprepo reads libzypp's repository files (/etc/zypp/repos.d/
// *.repo) the way libzypp 17.25.7 does: zypp/parser/IniParser.cc for the
// lines, zypp/parser/RepoFileReader.cc for the multi-line URL keys, and
// zypp/Url.cc and zypp/url/UrlBase.cc for what makes a URL throw. An
// exception there stops libzypp's RepoManager, so an Error fails every
// repository, not only the file's.
package zypprepo

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/lines"
)

// MaxURLs bounds the URLs and keys kept from one file: a padded file
// cannot make the reader hold more.
const MaxURLs = 100000

// Repo is one section of a file: one repository, named by its alias.
type Repo struct {
	Alias string
	// Line is the first line that names the section ([alias] or, for
	// keys before any header, the first key).
	Line int
	// Enabled follows `enabled=` (str::strToTrue of its last value), true
	// when the key is absent (RepoInfoBase::enabled, indeterminate is true).
	Enabled bool
	URLs    []URL
	// Keys are the section's other keys, the last value of each.
	Keys map[string]string
}

// URL is one URL of a repository.
type URL struct {
	// Key is baseurl, mirrorlist, metalink or gpgkey (url for a service).
	Key, Raw string
	Line     int
	// Scheme is the URL's scheme in lower case; Path its path name,
	// percent-decoded (Url::getPathName), "" for none.
	Scheme, Path string
	// PathErr is set when decoding the path throws (a %00): libzypp fails
	// only when it uses the URL.
	PathErr string
}

// Error is what makes libzypp throw while reading the file.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// keyGarbage are the characters that make a line before its '=' garbage
// (IniParser.cc l. 36).
const keyGarbage = ":/?|,\\"

// urlKeys are the keys whose values are URL lists that go on over the
// following garbage lines (RepoFileReader.cc l. 45–98).
var urlKeys = map[string]bool{"baseurl": true, "gpgkey": true, "mirrorlist": true, "metalink": true}

// section gathers a section while the file is read: libzypp keeps the
// sections in an std::map (IniDict), the URL lists in maps of their own.
type section struct {
	line    int
	known   bool // a header or a non-URL key made IniDict remember it
	enabled string
	hasEn   bool
	urls    []URL
	svcURL  string
	svcLine int
	keys    map[string]string
}

// Parse reads a repository file. The repositories come in alias order,
// as IniDict's std::map yields them; a section that only URL keys set
// is not a repository (IniDict never hears of it). limited is true when
// MaxURLs was reached: the URLs past it are not kept.
func Parse(r *lines.Reader) (repos []Repo, limited bool, err error) {
	return parse(r, false)
}

// ParseServices reads a service file (/etc/zypp/services.d/*) as
// zypp/parser/ServiceFileReader.cc does: a plain IniDict, no multi-line
// keys; the last non-empty `url=` of a section is its one URL, parsed
// once the file is read (l. 67–68). A Repo stands for each service.
func ParseServices(r *lines.Reader) ([]Repo, error) {
	repos, _, err := parse(r, true)
	return repos, err
}

func parse(r *lines.Reader, services bool) (repos []Repo, limited bool, err error) {
	secs := map[string]*section{}
	cur, multi := "", ""
	nurls := 0
	get := func(name string, line int) *section {
		s := secs[name]
		if s == nil {
			s = &section{line: line}
			secs[name] = s
		}
		return s
	}
	store := func(key, text string, line int) error {
		s := get(cur, line)
		for _, w := range splitURLs(text) {
			u, err := parseURL(key, w, line)
			if err != nil {
				return err
			}
			if nurls++; nurls > MaxURLs {
				limited = true
				continue
			}
			s.urls = append(s.urls, u)
		}
		return nil
	}
	for {
		raw, ok := r.Next()
		if !ok {
			break
		}
		n := r.Line()
		t := strings.Trim(raw, " \t\n") // str::trim: not \r
		if t == "" || t[0] == ';' || t[0] == '#' {
			continue
		}
		if t[0] == '[' {
			if end := strings.LastIndexByte(t, ']'); end >= 0 {
				// substr(1, pos-1): "[]" is the empty name
				cur = t[1:max(end, 1)]
				s := get(cur, n)
				s.known = true
				continue
			}
		} else if eq := strings.IndexByte(t, '='); eq >= 0 && !strings.ContainsAny(t[:eq], keyGarbage) {
			key := strings.TrimRight(t[:eq], " \t\n")
			val := strings.TrimLeft(t[eq+1:], " \t\n")
			if urlKeys[key] && !services {
				multi = key
				if err := store(key, val, n); err != nil {
					return nil, limited, err
				}
				continue
			}
			multi = ""
			s := get(cur, n)
			s.known = true
			if s.keys == nil {
				s.keys = map[string]string{}
			}
			if _, seen := s.keys[key]; !seen {
				if nurls++; nurls > MaxURLs {
					limited = true
					continue
				}
			}
			s.keys[key] = val
			switch {
			case key == "enabled":
				s.enabled, s.hasEn = val, true
			case key == "url" && services && val != "":
				s.svcURL, s.svcLine = val, n
			}
			continue
		}
		// garbageLine: more URLs of the last URL key, in whatever
		// section is current now, or a ParseException
		if multi == "" {
			return nil, limited, &Error{n, fmt.Sprintf("section [%s]: line contains garbage (no '=' or '%s' in key)", cur, keyGarbage)}
		}
		if err := store(multi, t, n); err != nil {
			return nil, limited, err
		}
	}
	if err := r.Err(); err != nil {
		return nil, limited, err
	}
	names := make([]string, 0, len(secs))
	for name, s := range secs {
		if s.known {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		s := secs[name]
		en := !s.hasEn || StrToTrue(s.enabled)
		if s.svcURL != "" {
			u, err := parseURL("url", s.svcURL, s.svcLine)
			if err != nil {
				return nil, limited, err
			}
			s.urls = []URL{u}
		}
		repos = append(repos, Repo{Alias: name, Line: s.line, Enabled: en, URLs: s.urls, Keys: s.keys})
	}
	return repos, limited, nil
}

// splitURLs splits a value as RepoFileParser::storeUrl does: at runs of
// commas and blanks that hold at least one blank; a comma alone does not
// split, and empty words go.
func splitURLs(v string) []string {
	var out []string
	word, i := 0, 0
	for i < len(v) {
		if !isSep(v[i]) {
			i++
			continue
		}
		j, blank := i, false
		for j < len(v) && isSep(v[j]) {
			blank = blank || v[j] != ','
			j++
		}
		if blank {
			if i > word {
				out = append(out, v[word:i])
			}
			word = j
		}
		i = j
	}
	if word < len(v) {
		out = append(out, v[word:])
	}
	return out
}

func isSep(c byte) bool { return c == ',' || c == ' ' || c == '\t' }

var (
	validScheme   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9.+-]*$`)
	validPathName = regexp.MustCompile(`^([a-zA-Z0-9!$&'(){}*+=,:@/~._-]|%[a-fA-F0-9]{2})+$`)
)

// parseURL splits w as Url::parseUrl does (RX_SPLIT_URL, Url.cc l. 34–38)
// and throws where UrlBase::init does: a missing or invalid scheme, a
// path name outside rx_pathname (UrlBase.cc l. 349). The checks of the
// other components are not modelled.
func parseURL(key, w string, line int) (URL, error) {
	u := URL{Key: key, Raw: w, Line: line}
	rest := w
	if i := strings.IndexAny(rest, ":/?#"); i > 0 && rest[i] == ':' {
		u.Scheme, rest = rest[:i], rest[i+1:]
	}
	if strings.HasPrefix(rest, "//") {
		end := strings.IndexAny(rest[2:], "/?#")
		if end < 0 {
			end = len(rest) - 2
		}
		rest = rest[2+end:]
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, ';'); i >= 0 { // sep_pathparams
		rest = rest[:i]
	}
	switch {
	case u.Scheme == "" && strings.HasPrefix(rest, "/"):
		u.Scheme = "file"
	case u.Scheme == "":
		return u, &Error{line, fmt.Sprintf("url %q: Url scheme is a required component", w)}
	case !validScheme.MatchString(u.Scheme):
		return u, &Error{line, fmt.Sprintf("url %q: Invalid Url scheme '%s'", w, u.Scheme)}
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if rest != "" && !validPathName.MatchString(rest) {
		return u, &Error{line, fmt.Sprintf("url %q: Invalid path name component '%s'", w, rest)}
	}
	u.Path, u.PathErr = decode(cleanupPathName(rest))
	return u, nil
}

// cleanupPathName: with no host, a leading "%2f" becomes "/" (a URL
// with a host keeps its path absolute anyway, so the rewrites of "//"
// change nothing the decoded path shows).
func cleanupPathName(p string) string {
	if len(p) >= 3 && p[0] != '/' && strings.EqualFold(p[:3], "%2f") {
		return "/" + p[3:]
	}
	return p
}

// decode is zypp::url::decode without NUL: a %XX with two hex digits is
// the byte, anything else stays; %00 throws.
func decode(s string) (string, string) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if c, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil && isHex(s[i+1]) && isHex(s[i+2]) {
				if c == 0 {
					return "", "Encoded string contains a NUL byte"
				}
				b.WriteByte(byte(c))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String(), ""
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// StrToTrue is zypp::str::strToTrue (zypp/base/String.cc l. 63–74): a
// true word, or a number strtoll reads as non-zero.
func StrToTrue(v string) bool {
	switch strings.ToLower(v) {
	case "1", "yes", "true", "always", "on", "+":
		return true
	}
	return strtoll(v) != 0
}

// strtoll is C's strtoll(v, nullptr, 0)'s value, enough to tell zero:
// leading white space, a sign, then base-prefixed digits as far as they go
// (a value out of range is not zero either).
func strtoll(v string) int64 {
	s := strings.TrimLeft(v, " \t\n\v\f\r")
	sign := ""
	if s != "" && (s[0] == '+' || s[0] == '-') {
		sign, s = s[:1], s[1:]
	}
	base, digits := 10, "0123456789"
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") && isHex(s[2]):
		base, digits, s = 16, "0123456789abcdefABCDEF", s[2:]
	case strings.HasPrefix(s, "0"):
		base, digits = 8, "01234567"
	}
	end := 0
	for end < len(s) && strings.IndexByte(digits, s[end]) >= 0 {
		end++
	}
	n, err := strconv.ParseInt(sign+s[:end], base, 64)
	if err != nil && end > 0 {
		return 1
	}
	return n
}
