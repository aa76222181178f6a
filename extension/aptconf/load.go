package aptconf

import "strings"

// Defaults are the values apt 2.6's pkgInitConfig sets before it reads any
// file, for the keys that decide which files it reads and the command-valued
// keys it starts with. Keys ending in "::" append to a list.
var Defaults = [][2]string{
	{"Dir", "/"},
	{"Dir::Etc", "etc/apt"},
	{"Dir::Etc::main", "apt.conf"},
	{"Dir::Etc::parts", "apt.conf.d"},
	{"Dir::Bin::methods", "/usr/lib/apt/methods"},
	{"Dir::Bin::solvers::", "/usr/lib/apt/solvers"},
	{"Dir::Bin::planners::", "/usr/lib/apt/planners"},
	{"Dir::Bin::dpkg", "/usr/bin/dpkg"},
	{"Dir::Bin::gzip", "/bin/gzip"},
	{"Dir::Bin::bzip2", "/bin/bzip2"},
	{"Dir::Bin::xz", "/usr/bin/xz"},
	{"Dir::Bin::lz4", "/usr/bin/lz4"},
	{"Dir::Bin::zstd", "/usr/bin/zstd"},
	{"Dir::Bin::lzma", "/usr/bin/xz"},
	{"Dir::Ignore-Files-Silently::", `~$`},
	{"Dir::Ignore-Files-Silently::", `\.disabled$`},
	{"Dir::Ignore-Files-Silently::", `\.bak$`},
	{"Dir::Ignore-Files-Silently::", `\.dpkg-[a-z]+$`},
	{"Dir::Ignore-Files-Silently::", `\.ucf-[a-z]+$`},
	{"Dir::Ignore-Files-Silently::", `\.save$`},
	{"Dir::Ignore-Files-Silently::", `\.orig$`},
	{"Dir::Ignore-Files-Silently::", `\.distUpgrade$`},
}

// Result is the configuration apt ends up with on a system.
type Result struct {
	Conf  *Config
	Files []*File
	// Failed is the first error that makes apt refuse to start (nil when
	// apt starts).
	Failed *Error
	// Warnings are problems apt reports and carries on after.
	Warnings []string
	// Interrupted is what the reading was polling (nil for nothing):
	// whoever reads more files for this result polls it too.
	Interrupted func() error
}

// Load reads the configuration of the system that fs shows, in the order
// apt's pkgInitConfig does: the APT_CONFIG file (aptConfig, "" for none),
// the parts directory, then the main file. interrupted is polled between
// files so that a caller's deadline stops the work.
func Load(fs FS, aptConfig string, interrupted func() error) *Result {
	conf := New()
	for _, d := range Defaults {
		conf.Set(d[0], d[1], Origin{})
	}
	return LoadInto(conf, fs, aptConfig, interrupted)
}

// LoadInto is Load over a configuration that already holds apt's defaults.
func LoadInto(conf *Config, fs FS, aptConfig string, interrupted func() error) *Result {
	r := &Reader{Conf: conf, FS: fs, Interrupted: interrupted}
	res := &Result{Conf: conf, Interrupted: interrupted}
	ok := true
	if aptConfig != "" {
		ok = r.ReadFile(aptConfig, 0, nil)
	}
	if ok {
		parts := conf.FindDir("Dir::Etc::parts", "/dev/null")
		if fs.Kind(parts) == "dir" {
			ok = r.ReadDir(parts, 0, nil) && ok
		} else if aptConfig == "" {
			res.Warnings = append(res.Warnings, "unable to stat "+parts)
		}
		main := conf.FindFile("Dir::Etc::main", "/dev/null")
		if fs.Kind(main) == "file" {
			ok = r.ReadFile(main, 0, nil) && ok
		}
	}
	res.Files = r.Files
	if !ok {
		// The first error in reading order; an #include that failed is
		// reported by the included file's own error, which follows it.
		for _, f := range r.Files {
			if f.Err != nil {
				res.Failed = f.Err
				if !strings.Contains(f.Err.Msg, includeFailed) {
					break
				}
			}
		}
	}
	return res
}
