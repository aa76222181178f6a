package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// dialect is where the store's SQL differs between its engines. The store
// writes SQLite's SQL; the PostgreSQL engine translates what is only a
// matter of spelling (placeholders, rowid, column types: see pgsql.go),
// and the few expressions whose form differs come from here.
type dialect struct {
	postgres bool
}

// literal quotes s as an SQL string literal (both engines: standard
// strings, a quote doubled).
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// jsonField is the text of key in the JSON object held by the text
// expression expr, ” when it is missing or null.
func (d dialect) jsonField(expr, key string) string {
	if d.postgres {
		return "coalesce((" + expr + ")::jsonb ->> " + literal(key) + ", '')"
	}
	return "coalesce(json_extract(" + expr + ", " + literal(`$."`+strings.ReplaceAll(key, `"`, `\"`)+`"`) + "), '')"
}

// distinctTexts aggregates the distinct values of the text expression
// expr in a group into a JSON array of strings.
func (d dialect) distinctTexts(expr string) string {
	if d.postgres {
		return "json_agg(DISTINCT " + expr + ")::text"
	}
	return "'[' || group_concat(DISTINCT json_quote(" + expr + ")) || ']'"
}

// least and greatest are the smaller and the larger of two values (SQLite
// spells them as the two-argument min and max).
func (d dialect) least(a, b string) string {
	if d.postgres {
		return "LEAST(" + a + ", " + b + ")"
	}
	return "min(" + a + ", " + b + ")"
}

func (d dialect) greatest(a, b string) string {
	if d.postgres {
		return "GREATEST(" + a + ", " + b + ")"
	}
	return "max(" + a + ", " + b + ")"
}

// migration is the statements of migration i (the schema's version i+1).
// PostgreSQL support began at a version where every migration before it
// runs on empty tables: those that only fix up existing rows with
// SQLite's functions are left out there.
func (d dialect) migration(i int) string {
	if d.postgres && i == identityMigration {
		return strings.Replace(migrations[i], identityBackfill, "", 1)
	}
	return migrations[i]
}

// execNumbered runs a statement whose placeholders are numbered (?1, ?2,
// …) with the leading arguments it names: one list of arguments can then
// serve a run of statements, although PostgreSQL, unlike SQLite, refuses
// an argument a statement does not take.
func execNumbered(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	n := len(args)
	for n > 0 && !strings.Contains(query, "?"+strconv.Itoa(n)) {
		n--
	}
	return tx.ExecContext(ctx, query, args[:n]...)
}
