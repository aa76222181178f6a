-- id: pm-children
-- title: Processes started by APT, DNF, YUM, pacman, apk, zypper or PackageKit
-- description: process_events whose parent is apt, apt-get, aptitude,
--   unattended-upgrades, dnf, yum, pacman, apk, zypper or packagekitd, with the parent's command line:
--   what the hunt's second query stacks by executable. Weaker than
--   pm-descendants, for hosts without the pkgpersist extension: the parent
--   is matched by name (which any program can take), only direct children
--   count, and only when the parent's own exec was captured too.
-- attack: T1546.016, T1059.004
-- platform: linux
-- interval: 300
-- mode: differential
-- kind: event
-- source: Elastic hunt "Persistence via Package Manager" (its second ES|QL query, over osquery events)
-- false_positives: every hook and maintainer script runs this way.
SELECT c.pid, c.path, c.cmdline, c.cwd, c.uid, c.time,
       p.pid AS parent_pid, p.path AS parent_path, p.cmdline AS parent_cmdline
FROM process_events c
JOIN process_events p ON p.pid = c.parent
WHERE p.path LIKE '%/apt' OR p.path LIKE '%/apt-get' OR p.path LIKE '%/aptitude'
   OR p.path LIKE '%/dnf' OR p.path LIKE '%/dnf-3' OR p.path LIKE '%/yum'
   OR p.path LIKE '%/packagekitd'
   OR p.path LIKE '%/pacman' OR p.path LIKE '%/apk' OR p.path LIKE '%/zypper'
   OR p.cmdline LIKE '%unattended-upgrade%'
