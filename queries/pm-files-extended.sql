-- id: pm-files-extended
-- title: Package-manager hook and plugin files, including what the hunt misses
-- description: The hunt's file listing extended to the places its patterns miss:
--   Debian's dist-packages/dnf-plugins, lib64 and /usr/share/yum-plugins,
--   DNF 5's plugin, configuration and actions directories, DNF 4's
--   post-transaction-actions.d, YUM's post-actions, /etc/apt/apt.conf and
--   dpkg's own configuration; and what the other package managers run on
--   their own: pacman's hook directories and pacman.conf, apk's commit hooks
--   and trigger database, libzypp's plugins and zypper's subcommand
--   directory, zypp.conf and the repository and service files (a plugin:
--   URL there runs a program), rpm's macro files (system, /etc/rpm, root's and users'
--   ~/.rpmmacros) and its transaction plugins.
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
   OR f.path = '/etc/pacman.conf'
   OR f.path LIKE '/etc/pacman.d/%%'
   OR f.path LIKE '/usr/share/libalpm/hooks/%'
   OR f.path LIKE '/etc/apk/commit_hooks.d/%'
   OR f.path LIKE '/lib/apk/commit_hooks.d/%'
   OR f.path = '/lib/apk/db/triggers'
   OR f.path = '/lib/apk/db/scripts.tar'
   OR f.path = '/lib/apk/db/scripts.tar.gz'
   OR f.path LIKE '/usr/lib/zypp/plugins/%%'
   OR f.path LIKE '/usr/lib/zypper/commands/%'
   OR f.path = '/etc/zypp/zypp.conf'
   OR f.path LIKE '/etc/zypp/repos.d/%'
   OR f.path LIKE '/etc/zypp/services.d/%'
   OR f.path = '/usr/lib/rpm/macros'
   OR f.path LIKE '/usr/lib/rpm/macros.d/%'
   OR f.path LIKE '/usr/lib/rpm/platform/%%'
   OR f.path LIKE '/etc/rpm/%%'
   OR f.path = '/root/.rpmmacros'
   OR f.path LIKE '/home/%/.rpmmacros'
   OR f.path LIKE '/usr/lib64/rpm-plugins/%'
   OR f.path LIKE '/usr/lib/rpm-plugins/%'
   OR f.path LIKE '/usr/lib/%-linux-gnu%/rpm-plugins/%'
