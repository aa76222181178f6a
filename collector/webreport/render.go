package webreport

import (
	"bufio"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"html/template"
	"io"
	"strings"

	"github.com/pkgpersist/pkgpersist/collector/output"
)

//go:embed page.html
var pageHTML string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"plus":  func(a, b float64) float64 { return a + b },
	"join":  func(s []string) string { return strings.Join(s, ", ") },
	"stamp": stamp,
	"short": short,
	// every value a host sent, with what would reorder or hide text
	// (bidirectional controls, zero width and other format or control
	// characters, line separators) escaped as the terminal output shows
	// it
	"shown": output.Safe,
}).Parse(pageHTML))

// CSP is the page's Content-Security-Policy with nonce: nothing may be
// fetched (no scripts, styles, fonts, images, frames or connections from
// anywhere), only the page's own style and script elements carrying the
// nonce run, and no form or base URL may point elsewhere. serve sends it
// as a header too, with frame-ancestors, which a meta element cannot set.
func CSP(nonce string) string {
	return "default-src 'none'; script-src 'nonce-" + nonce + "'; style-src 'nonce-" + nonce + "'; base-uri 'none'; form-action 'none'"
}

// Nonce is a new random CSP nonce.
func Nonce() string {
	b := make([]byte, 18)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Render writes the page with its inline style and script under nonce.
func (p *Page) Render(w io.Writer, nonce string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := page.Execute(bw, struct {
		*Page
		Nonce, CSP string
	}{p, nonce, CSP(nonce)}); err != nil {
		return err
	}
	return bw.Flush()
}

// Write reads the page from the store and writes it: what pkgpersist
// report html writes and serve shows at /ui/.
func Write(ctx context.Context, w io.Writer, st Store, o Options) error {
	p, err := Load(ctx, st, o)
	if err != nil {
		return err
	}
	return p.Render(w, Nonce())
}

// short is the start of a long text, for a summary line.
func short(s string) string {
	const n = 100
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
