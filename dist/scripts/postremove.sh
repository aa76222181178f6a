#!/bin/sh
# pkgpersist's postrm (deb: remove, purge, upgrade, failed-upgrade,
# abort-install, abort-upgrade, disappear) and %postun (rpm: $1 is 0 on
# erase, 1 when an upgrade removes the old package after the new one's
# %post). Only when the package goes away is the extension's line taken out
# of osqueryd's autoload list; every other line stays, and so does the file,
# empty or not. An upgrade keeps it. Purge removes what dpkg knows
# (serve.env); it leaves the store in /var/lib/pkgpersist, and the secrets
# in /etc/pkgpersist, which the administrator made and removes by hand.
# POSIX sh builtins only: it runs chrooted into minimal roots.
set -e
ext=/usr/lib/pkgpersist/pkgpersist.ext
load=/etc/osquery/extensions.load

# osqueryd trims each line of the list (spaces, tabs, a CR): every line
# that trims to the extension's path goes; the others stay byte for byte.
ws=" $(printf '\t\r')"
trim() {
	t=${1%"${1##*[!$ws]}"}
	t=${t#"${t%%[!$ws]*}"}
}

case "$1" in
remove | purge | disappear | 0)
	if [ -f "$load" ]; then
		kept= found=
		while IFS= read -r l || [ -n "$l" ]; do
			trim "$l"
			if [ "$t" = "$ext" ]; then
				found=1
			else
				kept="$kept$l
"
			fi
		done <"$load"
		# rewritten in place: its mode, owner and label stay
		[ -z "$found" ] || printf '%s' "$kept" >"$load"
	fi
	;;
esac

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
