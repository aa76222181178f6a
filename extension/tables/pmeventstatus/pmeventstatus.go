// Package pmeventstatus is the pm_event_status table: for each event
// source of the extension, whether it runs and what it lost, so that a
// query over the evented tables can tell a quiet window from a lossy one.
package pmeventstatus

import (
	"context"
	"strconv"

	"github.com/pkgpersist/pkgpersist/extension/events"
	"github.com/pkgpersist/pkgpersist/extension/table"
)

// Name is the table's name.
const Name = "pm_event_status"

// sources are the source names, in the order of events.Sources.Rings.
var sources = [...]string{"process", "file"}

// Table returns the table over src.
func Table(src *events.Sources) *table.Table {
	col := func(name string, t table.Type, desc string) table.Column {
		return table.Column{Name: name, Type: t, Description: desc}
	}
	return &table.Table{
		Name:        Name,
		Description: "One row per event source of the extension (`process` for `pm_process_events`, `file` for `pm_file_events`): whether it captures, how many events it added, kept, lost in the kernel and pushed out of its ring. A window whose events were lost says so here; a source that does not run says why in `error`.",
		Evented:     true,
		Columns: []table.Column{
			col("source", table.Text, "`process` or `file`"),
			col("running", table.Integer, "1 while the source captures"),
			col("events", table.BigInt, "Rows added since the extension started"),
			col("kept", table.BigInt, "Rows in the ring now"),
			col("lost_kernel", table.BigInt, "Events the kernel dropped before the extension read them (netlink ENOBUFS or a gap in the connector's sequence numbers, and overflows of the queue of files opened for execution, for `process`; fanotify queue overflow for `file`)"),
			col("evicted", table.BigInt, "Rows pushed out of the ring by `--events_max`, `--events_max_bytes` or `--events_expiry`"),
			col("evicted_unread", table.BigInt, "Of `evicted`, the rows no query had read when they were pushed out: events no result logged"),
			col("incomplete", table.BigInt, "Rows added without all their facts: `exec` rows of a process that was gone before the extension could read /proc (empty `argv` and `cwd`; `path` from fanotify, empty when its open was lost too), file rows whose writer is not known (empty `path`: gone, or it exec'd while the write may have been made)"),
			col("oldest_eid", table.BigInt, "eid of the oldest row kept; 0 when none"),
			col("newest_eid", table.BigInt, "eid of the newest row kept; 0 when none"),
			col("oldest_time", table.BigInt, "time of the oldest row kept; 0 when none"),
			col("max_events", table.BigInt, "The ring's size bound (`--events_max`)"),
			col("expiry_seconds", table.BigInt, "The ring's age bound (`--events_expiry`)"),
			col("bytes", table.BigInt, "Bytes the kept rows hold (their text and each row's own bookkeeping)"),
			col("max_bytes", table.BigInt, "The ring's byte bound (`--events_max_bytes`): long command lines push the oldest rows out before `--events_max` does"),
			col("error", table.Text, "Why the source does not run; `''` when it does"),
		},
		Generate: func(context.Context, table.QueryContext) ([]table.Row, error) {
			var out []table.Row
			for i, r := range src.Rings() {
				if r == nil {
					out = append(out, table.Row{"source": sources[i], "running": "0", "events": "0", "kept": "0",
						"lost_kernel": "0", "evicted": "0", "evicted_unread": "0", "incomplete": "0", "oldest_eid": "0", "newest_eid": "0", "oldest_time": "0",
						"max_events": "0", "expiry_seconds": "0", "bytes": "0", "max_bytes": "0", "error": events.NoSource(Name).Error()})
					continue
				}
				out = append(out, Row(r.Status()))
			}
			return out, nil
		},
	}
}

// Row renders one source's status.
func Row(s events.Status) table.Row {
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	return table.Row{
		"source": s.Source, "running": table.Bool(s.Running), "events": n(s.Events), "kept": n(s.Kept),
		"lost_kernel": n(s.LostKernel), "evicted": n(s.Evicted), "evicted_unread": n(s.EvictedUnread), "incomplete": n(s.Incomplete), "oldest_eid": n(s.OldestEID),
		"newest_eid": n(s.NewestEID), "oldest_time": n(s.OldestTime), "max_events": n(int64(s.Max)),
		"expiry_seconds": n(s.ExpirySeconds), "bytes": n(s.Bytes), "max_bytes": n(s.MaxBytes), "error": s.Error,
	}
}
