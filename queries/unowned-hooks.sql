-- id: unowned-hooks
-- title: Package-manager hook commands in files no package owns
-- description: Every command APT or dpkg runs on the host's behalf, every
--   transaction action of DNF or YUM, every pacman hook libalpm runs on a
--   matching transaction (the exec column is the JSON array of words it
--   executes, line 0), and every apk commit hook apk runs before and after
--   each commit (the hook file itself is the command, line 0), that comes
--   from a file no package installed: the strongest single sign of a planted
--   hook.
-- attack: T1546.016
-- platform: linux
-- interval: 3600
-- mode: differential
-- kind: detection
-- source: pkgpersist
-- false_positives: hooks an administrator or a container image wrote by hand
--   (Docker's Debian images ship /etc/apt/apt.conf.d/docker-clean); pacman
--   hooks copied from the Arch wiki into /etc/pacman.d/hooks (paccache,
--   mkinitcpio or bootloader updates); apk commit hooks an image build added
--   to /etc/apk/commit_hooks.d.
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
UNION ALL
SELECT 'pacman', "when", exec, path, 0 FROM alpm_hooks
  WHERE effective = 1 AND package = ''
UNION ALL
SELECT 'apk', stages, path, path, 0 FROM apk_hooks
  WHERE kind = 'commit_hook' AND runs = 1 AND package = ''
