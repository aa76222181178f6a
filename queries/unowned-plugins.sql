-- id: unowned-plugins
-- title: DNF and YUM plugins no package owns
-- description: Plugin modules DNF or YUM imports, or libdnf5 libraries it
--   loads, that no package installed.
-- attack: T1546.016
-- platform: linux
-- interval: 3600
-- mode: differential
-- kind: detection
-- source: pkgpersist
-- false_positives: plugins installed by hand from a vendor's instructions.
-- severity: high
-- next: read the plugin file in path and find who installed it; DNF and YUM load it as root
SELECT name, manager, path, enabled, imported, reason FROM dnf_plugins
  WHERE imported = 1 AND package = ''
UNION ALL
SELECT name, manager, path, enabled, imported, reason FROM yum_plugins
  WHERE imported = 1 AND package = ''
