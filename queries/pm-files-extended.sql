-- id: pm-files-extended
-- title: Package-manager hook and plugin files, including what the hunt misses
-- description: The hunt's file listing extended to the places its patterns miss:
--   Debian's dist-packages/dnf-plugins, lib64 and /usr/share/yum-plugins,
--   DNF 5's plugin, configuration and actions directories, DNF 4's
--   post-transaction-actions.d, YUM's post-actions, /etc/apt/apt.conf and
--   dpkg's own configuration.
-- attack: T1546.016
-- platform: linux
-- interval: 86400
-- mode: snapshot
-- kind: inventory
-- source: pkgpersist
-- false_positives: every file listed is normal unless its content says otherwise.
SELECT f.path, f.filename, f.type, f.size, f.mode, f.uid, f.gid, f.symlink,
       datetime(f.mtime, 'unixepoch') AS modified
FROM file f
WHERE f.path LIKE '/etc/apt/apt.conf.d/%'
   OR f.path = '/etc/apt/apt.conf'
   OR f.path = '/etc/dpkg/dpkg.cfg'
   OR f.path LIKE '/etc/dpkg/dpkg.cfg.d/%'
   OR f.path LIKE '/usr/lib/python%/site-packages/dnf-plugins/%'
   OR f.path LIKE '/usr/lib/python%/dist-packages/dnf-plugins/%'
   OR f.path LIKE '/usr/lib64/python%/site-packages/dnf-plugins/%'
   OR f.path LIKE '/usr/local/lib/python%/site-packages/dnf-plugins/%'
   OR f.path LIKE '/etc/dnf/plugins/%'
   OR f.path LIKE '/etc/dnf/plugins/post-transaction-actions.d/%'
   OR f.path LIKE '/etc/dnf/libdnf5-plugins/%%'
   OR f.path LIKE '/usr/lib64/libdnf5/plugins/%'
   OR f.path LIKE '/usr/lib/libdnf5/plugins/%'
   OR f.path LIKE '/usr/lib64/dnf5/plugins/%'
   OR f.path LIKE '/usr/lib/yum-plugins/%'
   OR f.path LIKE '/usr/share/yum-plugins/%'
   OR f.path LIKE '/etc/yum/pluginconf.d/%'
   OR f.path LIKE '/etc/yum/post-actions/%'
