-- id: disabled-but-imported
-- title: DNF plugins that are disabled but still run code
-- description: DNF 4 imports every module on its plugin path before it reads
--   enabled=; module-level code of a disabled plugin runs every time DNF
--   starts. Lists such modules, and modules without any plugin class.
-- attack: T1546.016
-- platform: linux
-- interval: 3600
-- mode: differential
-- kind: detection
-- source: pkgpersist
-- false_positives: plugins an administrator disabled on purpose (their code
--   still runs; check it).
-- severity: high
-- next: read the plugin file in path: code that runs while the plugin is disabled is hidden on purpose
SELECT name, path, reason, package FROM dnf_plugins
  WHERE manager = 'dnf' AND imported = 1 AND enabled = 0
