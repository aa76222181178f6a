package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// The PostgreSQL engine runs the store's SQL, which is SQLite's, through
// pgSQL: what differs only in spelling is translated here, so one
// definition serves both engines (schema, migrations and queries). What
// differs in form comes from dialect.

// IsPostgres tells a PostgreSQL URL (postgres:// or postgresql://) from a
// SQLite file name.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// pgConns is how many connections one process keeps to PostgreSQL:
// unlike SQLite, it runs writers side by side.
const pgConns = 16

func openPostgres(dsn string, opt Options) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", redact(dsn), err)
	}
	db := sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(pgConns)
	db.SetMaxIdleConns(pgConns)
	s := &DB{db: db, d: dialect{postgres: true}, opt: opt}
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", redact(dsn), err)
	}
	return s, nil
}

// Describe names a store for messages: a SQLite file's name, or a
// PostgreSQL URL without its password.
func Describe(dsn string) string {
	if !IsPostgres(dsn) {
		return dsn
	}
	return redact(dsn)
}

// redact is the URL without its password, also when the URL does not
// parse (a message about a bad port must not show the password either).
func redact(dsn string) string {
	// user:password@, up to the last @ before the host; compiled here,
	// not at start-up: only PostgreSQL URLs come here
	userinfo := regexp.MustCompile(`^([a-z]+://[^:/@?#]*):[^/?#]*@`)
	return userinfo.ReplaceAllString(dsn, "${1}:xxxxx@")
}

// pgConnector hands out connections whose statements are translated.
type pgConnector struct{ driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{Conn: conn, cache: map[string]string{}}, nil
}

// pgConn is pgx's connection with each statement translated once.
type pgConn struct {
	driver.Conn
	mu    sync.Mutex
	cache map[string]string
}

// pgCacheMax bounds the translations one connection keeps: statements
// built with a variable number of placeholders are many.
const pgCacheMax = 512

func (c *pgConn) sql(q string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.cache[q]; ok {
		return t
	}
	t := pgSQL(q)
	if len(c.cache) >= pgCacheMax {
		clear(c.cache)
	}
	c.cache[q] = t
	return t
}

func (c *pgConn) Prepare(q string) (driver.Stmt, error) { return c.Conn.Prepare(c.sql(q)) }

func (c *pgConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, c.sql(q))
}

func (c *pgConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, c.sql(q), args)
}

func (c *pgConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, c.sql(q), args)
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *pgConn) Ping(ctx context.Context) error { return c.Conn.(driver.Pinger).Ping(ctx) }

func (c *pgConn) ResetSession(ctx context.Context) error {
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *pgConn) IsValid() bool {
	v, ok := c.Conn.(driver.Validator)
	return !ok || v.IsValid()
}

// CheckNamedValue stores a bool as SQLite does, 1 or 0: the schema's
// flags are integers on both engines.
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	if b, ok := nv.Value.(bool); ok {
		nv.Value = int64(0)
		if b {
			nv.Value = int64(1)
		}
		return nil
	}
	return c.Conn.(driver.NamedValueChecker).CheckNamedValue(nv)
}

// pgSQL translates the store's SQLite SQL for PostgreSQL, word by word
// outside string literals, quoted names and comments:
//   - placeholders ? and ?N become $n (a bare ? after ?N is N+1, as in
//     SQLite);
//   - rowid becomes ctid, the row's address: the store uses it only to
//     name a row within one statement or to keep insertion order;
//   - INTEGER PRIMARY KEY (SQLite's row id) becomes a bigint identity,
//     INTEGER bigint (SQLite's integers are 64-bit), BLOB bytea;
//   - the temp schema is pg_temp.
func pgSQL(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			j = min(j+1, len(q))
			b.WriteString(q[i:j])
			i = j
		case c == '-' && strings.HasPrefix(q[i:], "--"):
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			j := strings.Index(q[i+2:], "*/")
			end := len(q)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(q[i:end])
			i = end
		case c == '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			if j > i+1 {
				k, _ := strconv.Atoi(q[i+1 : j])
				n = max(n, k)
				b.WriteString("$" + q[i+1:j])
			} else {
				n++
				b.WriteString("$" + strconv.Itoa(n))
			}
			i = j
		case isWordStart(c):
			j := i + 1
			for j < len(q) && isWordPart(q[j]) {
				j++
			}
			w := q[i:j]
			switch strings.ToUpper(w) {
			case "ROWID":
				w = "ctid"
			case "BLOB":
				w = "BYTEA"
			case "TEMP":
				if j < len(q) && q[j] == '.' {
					w = "pg_temp"
				}
			case "INTEGER":
				w = "BIGINT"
				if rest, ok := followedBy(q[j:], "PRIMARY", "KEY"); ok {
					w = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
					j = len(q) - len(rest)
				}
			}
			b.WriteString(w)
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isWordStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isWordPart(c byte) bool { return isWordStart(c) || (c >= '0' && c <= '9') || c == '$' }

// followedBy reports whether s starts with the words (after blanks, in
// any case) and returns what follows them.
func followedBy(s string, words ...string) (string, bool) {
	for _, w := range words {
		t := strings.TrimLeft(s, " \t\r\n")
		if len(t) == len(s) || len(t) < len(w) || !strings.EqualFold(t[:len(w)], w) ||
			(len(t) > len(w) && isWordPart(t[len(w)])) {
			return s, false
		}
		s = t[len(w):]
	}
	return s, true
}

// PostgreSQL's error classes (SQLSTATE) as the store's kinds.
func pgKind(err error) (error, bool) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		if pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
			return ErrUnreachable, true
		}
		var ce *pgconn.ConnectError
		if errors.As(err, &ce) {
			return ErrUnreachable, true
		}
		return nil, false
	}
	switch {
	case pe.Code == "53100": // disk_full
		return ErrFull, true
	case pe.Code == "25006": // read_only_sql_transaction
		return ErrReadOnly, true
	case pe.Code == "40001" || pe.Code == "40P01": // serialization_failure, deadlock_detected
		return ErrBusy, true
	case strings.HasPrefix(pe.Code, "XX"): // internal error: data_corrupted, index_corrupted
		return ErrCorrupt, true
	case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "57P"), pe.Code == "53300": // connection, shutdown, too many connections
		return ErrUnreachable, true
	}
	return nil, true
}

// pgRetry tells a write that PostgreSQL rolled it back for another
// transaction's sake (serializable isolation's conflicts, deadlocks):
// running it again is what the server asks for.
func pgRetry(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
