-- id: packages-from-local-file
-- title: Packages installed from a local file or from no known repository
-- description: Installed package versions that no configured repository
--   offers and that the package manager installed from a file (dpkg -i of a
--   .deb, apt install ./x.deb; for rpm, rpm -i or dnf install of a file), or
--   whose origin no list and no log can account for while package lists
--   exist, or (rpm) that no DNF or YUM history records although it was
--   installed after the history began: rpm -i of a file. For rpm "after"
--   rests on the package's record number in rpm's database, newer than a
--   package DNF or YUM installed, whatever install time it carries (rpm
--   records SOURCE_DATE_EPOCH as the install time). Attackers persist
--   by installing their own package, whose postinst or %post runs as root
--   (PANIX --malicious-package installs it with dpkg -i / rpm -i --force).
-- attack: T1546.016
-- platform: linux
-- interval: 3600
-- mode: differential
-- kind: detection
-- source: pkgpersist
-- false_positives: vendor agents and tools installed from a downloaded .deb or
--   .rpm (browsers, VPN and EDR clients, monitoring agents); packages built
--   locally; versions a repository has since dropped (no list offers them any
--   more) when the logs that recorded their install were rotated away; rpm
--   packages installed by rpm on purpose (rpm -i of a vendor .rpm, a
--   kickstart or image build that runs rpm after DNF's first transaction)
--   or whose DNF history was deleted or reset; on Berkeley DB and NDB
--   databases that rpm --rebuilddb renumbered in their own order, packages
--   of the initial install. Not found: rpm packages
--   installed before any DNF or YUM history exists (a host whose first
--   package manager run came after the attacker's rpm -i); an rpm -i with
--   a backdated install time made after DNF's first transaction and before
--   a later one replaced every package the earlier ones installed.
-- severity: low
-- next: check that the package's origin is one your administrators installed on purpose
SELECT manager, package, version, arch, source, reason, installed_by, requested_by, logged_at
FROM package_origins
WHERE source = 'local-file'
   OR (source = 'unknown' AND in_repository = 0 AND reason NOT LIKE 'no apt package lists%')
   OR (manager = 'rpm' AND source = 'unknown' AND reason LIKE 'no package manager history records it (rpm -i?)%')
