-- id: unowned-hooks
-- title: Package-manager hook commands in files no package owns
-- description: Every command APT or dpkg runs on the host's behalf, and every
--   transaction action of DNF or YUM, that comes from a file no Debian or RPM
--   package installed: the strongest single sign of a planted hook.
-- attack: T1546.016
-- platform: linux
-- interval: 3600
-- mode: differential
-- kind: detection
-- source: pkgpersist
-- false_positives: hooks an administrator or a container image wrote by hand
--   (Docker's Debian images ship /etc/apt/apt.conf.d/docker-clean).
-- severity: high
-- next: read the file in path and find who wrote it; a hook no package installed runs as root on every install
SELECT 'apt' AS manager, hook, command, path, line FROM apt_hooks
  WHERE active = 1 AND package = '' AND path != ''
UNION ALL
SELECT 'dpkg', hook, command, path, line FROM dpkg_hooks
  WHERE active = 1 AND package = ''
UNION ALL
SELECT manager, trigger, command, path, line FROM package_manager_actions
  WHERE enabled = 1 AND package = ''
