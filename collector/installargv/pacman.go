package installargv

// pacman's options, as src/pacman/pacman.c parseargs declares them
// (pacman 6.0.2 and 6.1.0, archlinux/pacman as mirrored in CachyOS/pacman
// 5213a70b): its short-option string "DFQRSTUVb:cdefghiklmnopqr:stuvwxy"
// and its long options with their has_arg. --disable-sandbox is 6.1's
// (6.0.2 rejects it).
var pacmanOpts = getopt{
	short: map[byte]hasArg{'b': requiredArg, 'r': requiredArg,
		'D': noArg, 'F': noArg, 'Q': noArg, 'R': noArg, 'S': noArg, 'T': noArg, 'U': noArg, 'V': noArg,
		'c': noArg, 'd': noArg, 'e': noArg, 'f': noArg, 'g': noArg, 'h': noArg, 'i': noArg, 'k': noArg,
		'l': noArg, 'm': noArg, 'n': noArg, 'o': noArg, 'p': noArg, 'q': noArg, 's': noArg, 't': noArg,
		'u': noArg, 'v': noArg, 'w': noArg, 'x': noArg, 'y': noArg},
	long: map[string]hasArg{
		"database": noArg, "files": noArg, "query": noArg, "remove": noArg, "sync": noArg, "deptest": noArg,
		"upgrade": noArg, "version": noArg, "help": noArg,
		"dbpath": requiredArg, "root": requiredArg, "sysroot": requiredArg, "config": requiredArg,
		"ignore": requiredArg, "assume-installed": requiredArg, "overwrite": requiredArg, "ask": requiredArg,
		"cachedir": requiredArg, "hookdir": requiredArg, "logfile": requiredArg, "ignoregroup": requiredArg,
		"arch": requiredArg, "print-format": requiredArg, "gpgdir": requiredArg, "color": requiredArg,
		"debug":   optionalArg,
		"cascade": noArg, "changelog": noArg, "clean": noArg, "nodeps": noArg, "deps": noArg, "explicit": noArg,
		"groups": noArg, "info": noArg, "check": noArg, "list": noArg, "foreign": noArg, "native": noArg,
		"nosave": noArg, "owns": noArg, "file": noArg, "print": noArg, "quiet": noArg, "recursive": noArg,
		"search": noArg, "regex": noArg, "machinereadable": noArg, "unrequired": noArg, "upgrades": noArg,
		"sysupgrade": noArg, "unneeded": noArg, "verbose": noArg, "downloadonly": noArg, "refresh": noArg,
		"noconfirm": noArg, "confirm": noArg, "force": noArg, "noprogressbar": noArg, "noscriptlet": noArg,
		"asdeps": noArg, "needed": noArg, "asexplicit": noArg, "dbonly": noArg,
		"disable-download-timeout": noArg, "disable-sandbox": noArg,
	},
}

// pacmanOps are the operations (parsearg_op), by short letter and long
// name.
var pacmanOps = map[string]string{"D": "D", "database": "D", "F": "F", "files": "F", "Q": "Q", "query": "Q",
	"R": "R", "remove": "R", "S": "S", "sync": "S", "T": "T", "deptest": "T", "U": "U", "upgrade": "U"}

// pacmanUpgradeOpts are the options -U accepts besides the operations:
// parsearg_trans, parsearg_upgrade and parsearg_global; any other is
// "invalid option".
var pacmanUpgradeOpts = map[string]bool{
	// parsearg_trans
	"d": true, "nodeps": true, "dbonly": true, "noprogressbar": true, "noscriptlet": true, "p": true,
	"print": true, "print-format": true, "assume-installed": true,
	// parsearg_upgrade
	"overwrite": true, "asdeps": true, "asexplicit": true, "needed": true, "ignore": true, "ignoregroup": true,
	"w": true, "downloadonly": true,
	// parsearg_global
	"arch": true, "ask": true, "cachedir": true, "color": true, "config": true, "debug": true, "gpgdir": true,
	"hookdir": true, "logfile": true, "noconfirm": true, "confirm": true, "b": true, "dbpath": true, "r": true,
	"root": true, "sysroot": true, "disable-download-timeout": true, "disable-sandbox": true, "v": true,
	"verbose": true,
}

// pacman follows parseargs: a first pass counts operations (a second one,
// even -U twice, is "only one operation may be used at a time"; -V and -h
// print and exit), a second checks each option against the operation;
// then checkargs_upgrade rejects --asdeps with --asexplicit (and --print
// with --dbonly or --noscriptlet, which installs nothing anyway). -U installs its targets (files or URLs,
// upgrade.c) unless --print, -p or --print-format only prints them or
// --downloadonly/-w only downloads them; without a target it is "no
// targets specified". --dbonly records the packages in the database
// without extracting a file or running a scriptlet (parsearg_trans sets
// ALPM_TRANS_FLAG_DBONLY and ALPM_TRANS_FLAG_NOSCRIPTLET): nothing lands
// on disk, so it is not an install here either.
func pacman(args []string) (Install, bool) {
	var in Install
	ops, exits, targets := 0, false, 0
	set := map[string]bool{}
	ok := pacmanOpts.walk(args, func(name, value, token string) bool {
		if op, isOp := pacmanOps[name]; isOp {
			ops++
			if op == "U" && in.Form == "" {
				in.Form = token
			}
			if op != "U" {
				in.Form = "-" // another operation: not an install
			}
			return true
		}
		switch name {
		case "V", "version", "h", "help":
			exits = true
			return true
		case "color":
			return value == "never" || value == "auto" || value == "always"
		case "debug":
			return value == "" || value == "1" || value == "2"
		}
		set[name] = true
		return true
	}, func(string) { targets++ })
	if !ok || exits || ops != 1 || in.Form == "-" || in.Form == "" || targets == 0 {
		return Install{}, false
	}
	for name := range set {
		if !pacmanUpgradeOpts[name] {
			return Install{}, false // invalid option
		}
	}
	printOnly := set["p"] || set["print"] || set["print-format"]
	if printOnly || set["w"] || set["downloadonly"] || set["dbonly"] || set["asdeps"] && set["asexplicit"] {
		return Install{}, false
	}
	return in, true
}
