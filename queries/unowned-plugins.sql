-- id: unowned-plugins
-- title: Package-manager plugins no package owns
-- description: Plugin modules DNF or YUM imports, or libdnf5 libraries it
--   loads; libzypp's commit, system, appdata, service, URL resolver and
--   repository verification plugins and zypper's zypper-<command> subcommands that would run
--   (manager libzypp or zypper); and the shared objects rpm dlopens into
--   every transaction as %__transaction_<name> plugins (manager rpm; path is
--   the object the macro names, which need not be the <name>.so of the
--   plugin directory): each from a file no package installed.
-- attack: T1546.016
-- platform: linux
-- interval: 3600
-- mode: differential
-- kind: detection
-- source: pkgpersist
-- false_positives: plugins installed by hand from a vendor's instructions;
--   zypper-<command> helpers an administrator put in /usr/local/bin; rpm
--   plugins built from source into %{__plugindir}.
-- severity: high
-- next: read the plugin file in path and find who installed it; the package manager runs or loads it as root
SELECT name, manager, path, enabled, imported, reason FROM dnf_plugins
  WHERE imported = 1 AND package = ''
UNION ALL
SELECT name, manager, path, enabled, imported, reason FROM yum_plugins
  WHERE imported = 1 AND package = ''
UNION ALL
SELECT name, CASE kind WHEN 'subcommand' THEN 'zypper' ELSE 'libzypp' END, path, runs, runs, reason
  FROM zypp_plugins
  WHERE runs = 1 AND package = ''
UNION ALL
SELECT name, 'rpm', path, loaded, loaded, reason FROM rpm_plugins
  WHERE loaded = 1 AND package = ''
