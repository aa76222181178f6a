// Package queries holds the hunt's queries, one per .sql file with its
// metadata header, embedded in the collector.
package queries

import "embed"

// FS is the query files.
//
//go:embed *.sql
var FS embed.FS
