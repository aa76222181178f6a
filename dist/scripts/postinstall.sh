#!/bin/sh
# pkgpersist's postinst (deb: configure, or abort-* when a removal or an
# upgrade is undone) and %post (rpm: $1 is 1 on install, 2 on upgrade): in
# every case the package stays installed, so its extension is named in
# osqueryd's autoload list. It runs chrooted into minimal roots: POSIX sh
# builtins only, mkdir only when /etc/osquery is missing.
set -e
ext=/usr/lib/pkgpersist/pkgpersist.ext
# osqueryd's default --extensions_autoload
load=/etc/osquery/extensions.load

# The list gets the line once, after every line it had, which are kept as
# they are. Without osquery installed the directory and file are made all
# the same: an osqueryd installed later reads them by default, and they
# name nothing but a root-owned program.
# osqueryd trims each line of the list (spaces, tabs, a CR), so a line
# that trims to the extension's path names it already.
ws=" $(printf '\t\r')"
trim() {
	t=${1%"${1##*[!$ws]}"}
	t=${t#"${t%%[!$ws]*}"}
}
[ -d /etc/osquery ] || mkdir -p /etc/osquery
found= l=
if [ -f "$load" ]; then
	while IFS= read -r l; do
		trim "$l"
		[ "$t" = "$ext" ] && found=1
	done <"$load"
	# read fails on a last line without its newline and leaves it in l
	trim "$l"
	[ "$t" = "$ext" ] && found=1
fi
if [ -z "$found" ]; then
	if [ -n "$l" ]; then
		printf '\n%s\n' "$ext" >>"$load"
	else
		printf '%s\n' "$ext" >>"$load"
	fi
fi

# New or changed units. None is enabled or started here (serve needs its
# enroll secret first, watch is a choice), but on an upgrade (deb:
# configure with the version before; rpm: 2) those running are restarted
# onto the new program, which migrates their store when it opens it.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
	if [ -n "$2" ] || [ "$1" -ge 2 ] 2>/dev/null; then
		systemctl try-restart pkgpersist-serve.service pkgpersist-watch.service >/dev/null 2>&1 || true
	fi
fi
exit 0
