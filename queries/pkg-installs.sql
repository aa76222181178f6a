-- id: pkg-installs
-- title: rpm and dpkg package installs with their parent process
-- description: process_events of rpm or dpkg with an install-like argument
--   (-i, --install, clustered short options such as -ivh or -Uvh, -U,
--   --upgrade, -F, --freshen, --reinstall; dpkg -i, --install, --unpack) and
--   the process that started them. The selection is broad on purpose: the
--   collector parses each argv exactly before it alerts. Weaker than
--   pm-installs, for hosts without the pkgpersist extension: the parent is
--   found only when its own exec was captured in the same unexpired window
--   (a long-running parent leaves parent_path empty, and new-terms cannot
--   judge the install), and cmdline is argv joined by spaces.
-- attack: T1546.016, T1543
-- platform: linux
-- interval: 300
-- mode: differential
-- kind: event
-- source: Elastic rule "RPM Package Installed by Unusual Parent Process" (and its dpkg twin)
-- false_positives: administrators and configuration management install packages.
SELECT c.pid, c.path, c.cmdline, c.uid, c.time,
       c.parent AS parent_pid, p.path AS parent_path, p.cmdline AS parent_cmdline
FROM process_events c
LEFT JOIN process_events p ON p.pid = c.parent
WHERE (c.path LIKE '%/rpm' AND (
         (' ' || c.cmdline || ' ') GLOB '* -[iUF]*'
      OR (' ' || c.cmdline || ' ') GLOB '* -[a-zA-Z]*[iUF]*'
      OR (' ' || c.cmdline || ' ') LIKE '% --install %'
      OR (' ' || c.cmdline || ' ') LIKE '% --upgrade %'
      OR (' ' || c.cmdline || ' ') LIKE '% --freshen %'
      OR (' ' || c.cmdline || ' ') LIKE '% --reinstall %'))
   OR (c.path LIKE '%/dpkg' AND (
         (' ' || c.cmdline || ' ') GLOB '* -i*'
      OR (' ' || c.cmdline || ' ') GLOB '* -[a-zA-Z]*i*'
      OR (' ' || c.cmdline || ' ') LIKE '% --install %'
      OR (' ' || c.cmdline || ' ') LIKE '% --unpack %'))
