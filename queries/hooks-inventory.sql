-- id: hooks-inventory
-- title: Every package-manager hook, active or not
-- description: All hook rows of APT, dpkg, pacman (alpm_hooks: hook is
--   When, command the JSON array of Exec words), apk (commit hooks, and
--   package triggers: hook is `trigger` and the globs, command and sha256
--   the trigger script's entry of scripts.tar), libzypp and zypper
--   (zypp_plugins: hook is the plugin kind), rpm's transaction plugins
--   (rpm_plugins: command is the %__transaction_<name> value, path and
--   sha256 the shared object), and rpm macros that run code or choose
--   plugins (rpm_macros rows of files rpm loads with shell, Lua, a macro
--   file load or a category: hook is the category, or shell, lua or load;
--   name the macro), with
--   their state and provenance, for baselining and for `pkgpersist diff`.
--   active is 1 for what the manager runs (libalpm's effective hooks, apk
--   and zypp runs, rpm's loaded plugins, effective macros); line is 0 where
--   the table has none; position is '' where the manager has no order.
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
UNION ALL
SELECT 'pacman', "when", name, '', exec, effective, reason, path, 0, sha256, package, package_modified
  FROM alpm_hooks
UNION ALL
SELECT 'apk', CASE kind WHEN 'trigger' THEN 'trigger ' || triggers ELSE kind END, name, position,
       CASE kind WHEN 'trigger' THEN script ELSE path END, runs, reason, path, 0,
       CASE kind WHEN 'trigger' THEN script_sha256 ELSE sha256 END, package, package_modified
  FROM apk_hooks
UNION ALL
SELECT CASE kind WHEN 'subcommand' THEN 'zypper' ELSE 'libzypp' END, kind, name, '', path, runs, reason, path, 0,
       sha256, package, package_modified
  FROM zypp_plugins
UNION ALL
SELECT 'rpm', 'transaction plugin', name, '', macro, loaded, reason, path, 0, sha256, package, package_modified
  FROM rpm_plugins
UNION ALL
SELECT 'rpm', CASE WHEN category != '' THEN category WHEN shell = 1 THEN 'shell' WHEN lua = 1 THEN 'lua' ELSE 'load' END, name, '',
       value, effective, reason, path, line, sha256, package, package_modified
  FROM rpm_macros
  WHERE loaded = 1 AND name != '' AND (shell = 1 OR lua = 1 OR loads = 1 OR category != '')
