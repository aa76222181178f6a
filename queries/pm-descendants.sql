-- id: pm-descendants
-- title: Processes started under APT, dpkg, DNF, YUM, rpm, pacman, apk, zypper or unattended-upgrades, by executable path
-- description: exec events (pm_process_events, captured by the pkgpersist
--   extension) with a package manager anywhere in their ancestry as it was
--   at the exec, matched by executable path (/proc/PID/exe, which a process
--   cannot choose), not by name: what report stacks stacks by executable.
--   Children of children count (a hook's sh -c that runs curl). DNF, YUM and
--   unattended-upgrades are Python scripts, whose executable is the
--   interpreter: they are recognised by their script's path in
--   ancestry_scripts (the `#!` file the kernel opened for the exec, at any
--   depth); one already running when the capture started has no script
--   known, and is recognised on the parent's command line by its script's
--   path (the kernel puts it after the interpreter), so only its direct
--   children. pm-children (osquery's process_events, parent by name,
--   direct children only, and only when the parent's exec was captured too)
--   is the weaker version for hosts without the extension.
-- attack: T1546.016, T1059.004
-- platform: linux
-- interval: 300
-- mode: differential
-- kind: event
-- source: Elastic hunt "Persistence via Package Manager" (its second ES|QL query, over osquery events)
-- false_positives: every hook and maintainer script runs this way.
WITH
  pm(path) AS (VALUES ('/usr/bin/apt'), ('/usr/bin/apt-get'), ('/usr/bin/aptitude-curses'),
    ('/usr/bin/dpkg'), ('/usr/bin/rpm'), ('/bin/rpm'), ('/usr/bin/dnf5'), ('/usr/bin/microdnf'),
    ('/usr/libexec/packagekitd'), ('/usr/lib/packagekit/packagekitd'),
    ('/usr/bin/pacman'), ('/sbin/apk'), ('/usr/sbin/apk'), ('/usr/bin/apk'), ('/usr/bin/zypper')),
  pmscript(path) AS (VALUES ('/usr/bin/dnf'), ('/usr/bin/dnf-3'), ('/usr/bin/yum'),
    ('/usr/bin/unattended-upgrade'), ('/usr/sbin/unattended-upgrade'))
SELECT e.eid, e.time, e.pid, e.path, e.script, e.cmdline, e.cwd, e.uid,
       e.ppid AS parent_pid, e.parent_path, e.parent_cmdline, e.ancestry, e.ancestry_scripts
FROM pm_process_events e
WHERE e.event = 'exec'
  AND (EXISTS (
        SELECT 1 FROM json_each(CASE WHEN json_valid(e.ancestry) THEN e.ancestry ELSE '[]' END) a
        WHERE a.value IN (SELECT path FROM pm))
    OR EXISTS (
        SELECT 1 FROM json_each(CASE WHEN json_valid(e.ancestry_scripts) THEN e.ancestry_scripts ELSE '[]' END) a
        WHERE a.value IN (SELECT path FROM pmscript))
    OR (e.parent_path GLOB '/usr/bin/python*' AND EXISTS (
        SELECT 1 FROM pmscript s WHERE (' ' || e.parent_cmdline || ' ') GLOB ('* ' || s.path || ' *'))))
