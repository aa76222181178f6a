-- id: elastic-pm-files
-- title: Package-manager configuration and plugin files (Elastic hunt, corrected)
-- description: Lists the files in APT, DNF and YUM configuration and plugin
--   directories with owner, group, times and size: the osquery query of
--   Elastic's hunt "Persistence via Package Manager", faithful to its
--   patterns.
-- attack: T1546.016
-- platform: linux
-- interval: 86400
-- mode: snapshot
-- kind: inventory
-- source: elastic/detection-rules hunting/linux/docs/persistence_via_package_manager.md
-- false_positives: every file listed is normal unless its content says otherwise;
--   compare runs with `pkgpersist diff`. Access and status-change times are
--   volatile: reading a file sets its access time, and setting an access time
--   (touch -a, backup tools that restore it) sets its status-change time, so
--   neither makes a file a new row; both are still stored and shown.
-- volatile: file_last_access_time, file_last_status_change_time
-- fixes: aliases with spaces (`group owner`, `file_last_access time`, ...) do not
--   parse and are written with underscores; `group` is a keyword, so the group
--   alias is `group_owner`.
--   ATT&CK: the hunt lists T1546.004 (Unix Shell Configuration Modification) and
--   T1059.004; persistence through a package manager is T1546.016 (Installer Packages).
SELECT
    f.filename,
    f.path,
    u.username AS file_owner,
    g.groupname AS group_owner,
    datetime(f.atime, 'unixepoch') AS file_last_access_time,
    datetime(f.mtime, 'unixepoch') AS file_last_modified_time,
    datetime(f.ctime, 'unixepoch') AS file_last_status_change_time,
    datetime(f.btime, 'unixepoch') AS file_created_time,
    f.size AS size_bytes
FROM
    file f
LEFT JOIN
    users u ON f.uid = u.uid
LEFT JOIN
    groups g ON f.gid = g.gid
WHERE
    f.path LIKE '/etc/apt/apt.conf.d/%'
    OR f.path LIKE '/usr/lib/python%/site-packages/dnf-plugins/%'
    OR f.path LIKE '/etc/dnf/plugins/%'
    OR f.path LIKE '/usr/lib/yum-plugins/%'
    OR f.path LIKE '/etc/yum/pluginconf.d/%'
