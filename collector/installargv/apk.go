package installargv

import "strings"

// apk's options for "apk add": the global, commit and add groups of
// apk-tools 3.0.6 (src/apk.c GLOBAL_OPTIONS and COMMIT_OPTIONS,
// src/app_add.c ADD_OPTIONS; alpinelinux/apk-tools 7e92634a) with 2.14's
// (v2.14.10, 9d074efd) that 3 renamed: APK_OPT_ARG options take a value,
// APK_OPT_BOOL ones have a --no- form too.
var apkOpts = getopt{
	short: map[byte]hasArg{'p': requiredArg, 'X': requiredArg, 't': requiredArg,
		'f': noArg, 'h': noArg, 'i': noArg, 'q': noArg, 'U': noArg, 'v': noArg, 'V': noArg, 's': noArg,
		'l': noArg, 'u': noArg},
	long: map[string]hasArg{
		"arch": requiredArg, "cache-dir": requiredArg, "cache-max-age": requiredArg, "keys-dir": requiredArg,
		"preupgrade-depends": requiredArg, "progress-fd": requiredArg, "repositories-file": requiredArg,
		"repository": requiredArg, "repository-config": requiredArg, "root": requiredArg, "timeout": requiredArg,
		"uvol-manager": requiredArg, "wait": requiredArg, "virtual": requiredArg,
		"allow-untrusted": noArg, "force": noArg, "force-binary-stdout": noArg, "force-broken-world": noArg,
		"force-missing-repositories": noArg, "force-no-chroot": noArg, "force-non-repository": noArg,
		"force-old-apk": noArg, "force-overwrite": noArg, "force-refresh": noArg, "help": noArg,
		"interactive": noArg, "no-interactive": noArg, "pretty-print": noArg, "no-pretty-print": noArg,
		"print-arch": noArg, "progress": noArg, "no-progress": noArg, "quiet": noArg, "root-tmpfs": noArg,
		"no-root-tmpfs": noArg, "sync": noArg, "no-sync": noArg, "update-cache": noArg, "verbose": noArg,
		"version": noArg, "initramfs-diskless-boot": noArg, "overlay-from-stdin": noArg,
		"initdb": noArg, "latest": noArg, "no-chown": noArg, "upgrade": noArg, "usermode": noArg,
		"cache": noArg, "no-cache": noArg, "cache-packages": noArg, "no-cache-packages": noArg,
		"cache-predownload": noArg, "no-cache-predownload": noArg, "check-certificate": noArg,
		"no-check-certificate": noArg, "legacy-info": noArg, "no-legacy-info": noArg, "logfile": noArg,
		"no-logfile": noArg, "network": noArg, "no-network": noArg, "preserve-env": noArg,
		"no-preserve-env": noArg, "purge": noArg, "no-purge": noArg, "clean-protected": noArg,
		"no-clean-protected": noArg, "commit-hooks": noArg, "no-commit-hooks": noArg, "scripts": noArg,
		"no-scripts": noArg, "simulate": noArg, "no-simulate": noArg,
	},
}

// apkApplets are the applet names apk picks its command from (the first
// operand that names one): src/app_*.c of 2.14 and 3.0.
var apkApplets = map[string]bool{"add": true, "adbdump": true, "adbgen": true, "adbsign": true, "audit": true,
	"cache": true, "convdb": true, "convndx": true, "del": true, "dot": true, "extract": true, "fetch": true,
	"fix": true, "index": true, "info": true, "list": true, "manifest": true, "mkndx": true, "mkpkg": true,
	"policy": true, "query": true, "search": true, "stats": true, "update": true, "upgrade": true,
	"verify": true, "version": true}

// apk follows apk's main (src/apk.c parse_options): the applet is the
// first operand that names one; -h/--help, -V/--version and --print-arch
// print and exit; -s/--simulate (until a later --no-simulate) only shows
// what would change. "add" installs a package file when a target contains
// ".apk" (2.14's app_add.c: strstr(arg, ".apk"); 3's loads a target with
// a '.' that exists as a file, which the argv cannot tell: a name ending
// in .apk is taken for one). apk 3 rejects an unknown, ambiguous or
// misused option (opt_match); 2.14 ignored an unknown one unless it came
// last, which is not followed here.
func apk(args []string) (Install, bool) {
	var in Install
	applet, file, exits, simulate := "", false, false, false
	ok := apkOpts.walk(args, func(name, value, token string) bool {
		switch name {
		case "h", "help", "V", "version", "print-arch":
			exits = true
		case "s", "simulate":
			simulate = true
		case "no-simulate":
			simulate = false
		}
		return true
	}, func(a string) {
		if applet == "" && apkApplets[a] {
			applet, in.Form = a, a
		}
		// a target before the applet's name is a target too
		file = file || strings.Contains(a, ".apk")
	})
	if !ok || exits || simulate || applet != "add" || !file {
		return Install{}, false
	}
	return in, true
}
