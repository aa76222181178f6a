// Package aptconf reproduces how APT reads its configuration: the tree of
// apt.conf(5) items, the reader for its file grammar, and the order in which
// APT reads the files of a system. It follows apt's own code (apt-pkg's
// configuration.cc, strutl.cc and init.cc, apt 2.6) closely enough that
// `apt-config dump` can be used as an oracle for it, and it records where
// every value came from so that a value that was overwritten or removed can
// still be reported.
package aptconf

import (
	"strings"
)

// Origin is a place in a configuration file.
type Origin struct {
	Path string
	Line int
}

// Builtin reports whether the origin is apt's compiled-in default rather
// than a file.
func (o Origin) Builtin() bool { return o.Path == "" }

func (o Origin) String() string {
	if o.Builtin() {
		return "apt's built-in default"
	}
	return o.Path + ":" + itoa(o.Line)
}

// Item is a node of the configuration tree. Tags compare case-insensitively
// (ASCII only, as apt's stringcasecmp); an item keeps the spelling it was
// created with.
type Item struct {
	Tag      string
	Value    string
	Parent   *Item
	Children []*Item

	// set is the assignment that gave Value, nil when Value was never set
	// or was cleared.
	set *Assignment
	// detached is true once a #clear removed the item from the tree.
	detached bool
}

// FullTag is the scoped name of the item, as apt-config dump prints it.
func (it *Item) FullTag() string {
	var tags []string
	for i := it; i.Parent != nil; i = i.Parent {
		tags = append(tags, i.Tag)
	}
	if len(tags) == 0 {
		return it.Tag
	}
	n := 2 * (len(tags) - 1)
	for _, t := range tags {
		n += len(t)
	}
	b := make([]byte, 0, n)
	for i := len(tags) - 1; i >= 0; i-- {
		b = append(b, tags[i]...)
		if i > 0 {
			b = append(b, "::"...)
		}
	}
	return string(b)
}

// InTree reports whether the item is still reachable from the root.
func (it *Item) InTree() bool {
	for i := it; i != nil; i = i.Parent {
		if i.detached {
			return false
		}
	}
	return true
}

// Index is the item's position among its parent's children, -1 when it is
// no longer in the tree.
func (it *Item) Index() int {
	if it.Parent == nil || !it.InTree() {
		return -1
	}
	for i, c := range it.Parent.Children {
		if c == it {
			return i
		}
	}
	return -1
}

// Assignment is one `Key "value";` that a reader carried out. Assignments
// are kept in the order they happened, including those whose value was
// later replaced or cleared.
type Assignment struct {
	Item   *Item
	Value  string
	Origin Origin
	// Replaced is where a later assignment to the same item was made.
	Replaced *Origin
	// Cleared is where a #clear removed this value.
	Cleared *Origin
}

// Live reports whether the assignment's value is the item's current value
// and the item is still in the tree.
func (a *Assignment) Live() bool {
	return a.Item.set == a && a.Item.InTree()
}

// Config is apt's configuration space.
type Config struct {
	root        *Item
	Assignments []*Assignment
	// work counts the bytes of names looked up and the items compared:
	// apt's lookups cost time linear in the depth of a name, so a file
	// that nests and assigns deeply costs quadratic time, in apt too.
	work int
}

// New returns an empty configuration.
func New() *Config { return &Config{root: &Item{}} }

// Root returns the unnamed root of the tree.
func (c *Config) Root() *Item { return c.root }

func tagEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// child finds tag below head; an empty tag never matches and, with create,
// appends a new anonymous list entry.
func child(head *Item, tag string, create bool) *Item {
	if tag != "" {
		for _, c := range head.Children {
			if len(c.Tag) != len(tag) {
				continue
			}
			if tagEqual(c.Tag, tag) {
				return c
			}
		}
	}
	if !create {
		return nil
	}
	it := &Item{Tag: tag, Parent: head}
	head.Children = append(head.Children, it)
	return it
}

// Lookup walks a "::"-scoped name the way apt's Configuration::Lookup does,
// including its handling of odd names such as "a:::b".
func (c *Config) Lookup(name string, create bool) *Item {
	c.work += len(name)
	itm := c.root
	start, tagEnd := 0, 0
	for ; len(name)-tagEnd >= 2; tagEnd++ {
		if name[tagEnd] == ':' && name[tagEnd+1] == ':' {
			itm = child(itm, name[start:tagEnd], create)
			if itm == nil {
				return nil
			}
			tagEnd += 2
			start = tagEnd
		}
	}
	if len(name)-start == 0 && !create {
		return nil
	}
	return child(itm, name[start:], create)
}

// Find returns the value of name, or "" when it is unset.
func (c *Config) Find(name string) string {
	if it := c.Lookup(name, false); it != nil {
		return it.Value
	}
	return ""
}

// Tree returns the item for name, nil when it does not exist.
func (c *Config) Tree(name string) *Item { return c.Lookup(name, false) }

// Set assigns value to name (creating it), recording where it was made.
func (c *Config) Set(name, value string, at Origin) *Assignment {
	// apt passes names as C strings: a decoded %00 ends the name.
	it := c.Lookup(cstr(name), true)
	if prev := it.set; prev != nil {
		o := at
		prev.Replaced = &o
	}
	a := &Assignment{Item: it, Value: value, Origin: at}
	it.Value = value
	it.set = a
	c.Assignments = append(c.Assignments, a)
	return a
}

// Clear implements the #clear directive: the item's value goes and its
// subtree is removed; the item itself stays.
func (c *Config) Clear(name string, at Origin) {
	top := c.Lookup(cstr(name), false)
	if top == nil {
		return
	}
	o := at
	if top.set != nil {
		top.set.Cleared = &o
		top.set = nil
	}
	top.Value = ""
	var walk func(*Item)
	walk = func(it *Item) {
		if it.set != nil {
			it.set.Cleared = &o
		}
		for _, ch := range it.Children {
			walk(ch)
		}
	}
	for _, ch := range top.Children {
		ch.detached = true
		walk(ch)
	}
	top.Children = nil
}

// FindFile resolves a file name the way apt's Configuration::FindFile does:
// a relative value is prefixed by its parents' values (Dir::Etc::main is
// below Dir::Etc, which is below Dir) until an absolute one is met.
func (c *Config) FindFile(name, def string) string {
	result := c.Find("RootDir")
	if result != "" && !strings.HasSuffix(result, "/") {
		result += "/"
	}
	it := c.Lookup(name, false)
	if it == nil || it.Value == "" {
		result += def
		return normalize(result)
	}
	val := it.Value
	for it.Parent != nil {
		if it.Parent.Value == "" {
			it = it.Parent
			continue
		}
		if strings.HasPrefix(val, "/") {
			if strings.HasPrefix(val, "/dev/null") {
				val = val[:9]
			}
			break
		}
		if strings.HasPrefix(val, "~/") || strings.HasPrefix(val, "./") || strings.HasPrefix(val, "../") {
			break
		}
		if !strings.HasSuffix(it.Parent.Value, "/") {
			val = "/" + val
		}
		val = it.Parent.Value + val
		it = it.Parent
	}
	return normalize(result + val)
}

// FindDir is FindFile with a trailing slash, except for /dev/null.
func (c *Config) FindDir(name, def string) string {
	res := c.FindFile(name, def)
	if !strings.HasSuffix(res, "/") {
		if strings.HasSuffix(res, "/dev/null") {
			return res
		}
		return res + "/"
	}
	return res
}

// normalize is apt's flNormalize: "/./" and "//" collapse to "/", and
// anything after a leading /dev/null is dropped.
func normalize(p string) string {
	if p == "" {
		return p
	}
	for strings.Contains(p, "/./") {
		p = strings.Replace(p, "/./", "/", 1)
	}
	for strings.Contains(p, "//") {
		p = strings.Replace(p, "//", "/", 1)
	}
	if strings.HasPrefix(p, "/dev/null") {
		return p[:9]
	}
	return p
}

// Walk visits every item below the root in apt-config dump order, with its
// full tag.
func (c *Config) Walk(fn func(it *Item, fullTag string)) {
	var walk func(*Item, string)
	walk = func(it *Item, tag string) {
		fn(it, tag)
		for _, ch := range it.Children {
			walk(ch, tag+"::"+ch.Tag)
		}
	}
	for _, ch := range c.root.Children {
		walk(ch, ch.Tag)
	}
}

// Dump writes the tree as `apt-config dump --format '%F %V%n'` does: the
// quoted full tag, a space and the quoted value, one item a line.
func (c *Config) Dump() string {
	var b strings.Builder
	c.Walk(func(it *Item, tag string) {
		b.WriteString(QuoteString(tag, "=\"\n"))
		b.WriteByte(' ')
		b.WriteString(QuoteString(it.Value, "=\"\n"))
		b.WriteByte('\n')
	})
	return b.String()
}

// QuoteString escapes bytes as apt's QuoteString does (%xx, lower-case hex).
func QuoteString(s, bad string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 0x80 {
			// apt formats the byte as a signed char widened to int.
			b.WriteString("%ffffff")
			b.WriteByte(hex[ch>>4])
			b.WriteByte(hex[ch&0xf])
			continue
		}
		if strings.IndexByte(bad, ch) >= 0 || ch == '%' || ch <= 0x20 || ch == 0x7f {
			b.WriteByte('%')
			b.WriteByte(hex[ch>>4])
			b.WriteByte(hex[ch&0xf])
			continue
		}
		b.WriteByte(ch)
	}
	return b.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var buf [20]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}
