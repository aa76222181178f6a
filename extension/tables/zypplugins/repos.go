package zypplugins

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/pkgpersist/pkgpersist/extension/fsroot"
	"github.com/pkgpersist/pkgpersist/extension/lines"
	"github.com/pkgpersist/pkgpersist/extension/zypprepo"
)

// zyppConf is libzypp's configuration file (zypp/ZConfig.cc; the
// ZYPP_CONF environment variable that moves it is not modelled).
const zyppConf = "/etc/zypp/zypp.conf"

// repoExt is the file name extension libzypp reads in reposdir
// (zypp/RepoManager.cc l. 323: Pathname::extension, from the last dot).
var repoExt = regexp.MustCompile(`^\.repo(_[0-9]+)?$`)

// configDirs are the repository and service directories of zypp.conf's
// [main] (ZConfig.cc l. 401–412, l. 966–982): reposdir and servicesdir,
// else configdir/repos.d and configdir/services.d, configdir
// defaulting to /etc/zypp.
func configDirs(root *fsroot.Root) (repos, services string) {
	keys := map[string]string{}
	if f, err := root.OpenFile(zyppConf); err == nil {
		secs, _ := zypprepo.ParseServices(lines.New(f, nil))
		f.Close()
		for _, s := range secs {
			if s.Alias == "main" {
				keys = s.Keys
			}
		}
	}
	conf := "/etc/zypp"
	if v := keys["configdir"]; v != "" {
		conf = v
	}
	repos, services = path.Join(conf, "repos.d"), path.Join(conf, "services.d")
	if v := keys["reposdir"]; v != "" {
		repos = v
	}
	if v := keys["servicesdir"]; v != "" {
		services = v
	}
	return path.Clean("/" + repos), path.Clean("/" + services)
}

// defined is a repository or service and the file that defines it.
type defined struct {
	zypprepo.Repo
	file    string
	service bool
}

// configured are the URL resolvers the root's repositories and services
// name with a plugin: URL, one row per URL. libzypp reads every *.repo
// (and .repo_<n>) of reposdir and every entry of servicesdir, skipping
// hidden names, in directory order (RepoManager.cc l. 305–341, l.
// 774–790); of two repositories with one alias the first read is kept
// (_reposX is a set). A file it cannot parse throws out of the
// RepoManager: zypper then stops (oracle), and runs no resolver at all.
func configured(root *fsroot.Root) []Plugin {
	reposDir, servicesDir := configDirs(root)
	var all []defined
	var failure string
	read := func(dir string, service bool) {
		names, _ := root.ReadDir(dir)
		for _, n := range names {
			if strings.HasPrefix(n, ".") || !service && !repoExt.MatchString(ext(n)) {
				continue
			}
			p := path.Join(dir, n)
			f, err := root.OpenFile(p) // a read error is the root's problem
			if err != nil {
				continue
			}
			lr := lines.New(gunzip(f), func() error { return root.Check() })
			var repos []zypprepo.Repo
			var limited bool
			if service {
				repos, err = zypprepo.ParseServices(lr)
			} else {
				repos, limited, err = zypprepo.Parse(lr)
			}
			f.Close()
			if limited {
				root.ReportLimit(p, fmt.Sprintf("more than %d URLs and keys: the rest not read", zypprepo.MaxURLs))
			}
			if err != nil {
				if _, ok := err.(*zypprepo.Error); !ok {
					root.Report(p, err)
					continue
				}
				if failure == "" {
					failure = fmt.Sprintf("zypper stops: libzypp cannot read %s (%s), so no repository is used", p, err)
				}
				continue
			}
			for _, r := range repos {
				all = append(all, defined{r, p, service})
			}
		}
	}
	read(reposDir, false)
	read(servicesDir, true)
	var out []Plugin
	first := map[string]string{}
	for _, d := range all {
		what := "repository"
		if d.service {
			what = "service"
		}
		key := what + "\x00" + d.Alias
		dup := first[key]
		if dup == "" {
			first[key] = d.file
		}
		for _, u := range d.URLs {
			if u.Scheme != "plugin" {
				continue
			}
			out = append(out, resolverRow(root, d, what, dup, u, failure))
		}
	}
	return out
}

// gunzip reads r as libzypp's InputStream does: through zlib's gzread
// (ifgzstream, zypp/base/InputStream.cc l. 42–51), so a gzip-compressed
// file reads as its content and any other as it is. A corrupt stream
// ends the reading with its error, as a read error does.
func gunzip(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return failed{fmt.Errorf("gzip: %w", err)}
		}
		return zr
	}
	return br
}

// failed is a reader that fails with its error.
type failed struct{ err error }

func (f failed) Read([]byte) (int, error) { return 0, f.err }

// ext is Pathname::extension: from the last dot of the name, "" for none.
func ext(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i:]
	}
	return ""
}

// resolverRow is one plugin: URL. UrlResolverPlugin::resolveUrl runs
// pluginsPath/urlresolver/<the URL's decoded path> (17.25.7
// zypp/media/UrlResolverPlugin.cc l. 42–46), joined and normalised as
// Pathname does, `..` included and never above /: path.Clean's rule.
// mirrorlist=, metalink= and gpgkey= URLs are opened with their path set
// to "/" (zypp/repo/RepoMirrorList.cc l. 50–54, zypp/MediaSetAccess.cc
// l. 194–197): libzypp then starts urlresolver itself, a directory
// ("Script is not executable" in the oracle).
func resolverRow(root *fsroot.Root, d defined, what, dup string, u zypprepo.URL, failure string) Plugin {
	dir := path.Join(pluginsPath, "urlresolver")
	p := Plugin{Kind: "urlresolver", Name: u.Path, Path: path.Clean(dir + "/" + u.Path), Source: d.file, Line: u.Line}
	use := "is refreshed or its packages are fetched"
	switch {
	case d.service:
		use = "is refreshed"
	case u.Key != "baseurl":
		p.Path = dir
		use = "is used (" + u.Key + "=)"
	}
	p.When = fmt.Sprintf("whenever %s %s (%s:%d) %s", what, d.Alias, d.file, u.Line, use)
	_, statErr := root.Stat(p.Path)
	switch {
	case failure != "":
		p.Reason = failure
	case dup != "":
		p.Reason = fmt.Sprintf("libzypp keeps the %s %s of %s, read first", what, d.Alias, dup)
	case !d.Enabled:
		p.Reason = fmt.Sprintf("%s %s is disabled (enabled=%s)", what, d.Alias, d.Keys["enabled"])
	case u.PathErr != "":
		p.Reason = "libzypp cannot decode the URL's path: " + u.PathErr
	case statErr != nil:
		p.Reason = "does not exist (or cannot be stat'ed): libzypp uses the URL as it is"
	default:
		p.Reason = rxFailure(root, p.Path, false, true)
	}
	p.Runs = p.Reason == ""
	return p
}
