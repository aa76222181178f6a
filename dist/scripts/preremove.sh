#!/bin/sh
# pkgpersist's prerm (deb: remove, upgrade, deconfigure, failed-upgrade)
# and %preun (rpm: $1 is 0 on erase, 1 when an upgrade removes the old
# package). When the package goes away its services are stopped and
# disabled while their program is still there; an upgrade leaves them to
# postinst, which restarts those that run.
set -e
case "$1" in
remove | 0)
	if [ -d /run/systemd/system ]; then
		systemctl --no-reload disable --now pkgpersist-serve.service pkgpersist-watch.service >/dev/null 2>&1 || true
	fi
	;;
esac
exit 0
