-- id: pm-file-events
-- title: File changes in package-manager hook and plugin directories
-- description: osquery's file integrity events (file_events) in the directories
--   the hunt watches: the example config puts them in the FIM category
--   package_manager. The collector stacks them by process and path.
-- attack: T1546.016
-- platform: linux
-- interval: 300
-- mode: differential
-- kind: event
-- source: Elastic hunt "Persistence via Package Manager" (its first ES|QL query, over osquery events)
-- false_positives: package installs and upgrades change these files.
SELECT target_path, category, action, uid, gid, mode, size, sha256, time
FROM file_events
WHERE category = 'package_manager'
