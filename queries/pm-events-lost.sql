-- id: pm-events-lost
-- title: Package-manager event capture not running, or losing events
-- description: the pkgpersist extension's event sources (pm_event_status)
--   that do not capture (not root, no fanotify, the kernel refused) or that
--   lost events in the kernel before reading them (netlink ENOBUFS, a gap in
--   the process connector's sequence numbers, a fanotify queue overflow), or
--   that added rows without their facts (incomplete: a process that exited
--   before the extension read /proc has an exec row with no argv, which
--   pm-installs cannot match, and no path either when the kernel's report of
--   the file it opened for the exec was lost too).
--   While a source is down or losing, pm-installs, pm-descendants and
--   pm-writes miss what happened on the host: a window with no install is
--   not a window without one. Counters are cumulative since the extension
--   started, so each new loss logs a new row; evicted counts rows the ring
--   pushed out by size or age, which is a loss only for rows no scheduled
--   query had read by then.
-- attack: T1562.001
-- platform: linux
-- interval: 300
-- mode: differential
-- kind: event
-- source: pkgpersist
-- false_positives: an exec storm (a build, a fork bomb test) can overrun the
--   kernel's buffer, and very short processes (a shell script's true, test,
--   sed) can be gone before they are read; compare lost_kernel and
--   incomplete with events.
SELECT source, running, events, kept, lost_kernel, evicted, incomplete, max_events, expiry_seconds, error
FROM pm_event_status
WHERE running = 0 OR lost_kernel > 0 OR incomplete > 0 OR error != ''
