// Package aptoracle asks the real apt what it makes of a fixture root:
// `apt-config dump` run on a copy of the root, with RootDir pointing at it
// and the working directory inside it, as apt would run chrooted there.
package aptoracle

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/need"
)

// Item is one line of apt-config dump.
type Item struct {
	Tag   string // full tag, e.g. "DPkg::Post-Invoke::"
	Value string
}

// Dump runs apt-config dump for root. A non-nil error carries what apt
// printed when it refused the configuration.
func Dump(t testing.TB, root string) ([]Item, error) {
	t.Helper()
	return DumpWith(t, root, "")
}

// DumpWith is Dump with APT_CONFIG naming aptConfig, a file inside the root
// ("" for none).
func DumpWith(t testing.TB, root, aptConfig string) ([]Item, error) {
	t.Helper()
	cmd := PrepareWith(t, root, aptConfig)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("apt-config: %v: %s", err, strings.TrimSpace(errb.String()))
	}
	var items []Item
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		tag, val, _ := strings.Cut(line, " ")
		items = append(items, Item{Tag: Unquote(tag), Value: Unquote(val)})
	}
	return items, nil
}

// Prepare copies root into a temporary directory apt can be pointed at and
// returns the apt-config dump command for it, ready to run.
func Prepare(t testing.TB, root string) *exec.Cmd {
	t.Helper()
	return PrepareWith(t, root, "")
}

// PrepareWith is Prepare with APT_CONFIG naming aptConfig inside the root.
// The oracle's own APT_CONFIG sets RootDir and then includes that file, so
// apt reads it first, as it would read APT_CONFIG.
func PrepareWith(t testing.TB, root, aptConfig string) *exec.Cmd {
	t.Helper()
	aptConfigBin := need.Program(t, "apt-config")
	tmp := t.TempDir()
	if err := copyTree(root, tmp); err != nil {
		t.Fatalf("copy %s: %v", root, err)
	}
	// RootDir makes apt look for its architecture tables inside the root.
	for _, f := range []string{"cputable", "tupletable", "ostable", "abitable"} {
		src := filepath.Join("/usr/share/dpkg", f)
		if data, err := os.ReadFile(src); err == nil {
			dst := filepath.Join(tmp, "usr/share/dpkg", f)
			_ = os.MkdirAll(filepath.Dir(dst), 0o755)
			if err := os.WriteFile(dst, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg := filepath.Join(t.TempDir(), "oracle.conf")
	text := fmt.Sprintf("RootDir %q;\n", tmp+"/")
	if aptConfig != "" {
		text += fmt.Sprintf("#include %q;\n", filepath.Join(tmp, aptConfig))
	}
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(aptConfigBin, "dump", "--format", "%F %V%n")
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "APT_CONFIG="+cfg, "LC_ALL=C")
	return cmd
}

// CopyTree copies regular files, directories and symlinks of src into dst.
func CopyTree(src, dst string) error { return copyTree(src, dst) }

// Unquote reverses apt's QuoteString, including its rendering of bytes
// >= 0x80 as %ffffffXX.
func Unquote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if strings.HasPrefix(s[i+1:], "ffffff") && i+9 <= len(s) {
				if v, err := strconv.ParseUint(s[i+7:i+9], 16, 8); err == nil {
					b.WriteByte(byte(v))
					i += 8
					continue
				}
			}
			if i+3 <= len(s) {
				if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
					b.WriteByte(byte(v))
					i += 2
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// copyTree copies regular files, directories and symlinks.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, target)
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		}
		return nil
	})
}

// PlantHooks writes n configuration files into root's etc/apt/apt.conf.d,
// each adding a command to DPkg::Post-Invoke and one to
// APT::Update::Pre-Invoke, for benchmarks of APT configurations at scale.
func PlantHooks(root string, n int) error {
	dir := filepath.Join(root, "etc/apt/apt.conf.d")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		text := fmt.Sprintf("// planted hook %d\nDPkg::Post-Invoke { \"echo post %d\"; };\nAPT::Update::Pre-Invoke:: \"echo pre %d\";\n", i, i, i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("60planted%05d.conf", i)), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}
