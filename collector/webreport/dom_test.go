package webreport

import (
	"fmt"
	"html"
	"strings"
)

// node is an element of the DOM Chromium dumps (or a text node: tag "").
// Chromium serializes a DOM in one canonical form: lower-case tags,
// attribute values in double quotes, an end tag for every element that
// is not void (SVG ones too), text with &amp; &lt; &gt; &nbsp; and raw
// text in script and style. parseDOM reads that form only: it is a test's
// reader of Chromium's output, not an HTML parser.
type node struct {
	tag      string
	attrs    map[string]string
	children []*node
	text     string
}

var voidTags = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

func parseDOM(s string) (*node, error) {
	root := &node{tag: "#document"}
	stack := []*node{root}
	top := func() *node { return stack[len(stack)-1] }
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i != 0 {
			if i < 0 {
				i = len(s)
			}
			top().children = append(top().children, &node{text: html.UnescapeString(s[:i])})
			s = s[i:]
			continue
		}
		switch {
		case strings.HasPrefix(s, "<!--"):
			end := strings.Index(s, "-->")
			if end < 0 {
				return nil, fmt.Errorf("unterminated comment")
			}
			s = s[end+3:]
		case strings.HasPrefix(s, "<!"):
			s = s[strings.IndexByte(s, '>')+1:]
		case strings.HasPrefix(s, "</"):
			end := strings.IndexByte(s, '>')
			tag := s[2:end]
			if top().tag != tag {
				return nil, fmt.Errorf("</%s> closes <%s>", tag, top().tag)
			}
			stack = stack[:len(stack)-1]
			s = s[end+1:]
		default:
			n, rest, err := startTag(s)
			if err != nil {
				return nil, err
			}
			s = rest
			top().children = append(top().children, n)
			if n.tag == "script" || n.tag == "style" {
				end := strings.Index(s, "</"+n.tag+">")
				if end < 0 {
					return nil, fmt.Errorf("unterminated <%s>", n.tag)
				}
				n.children = []*node{{text: s[:end]}}
				s = s[end+len(n.tag)+3:]
			} else if !voidTags[n.tag] {
				stack = append(stack, n)
			}
		}
	}
	if len(stack) != 1 {
		return nil, fmt.Errorf("<%s> not closed", top().tag)
	}
	return root, nil
}

// startTag reads <tag attr="value" ...> at the start of s.
func startTag(s string) (*node, string, error) {
	s = s[1:]
	end := strings.IndexAny(s, " >")
	if end < 0 {
		return nil, "", fmt.Errorf("unterminated tag")
	}
	n := &node{tag: s[:end], attrs: map[string]string{}}
	s = s[end:]
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return nil, "", fmt.Errorf("unterminated <%s>", n.tag)
		}
		if s[0] == '>' {
			return n, s[1:], nil
		}
		name := s[:strings.IndexAny(s, "=> ")]
		s = s[len(name):]
		if !strings.HasPrefix(s, `="`) {
			n.attrs[name] = ""
			continue
		}
		s = s[2:]
		q := strings.IndexByte(s, '"')
		n.attrs[name] = html.UnescapeString(s[:q])
		s = s[q+1:]
	}
}

// all returns the elements below n (n included) for which match holds.
func (n *node) all(match func(*node) bool) []*node {
	var out []*node
	if n.tag != "" && match(n) {
		out = append(out, n)
	}
	for _, c := range n.children {
		out = append(out, c.all(match)...)
	}
	return out
}

// byTag, byClass and byID select elements.
func byTag(tag string) func(*node) bool { return func(n *node) bool { return n.tag == tag } }

func byClass(class string) func(*node) bool {
	return func(n *node) bool { return strings.Contains(" "+n.attrs["class"]+" ", " "+class+" ") }
}

func (n *node) byID(id string) *node {
	if found := n.all(func(n *node) bool { return n.attrs["id"] == id }); len(found) == 1 {
		return found[0]
	}
	return nil
}

// textContent is the text of n and everything below it, as the DOM's
// textContent.
func (n *node) textContent() string {
	if n.tag == "" {
		return n.text
	}
	var b strings.Builder
	for _, c := range n.children {
		b.WriteString(c.textContent())
	}
	return b.String()
}

// cells are the texts of a table row's cells, trimmed.
func (n *node) cells() []string {
	var out []string
	for _, c := range n.children {
		if c.tag == "td" || c.tag == "th" {
			out = append(out, strings.TrimSpace(c.textContent()))
		}
	}
	return out
}
