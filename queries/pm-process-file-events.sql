-- id: pm-process-file-events
-- title: Files changed in package-manager directories, with the process
-- description: process_file_events (osquery's audit-based FIM, which names
--   the writing process) in the APT, dpkg, DNF and YUM hook and plugin
--   directories: what the hunt's first stacking query stacks by process
--   executable and file path (pkgpersist report stacks). Weaker than
--   pm-writes, for hosts without the pkgpersist extension: it needs the
--   audit subsystem set up for it, has no ancestry, and report stacks
--   leaves package managers out by process name.
-- attack: T1546.016, T1543
-- platform: linux
-- interval: 300
-- mode: differential
-- kind: event
-- source: Elastic hunt "Persistence via Package Manager" (its first ES|QL query, over osquery events)
-- false_positives: package managers and configuration management writing their own files; the stacking keeps the rare ones.
SELECT operation, executable, path, dest_path, pid, ppid, uid, time
FROM process_file_events
WHERE path LIKE '/etc/apt/apt.conf.d/%'
   OR path LIKE '/etc/dpkg/dpkg.cfg.d/%'
   OR path LIKE '/etc/dnf/plugins/%'
   OR path LIKE '/etc/dnf/libdnf5-plugins/%'
   OR path LIKE '/etc/yum/pluginconf.d/%'
   OR path LIKE '/etc/yum/post-actions/%'
   OR path LIKE '/usr/lib/python%/site-packages/dnf-plugins/%'
   OR path LIKE '/usr/lib/python%/dist-packages/dnf-plugins/%'
   OR path LIKE '/usr/lib64/python%/site-packages/dnf-plugins/%'
   OR path LIKE '/usr/lib/yum-plugins/%'
   OR path LIKE '/usr/share/yum-plugins/%'
   OR path LIKE '/usr/lib64/libdnf5/plugins/%'
