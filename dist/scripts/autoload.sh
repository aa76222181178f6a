#!/bin/sh
# pkgpersist's postinst and postrm (deb), %post and %postun (rpm): one
# script, because what it keeps true is one thing: osqueryd's autoload list
# names the extension exactly while the extension is installed. The
# arguments do not say which that is (rpm's 1 is a first install in %post
# and an upgrade in %postun); the extension's file does: it is there after
# an install, a reinstall or an upgrade, and gone after a removal, when
# these scripts run. Every other line of the list stays as it is.
# It runs chrooted into minimal roots: POSIX sh builtins only, and mkdir
# when /etc/osquery is missing.
set -e
ext=/usr/lib/pkgpersist/pkgpersist.ext
# osqueryd's default --extensions_autoload
load=/etc/osquery/extensions.load

# osqueryd trims each line of the list (spaces, tabs, a CR): a line that
# trims to the extension's path names it.
ws=" $(printf '\t\r')"
trim() {
	t=${1%"${1##*[!$ws]}"}
	t=${t#"${t%%[!$ws]*}"}
}

# kept: the list's other lines, each with its newline; found: a line named
# the extension; open: the last line had no newline
kept= found= open=
if [ -f "$load" ]; then
	while :; do
		end=
		IFS= read -r l || end=1
		[ -n "$end" ] && [ -z "$l" ] && break
		trim "$l"
		if [ "$t" = "$ext" ]; then
			found=1
		else
			kept="$kept$l
"
		fi
		[ -z "$end" ] || { open=1; break; }
	done <"$load"
fi

if [ -e "$ext" ]; then
	# Appended once, after every line. Without osquery installed the
	# directory and list are made all the same: an osqueryd installed
	# later reads them by default, and they name nothing but a root-owned
	# program.
	[ -d /etc/osquery ] || mkdir -p /etc/osquery
	if [ -z "$found" ]; then
		if [ -n "$open" ]; then
			printf '\n%s\n' "$ext" >>"$load"
		else
			printf '%s\n' "$ext" >>"$load"
		fi
	fi
elif [ -n "$found" ]; then
	# rewritten in place: its mode, owner and label stay
	printf '%s' "$kept" >"$load"
fi

# New or changed units. None is enabled or started here (serve needs its
# enroll secret first, watch is a choice), but an upgrade (deb postinst:
# configure with the version before; rpm %post: 2 or more) restarts those
# running onto the new program, which migrates their store when it opens
# it. A removal stopped them before (preremove.sh).
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
	if [ -e "$ext" ] && { { [ "$1" = configure ] && [ -n "$2" ]; } || [ "$1" -ge 2 ] 2>/dev/null; }; then
		systemctl try-restart pkgpersist-serve.service pkgpersist-watch.service >/dev/null 2>&1 || true
	fi
fi
exit 0
