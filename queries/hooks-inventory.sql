-- id: hooks-inventory
-- title: Every package-manager hook, active or not
-- description: All hook rows of APT and dpkg, with their state and
--   provenance, for baselining and for `pkgpersist diff`.
-- attack: T1546.016
-- platform: linux
-- interval: 86400
-- mode: snapshot
-- kind: inventory
-- source: pkgpersist
-- false_positives: not a detection.
SELECT 'apt' AS manager, hook, name, position, command, active, reason, path, line, sha256, package, package_modified
  FROM apt_hooks
UNION ALL
SELECT 'dpkg', hook, '', position, command, active, reason, path, line, sha256, package, package_modified
  FROM dpkg_hooks
