#!/usr/bin/env bash
# Installs the system programs the tests use, when they are missing. Tests
# that need one skip without it on a developer's machine but fail in CI
# (CI set), so CI must have them all: there, as root, they are installed.
set -euo pipefail

# check command : Debian package
needs=(
  "command -v apt-config:apt"
  "command -v dpkg:dpkg"
  "command -v unshare:util-linux"
  # the watch test's rpm runs its %post chrooted into a throwaway root:
  # a static shell there
  "command -v busybox:busybox-static"
  # the watch service's unit is checked with systemd-analyze verify
  "command -v systemd-analyze:systemd"
  # the man pages are rendered with man --warnings (which verify also
  # asks for each unit's Documentation=), the zsh completion loaded by zsh
  "command -v man:man-db"
  "command -v zsh:zsh"
  "command -v dnf:dnf"
  "command -v rpmbuild:rpm"
  "command -v db5.3_load:db5.3-util"
  "test -x /usr/sbin/sshd:openssh-server"
  "command -v ssh:openssh-client"
  "test -e /usr/lib/python3/dist-packages/dnfpluginscore:dnf-plugins-core"
  # alpm_hooks' oracle: Debian's pacman installs a package into a fixture
  # root and runs its hooks (makepkg is pacman's package builder)
  "command -v pacman:pacman-package-manager"
  "command -v makepkg:makepkg"
  # provenance's pacman oracle writes a package's .MTREE as makepkg does,
  # with bsdtar --format=mtree
  "command -v bsdtar:libarchive-tools"
  # make dist: static builds for amd64 (musl) and arm64 (static glibc);
  # its tests run them in an empty root, arm64 through qemu, and read the
  # ELF headers with readelf and file
  "command -v musl-gcc:musl-tools"
  "command -v aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu"
  "test -e /usr/aarch64-linux-gnu/lib/libc.a:libc6-dev-arm64-cross"
  "command -v qemu-aarch64-static:qemu-user-static"
  "command -v readelf:binutils"
  "command -v file:file"
  # the store's contract tests and the replica load test run a real
  # PostgreSQL (initdb and pg_ctl on a temporary directory)
  "ls /usr/lib/postgresql/*/bin/initdb:postgresql"
  # the web report's acceptance test renders it in headless Chromium
  "command -v chromium:chromium"
)

missing=()
for n in "${needs[@]}"; do
  bash -c "${n%%:*}" >/dev/null 2>&1 || missing+=("${n##*:}")
done

if [ ${#missing[@]} -eq 0 ]; then
  :
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "deps: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
elif [ -n "${CI:-}" ]; then
  echo "deps: CI needs ${missing[*]} and cannot install them (not root or no apt-get)" >&2
  exit 1
else
  echo "deps: missing ${missing[*]}; the tests that need them will be skipped" >&2
fi

# zypp_plugins' oracle: Debian's zypper, which cannot be installed next to
# dnf-plugins-core (Breaks: zypper); it is unpacked instead, after the
# installs above (their apt-get update, and dnf-plugins-core first)
exec "$(dirname "$0")/zypper.sh"
