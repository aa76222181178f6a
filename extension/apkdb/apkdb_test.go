package apkdb

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// id is a package identity as the installed db (Q1, base64) and the
// scripts archive (X1, hex) spell it.
var (
	rawID    = []byte("0123456789abcdefghij")
	q1ID     = "Q1" + base64.StdEncoding.EncodeToString(rawID)
	hexID    = hex.EncodeToString(rawID)
	fileZ    = "Q1" + base64.StdEncoding.EncodeToString([]byte("ZZZZZZZZZZZZZZZZZZZZ"))
	sha256ID = "Q1" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
)

func scriptsTar(tb testing.TB, entries map[string]string) []byte {
	tb.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for name, body := range entries {
		if err := w.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			tb.Fatal(err)
		}
		w.Write([]byte(body))
	}
	w.Close()
	return b.Bytes()
}

func TestParseDigest(t *testing.T) {
	for in, alg := range map[string]string{q1ID: "sha1", "X1" + hexID: "sha1", sha256ID: "sha256", "Q3" + q1ID[2:]: "", "Z1": "", "Q1!!": "", "": ""} {
		if got := ParseDigest(in).Alg; got != alg {
			t.Errorf("%q: %q, want %q", in, got, alg)
		}
	}
}

func TestParseInstalled(t *testing.T) {
	db := "C:" + q1ID + "\nP:busybox\nV:1.36.1-r2\nF:etc/apk/commit_hooks.d\nR:hook\nZ:" + fileZ + "\nF:\nR:toplevel\n\nP:second\nV:1\n"
	pkgs, err := ParseInstalled(strings.NewReader(db), nil)
	if err != nil || len(pkgs) != 2 {
		t.Fatalf("%v %+v", err, pkgs)
	}
	p := pkgs[0]
	if p.Name != "busybox" || p.Version != "1.36.1-r2" || p.Identity.Key() != (Digest{"sha1", rawID}).Key() {
		t.Fatalf("%+v", p)
	}
	if z := p.Files["/etc/apk/commit_hooks.d/hook"]; z.Alg != "sha1" || string(z.Sum) != "ZZZZZZZZZZZZZZZZZZZZ" {
		t.Fatalf("files %+v", p.Files)
	}
	if _, ok := p.Files["/toplevel"]; !ok {
		t.Fatalf("files %+v", p.Files)
	}
	if _, err := ParseInstalled(strings.NewReader("P:x\nbad line\n"), nil); err == nil {
		t.Fatal("a line without field: accepted")
	}
	if _, err := ParseInstalled(strings.NewReader("P:x\nR:nodir\n"), nil); err == nil {
		t.Fatal("R: before F: accepted")
	}
	if _, err := ParseInstalled(strings.NewReader("P:x\nF:a\nR:"+strings.Repeat("y", maxLine+1)+"\n"), nil); err == nil || !strings.Contains(err.Error(), "over") {
		t.Fatalf("an over-long line: %v", err)
	}
}

func TestParseTriggers(t *testing.T) {
	tr, err := ParseTriggers(strings.NewReader(q1ID + " /usr/share/fonts/* +/usr/lib/x\nnotadigest /a\n\n"))
	if err != nil || len(tr) != 1 || strings.Join(tr[(Digest{"sha1", rawID}).Key()], " ") != "/usr/share/fonts/* +/usr/lib/x" {
		t.Fatalf("%v %v", err, tr)
	}
}

func TestReadScripts(t *testing.T) {
	data := scriptsTar(t, map[string]string{
		"busybox-1.0-r0.X1" + hexID + ".trigger":      "#!/bin/sh\necho hi\n",
		"busybox-1.0-r0.X1" + hexID + ".post-install": "#!/bin/sh\n",
		"busybox-1.0-r0.X1" + hexID + ".bogus":        "#!/bin/sh\n",
		"nodots":                                      "x",
	})
	scripts, err := ReadScripts(bytes.NewReader(data), nil)
	if err != nil || len(scripts) != 2 {
		t.Fatalf("%v %+v", err, scripts)
	}
	for _, s := range scripts {
		if s.Type == "trigger" && (s.SHA256 != "299001868fb8c02fd431c336c6d058f5558c5dff5b5af5e6fe04b870a6a9cbba" || s.Size != 18) {
			t.Fatalf("%+v", s)
		}
	}
	one := scriptsTar(t, map[string]string{"busybox-1.0-r0.X1" + hexID + ".trigger": "#!/bin/sh\necho hi\n"})
	if _, err := ReadScripts(bytes.NewReader(one[:520]), nil); err == nil {
		t.Fatal("a truncated archive: no error")
	}
}

// TestSparseScriptBounded: a sparse entry claiming 1 TiB in a few bytes of
// archive is a limit at once, not a terabyte of zeros hashed.
func TestSparseScriptBounded(t *testing.T) {
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	h := &tar.Header{Name: "x-1.X1" + hexID + ".trigger", Size: 1 << 40, Typeflag: tar.TypeReg, Format: tar.FormatPAX,
		PAXRecords: map[string]string{"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "x-1.X1" + hexID + ".trigger", "GNU.sparse.realsize": "1099511627776"}}
	if err := w.WriteHeader(h); err != nil {
		t.Skipf("cannot write the header: %v", err)
	}
	_, err := ReadScripts(bytes.NewReader(b.Bytes()), nil)
	if err == nil || !errors.Is(err, ErrLimit) {
		t.Fatalf("err %v, want a limit", err)
	}
}

// ustarBlock is one tar header block with its checksum, written by hand:
// archive/tar's writer will not write the PAX records of a sparse file.
func ustarBlock(name string, size int, typ byte) []byte {
	h := make([]byte, 512)
	copy(h, name)
	copy(h[100:], "0000644\x00")
	copy(h[124:], fmt.Sprintf("%011o\x00", size))
	copy(h[136:], "00000000000\x00")
	copy(h[148:], "        ")
	h[156] = typ
	copy(h[257:], "ustar\x0000")
	sum := 0
	for _, c := range h {
		sum += int(c)
	}
	copy(h[148:], fmt.Sprintf("%06o\x00 ", sum))
	return h
}

// pad512 pads data to whole tar blocks.
func pad512(data []byte) []byte {
	return append(data, make([]byte, (512-len(data)%512)%512)...)
}

// TestSparseExpansionBounded: sparse entries each under the script bound
// cannot make a few KiB of archive cost many MiB of hashing: what is
// hashed is bounded by what the archive holds.
func TestSparseExpansionBounded(t *testing.T) {
	var b bytes.Buffer
	const real = 10 << 20
	for i := 0; i < 3; i++ {
		name := "x" + string(rune('a'+i)) + "-1.X1" + hexID + ".trigger"
		var recs []byte
		for _, kv := range [][2]string{{"GNU.sparse.major", "1"}, {"GNU.sparse.minor", "0"}, {"GNU.sparse.name", name}, {"GNU.sparse.realsize", strconv.Itoa(real)}} {
			rec := " " + kv[0] + "=" + kv[1] + "\n"
			n := len(rec) + 1
			for len(strconv.Itoa(n))+len(rec) != n {
				n++
			}
			recs = append(recs, strconv.Itoa(n)+rec...)
		}
		b.Write(ustarBlock("pax", len(recs), 'x'))
		b.Write(pad512(recs))
		// a PAX 1.0 sparse map, then one byte of data at the end of 10 MiB
		data := pad512([]byte("1\n" + strconv.Itoa(real-1) + "\n1\n"))
		data = append(data, 'x')
		b.Write(ustarBlock(name, len(data), '0'))
		b.Write(pad512(data))
	}
	b.Write(make([]byte, 1024))
	scripts, err := ReadScripts(bytes.NewReader(b.Bytes()), nil)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("%d bytes of archive: err %v, scripts %+v", b.Len(), err, scripts)
	}
	if len(scripts) != 1 || scripts[0].Size != real {
		t.Fatalf("the first sparse script, %d bytes, is within the bound: %+v", real, scripts)
	}
}
