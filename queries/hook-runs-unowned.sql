-- id: hook-runs-unowned
-- title: Hooks and plugins that run a file no package installed, or a changed package file
-- description: Files that APT, dpkg, DNF and YUM hooks, transaction actions and
--   plugins make run (command words found on PATH, the commands of wrappers
--   such as nohup and setsid, sh -c strings, interpreters' scripts, #! lines,
--   and plugin modules themselves) that exist in the root and that no Debian
--   or RPM package owns, or whose content no longer has the checksum their
--   package recorded: a planted payload, or an innocent-looking script whose
--   content was replaced.
-- attack: T1546.016
-- platform: linux
-- interval: 3600
-- mode: differential
-- kind: detection
-- source: pkgpersist
-- false_positives: local scripts that an administrator's own hook runs
--   (/usr/local/bin, /opt); plugins installed by hand or with pip; package
--   files an administrator edited.
-- severity: high
-- next: read the file the hook runs and compare it with the package that should own it
SELECT source_table, manager, hook, path, line, word, how, via, target, resolved,
       package, package_modified, sha256
FROM hook_targets
WHERE active = 1 AND target_exists = 1 AND (package = '' OR package_modified = 1)
