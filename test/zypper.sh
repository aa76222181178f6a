#!/usr/bin/env bash
# Puts Debian's zypper where the zypp_plugins oracle finds it (test/need's
# Unpacked): unpacked, not installed. Debian 12's dnf-plugins-core declares
# Breaks: zypper (both ship needs-restarting), and the DNF oracles need
# dnf-plugins-core, so apt would remove one whenever it installs the other.
# Only the zypper package itself is broken: its Depends (libzypp, zypper's
# data in zypper-common) install normally, and its .deb is unpacked with
# dpkg-deb -x into $PKGPERSIST_TEST_UNPACKED/zypper (default
# /opt/pkgpersist-test/zypper), out of dpkg's sight.
#
# Run by test/deps.sh. Does nothing when the unpacked zypper runs and
# matches the installed zypper-common (same source package: an upgrade of
# one re-unpacks the other).
set -euo pipefail

dir="${PKGPERSIST_TEST_UNPACKED:-/opt/pkgpersist-test}/zypper"
zypper="$dir/usr/bin/zypper"

installed_version() {
  dpkg-query -W -f '${db:Status-Status} ${Version}' "$1" 2>/dev/null | sed -n 's/^installed //p'
}

if [ -x "$zypper" ] && "$zypper" --version >/dev/null 2>&1 &&
  [ "$(cat "$dir/.version" 2>/dev/null)" = "$(installed_version zypper-common)" ]; then
  exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  if [ -n "${CI:-}" ]; then
    echo "deps: CI needs zypper unpacked into $dir and cannot do it (not root or no apt-get)" >&2
    exit 1
  fi
  echo "deps: zypper is not unpacked into $dir; the zypp_plugins oracle tests will be skipped" >&2
  exit 0
fi

echo "deps: unpacking zypper into $dir" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# apt-get download fetches as the _apt user where it can write
chown _apt "$tmp" 2>/dev/null || true
# deps.sh ran apt-get update only when it installed something
(cd "$tmp" && apt-get download -qq zypper 2>/dev/null) ||
  { apt-get update -qq && (cd "$tmp" && apt-get download -qq zypper); }
deb=$(echo "$tmp"/zypper_*.deb)

# zypper's own Depends (no alternatives in Debian 12's), without the
# version bounds; libzypp-config as well: the /etc/zypp/zypp.conf and
# systemCheck that Debian's zypper comes with (a Recommends of libzypp).
# Only the missing ones (apt-get install upgrades a package it is named,
# and libc6 is one of them), and zypper-common always: it comes at the
# .deb's version, which the check above compares with.
install=(zypper-common)
for p in $(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*)//') libzypp-config; do
  [ -n "$(installed_version "$p")" ] || install+=("$p")
done
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${install[@]}" >&2

# unpacked beside, then moved in: an interrupted run leaves no half tree
rm -rf "$dir.new"
mkdir -p "$dir.new"
dpkg-deb -x "$deb" "$dir.new"
dpkg-deb -f "$deb" Version >"$dir.new/.version"
"$dir.new/usr/bin/zypper" --version >&2
rm -rf "$dir"
mv "$dir.new" "$dir"
