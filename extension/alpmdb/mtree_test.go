package alpmdb

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestReadMtreeBsdtar(t *testing.T) {
	// testdata/bsdtar.mtree is what makepkg's bsdtar command line writes
	// (makepkg create_package: --format=mtree with its --options)
	plain, err := os.ReadFile("testdata/bsdtar.mtree")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"plain": plain, "gzip": []byte(gz(string(plain)))} {
		entries, err := ReadMtree(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := fmt.Sprint(entries)
		want := "[{/.PKGINFO file 553380753e35f048b44f2dd191401770f887a23df3a9f034c3726b66b9952856 90bce9af067b0d49b5e03177ccfb0de9} " +
			"{/usr dir  } {/usr/bin dir  } " +
			"{/usr/bin/a file 98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4 764efa883dda1e11db47671c4a3bbd9e} " +
			"{/usr/share dir  } {/usr/share/x dir  } " +
			"{/usr/share/x/sp ace file ebe95d10cc11e27bd8d4d1ce91bc725665ddbaa6ca2498ef38a88a58ad48cdb4 f6255bb01c648fe967714d52a89e8e9c}]"
		if got != want {
			t.Fatalf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

func TestParseMtreeForms(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	for _, c := range []struct{ in, want, err string }{
		// relative names build on the directory a dir entry entered
		{"/set type=dir\nusr\n bin\n  sh type=file sha256=" + sum + "\n ..\netc\n", "[{/usr dir  } {/usr/bin dir  } {/usr/bin/sh file " + sum + " } {/usr/etc dir  }]", ""},
		// lines of one full name merge, later keywords winning
		{"./a type=file sha256=" + sum + "\n./b type=link\n./a sha256digest=" + strings.Repeat("cd", 32) + "\n", "[{/a file " + strings.Repeat("cd", 32) + " } {/b link  }]", ""},
		// a continuation line, a comment, escapes (parse_escapes leaves
		// "\\" as it is: bsdtar writes a backslash as \134)
		{"# c\n./x\\\\\\\n type=file\n./\\101\\s\\t type=file\n", "[{/x\\\\ file  } {/A \t file  }]", ""},
		// of two spellings of one digest, the one libarchive applies last
		// wins: the line's first, then the /set defaults
		{"./x type=file sha256=" + sum + " sha256digest=" + strings.Repeat("cd", 32) + "\n", "[{/x file " + sum + " }]", ""},
		{"/set sha256=" + sum + "\n./x type=file sha256digest=" + strings.Repeat("cd", 32) + "\n", "[{/x file " + sum + " }]", ""},
		// a path of PATH_MAX or more is skipped by pacman, and what is
		// below it
		{"/set type=dir\n" + strings.Repeat(strings.Repeat("d", 200)+"\n", 21) + "f type=file\n" + strings.Repeat("..\n", 21) + "g type=file\n",
			"[" + deep(200, 20) + "{/g file  }]", ""},
		// a symlink's target, escapes decoded (bsdtar 3.6.2 extracts
		// link=a\040b as "a b")
		{"./l type=link link=a\\040b\n./m type=link link=x link=y\n", "[{/l link   -> a b} {/m link   -> y}]", ""},
		// a digest of the wrong length is ignored
		{"./x type=file sha256digest=abcd md5digest=zz\n", "[{/x file  }]", ""},
		// a warning stops pacman at that entry
		{"./a type=file\n./b\n./c type=file\n", "[{/a file  }]", "missing type"},
		{"./a type=file\n./b type=door\n", "[{/a file  }]", "unrecognized file type"},
		// a fatal error leaves nothing
		{"./a type=file\n/bogus\n", "[]", "can't parse line 2"},
		{"./a type=file\n/unset type=x\n", "[]", "/unset with '='"},
		{"./a type=file\n./" + strings.Repeat("b", maxMtreeLine) + " type=file\n", "[]", "line too long"},
		{"/set type=file\n/unset all\n./a\n", "[]", "missing type"},
	} {
		entries, err := ParseMtree(strings.NewReader(c.in))
		if got := fmt.Sprint(entries); got != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.in, got, c.want)
		}
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.in, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, ErrMtree)):
			t.Errorf("%q: error %v, want %q", c.in, err, c.err)
		}
	}
}

// deep lists the entries of n nested directories of names of l bytes.
func deep(l, n int) string {
	var b strings.Builder
	p := ""
	for i := 0; i < n; i++ {
		p += "/" + strings.Repeat("d", l)
		b.WriteString("{" + p + " dir  } ")
	}
	return b.String()
}
