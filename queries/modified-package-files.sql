-- id: modified-package-files
-- title: Package-owned hook and plugin files changed since installation
-- description: Hook, plugin, action and rpm macro files, and the shared
--   objects rpm loads as plugins, whose content no longer has the checksum
--   their package recorded.
-- attack: T1546.016
-- platform: linux
-- interval: 3600
-- mode: differential
-- kind: detection
-- source: pkgpersist
-- false_positives: configuration files an administrator edited (dpkg conffiles,
--   rpm %config files such as /etc/rpm/macros.*).
-- severity: medium
-- next: diff the file in path against the package's copy (dpkg --verify, rpm -V, pacman -Qkk, apk audit) and read what changed
SELECT DISTINCT 'apt_hooks' AS source_table, path, package FROM apt_hooks WHERE package_modified = 1
UNION
SELECT 'dpkg_hooks', path, package FROM dpkg_hooks WHERE package_modified = 1
UNION
SELECT 'dnf_plugins', path, package FROM dnf_plugins WHERE package_modified = 1
UNION
SELECT 'yum_plugins', path, package FROM yum_plugins WHERE package_modified = 1
UNION
SELECT 'package_manager_actions', path, package FROM package_manager_actions WHERE package_modified = 1
UNION
SELECT 'alpm_hooks', path, package FROM alpm_hooks WHERE package_modified = 1
UNION
SELECT 'apk_hooks', path, package FROM apk_hooks WHERE package_modified = 1
UNION
SELECT 'zypp_plugins', path, package FROM zypp_plugins WHERE package_modified = 1
UNION
SELECT 'rpm_macros', path, package FROM rpm_macros WHERE package_modified = 1
UNION
SELECT 'rpm_plugins', path, package FROM rpm_plugins WHERE package_modified = 1
