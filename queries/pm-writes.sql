-- id: pm-writes
-- title: Files changed in package-manager paths, with the writer and its ancestry, package managers' own files left out
-- description: file events in the package-manager paths (pm_file_events,
--   captured by the pkgpersist extension with fanotify) with the process
--   that made the change, its command line and ancestry, and the file's
--   sha256 and owning package after the change. A change is left out only
--   when both hold: a package manager made it (its executable, or one in its
--   ancestry, is a package manager's by path; DNF, YUM and
--   unattended-upgrades, Python scripts, by their script's path, the `#!`
--   file the kernel opened for the exec: the writer's script or one in
--   ancestry_scripts, so their scriptlets too) and a package owns the file.
--   Never by the command line, which the writer chooses: a DNF already
--   running when the capture started has no script known, and its writes
--   to owned files are rows. So an unowned file a maintainer script drops stays, and a
--   process named dpkg elsewhere does not hide anything. What report stacks
--   stacks by writer and file. pm-process-file-events (osquery's audit-based
--   process_file_events, writers excluded by name) is the weaker version.
-- attack: T1546.016, T1543
-- platform: linux
-- interval: 300
-- mode: differential
-- kind: event
-- source: Elastic hunt "Persistence via Package Manager" (its first ES|QL query, over osquery events)
-- false_positives: configuration management and administrators editing hook files; package managers writing files no package owns (caches, logs).
WITH
  pm(path) AS (VALUES ('/usr/bin/apt'), ('/usr/bin/apt-get'), ('/usr/bin/aptitude-curses'),
    ('/usr/bin/dpkg'), ('/usr/bin/rpm'), ('/bin/rpm'), ('/usr/bin/dnf5'), ('/usr/bin/microdnf'),
    ('/usr/libexec/packagekitd'), ('/usr/lib/packagekit/packagekitd'),
    ('/usr/bin/pacman'), ('/sbin/apk'), ('/usr/sbin/apk'), ('/usr/bin/apk'), ('/usr/bin/zypper')),
  pmscript(path) AS (VALUES ('/usr/bin/dnf'), ('/usr/bin/dnf-3'), ('/usr/bin/yum'),
    ('/usr/bin/unattended-upgrade'), ('/usr/sbin/unattended-upgrade'))
SELECT e.eid, e.time, e.action, e.target_path, e.pid, e.path, e.script, e.cmdline, e.ancestry,
       e.ancestry_scripts, e.sha256, e.package, e.manager
FROM pm_file_events e
WHERE e.package = ''
   OR NOT (e.path IN (SELECT path FROM pm)
     OR COALESCE(e.script, '') IN (SELECT path FROM pmscript)
     OR EXISTS (
        SELECT 1 FROM json_each(CASE WHEN json_valid(e.ancestry) THEN e.ancestry ELSE '[]' END) a
        WHERE a.value IN (SELECT path FROM pm))
     OR EXISTS (
        SELECT 1 FROM json_each(CASE WHEN json_valid(e.ancestry_scripts) THEN e.ancestry_scripts ELSE '[]' END) a
        WHERE a.value IN (SELECT path FROM pmscript)))
