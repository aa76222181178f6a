-- id: pm-installs
-- title: rpm, dpkg, pacman and apk package installs with their parent as it was at the exec
-- description: exec events of rpm, dpkg, pacman or apk (pm_process_events,
--   captured by the pkgpersist extension) with an install-like argument, each
--   argument tested on its own from the exact argv (-i, --install, clustered
--   short options such as -ivh or -Uvh, -U, --upgrade, -F, --freshen,
--   --reinstall; dpkg -i, --install, --unpack; pacman -U or --upgrade (or an
--   abbreviation getopt_long takes), which install package files; apk add with a .apk file; zypper installs by
--   running rpm, whose exec is matched, while DNF runs librpm in its own
--   process), with the parent's path and command line and the
--   ancestry up to init as they were at the exec: also for a parent started
--   long before (a web server, a cron daemon, a dropper), which pkg-installs
--   (osquery's process_events joined to itself on the parent's pid) misses.
--   A parent that is a script (dnf, yum, unattended-upgrade, a dropper in
--   Python) is named by its script's path too (parent_script, the `#!` file
--   the kernel opened for its exec; parent_path is the interpreter).
--   report new-terms reads these rows and pkg-installs'.
-- attack: T1546.016, T1543
-- platform: linux
-- interval: 300
-- mode: differential
-- kind: event
-- source: Elastic rule "RPM Package Installed by Unusual Parent Process" (and its dpkg twin)
-- false_positives: administrators and configuration management install packages.
SELECT e.eid, e.time, e.pid, e.path, e.cmdline, e.argv, e.cwd, e.uid, e.euid,
       e.ppid AS parent_pid, e.parent_path,
       COALESCE(json_extract(CASE WHEN json_valid(e.ancestry_scripts) THEN e.ancestry_scripts ELSE '[]' END, '$[0]'), '') AS parent_script,
       e.parent_cmdline, e.ancestry, e.ancestry_scripts
FROM pm_process_events e
WHERE e.event = 'exec'
  AND ((e.path LIKE '%/rpm' AND EXISTS (
          SELECT 1 FROM json_each(CASE WHEN json_valid(e.argv) THEN e.argv ELSE '[]' END) a
          WHERE a.key > 0 AND (a.value GLOB '-[iUF]*' OR a.value GLOB '-[a-zA-Z]*[iUF]*'
             OR a.value IN ('--install', '--upgrade', '--freshen', '--reinstall'))))
    OR (e.path LIKE '%/dpkg' AND EXISTS (
          SELECT 1 FROM json_each(CASE WHEN json_valid(e.argv) THEN e.argv ELSE '[]' END) a
          WHERE a.key > 0 AND (a.value GLOB '-i*' OR a.value GLOB '-[a-zA-Z]*i*' OR a.value IN ('--install', '--unpack'))))
    OR (e.path LIKE '%/pacman' AND EXISTS (
          SELECT 1 FROM json_each(CASE WHEN json_valid(e.argv) THEN e.argv ELSE '[]' END) a
          WHERE a.key > 0 AND (a.value GLOB '-U*' OR a.value GLOB '-[a-zA-Z]*U*' OR a.value GLOB '--up*')))
    OR (e.path LIKE '%/apk' AND EXISTS (
          SELECT 1 FROM json_each(CASE WHEN json_valid(e.argv) THEN e.argv ELSE '[]' END) a
          WHERE a.key > 0 AND a.value = 'add') AND EXISTS (
          SELECT 1 FROM json_each(CASE WHEN json_valid(e.argv) THEN e.argv ELSE '[]' END) a
          WHERE a.key > 0 AND a.value GLOB '*.apk')))
