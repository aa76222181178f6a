// Package osqwire reads the request bodies osqueryd sends to a TLS remote
// server: enrollment, result and status logs, distributed query answers.
// osqueryd's formats vary with its flags (log_result_events, numerics,
// string or number times), so every reader accepts each form and returns
// one normal shape: column values as strings, as osquery keeps them.
package osqwire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// Enroll is an enrollment request.
type Enroll struct {
	Secret         string                     `json:"enroll_secret"`
	HostIdentifier string                     `json:"host_identifier"`
	PlatformType   string                     `json:"platform_type"`
	HostDetails    map[string]json.RawMessage `json:"host_details"`
}

// NodeRequest is the body of config and distributed read requests.
type NodeRequest struct {
	NodeKey string `json:"node_key"`
}

// Result is one row of a scheduled query's result log.
type Result struct {
	Name           string
	HostIdentifier string
	// Action is added, removed or snapshot.
	Action      string
	UnixTime    int64
	Epoch       int64
	Counter     int64
	Columns     map[string]string
	Decorations map[string]string
}

// Logged is the row as the store keeps it.
func (r Result) Logged() store.Logged {
	return store.Logged{Name: r.Name, Action: r.Action, UnixTime: r.UnixTime, Epoch: r.Epoch, Counter: r.Counter, Row: store.Row(r.Columns)}
}

// Status is one line of osqueryd's status log.
type Status struct {
	HostIdentifier string
	UnixTime       int64
	Severity       int64
	Filename       string
	Line           int64
	Message        string
	Version        string
}

// Log is a logger request: its results or its status lines.
type Log struct {
	NodeKey  string
	Type     string // result or status
	Results  []Result
	Statuses []Status
}

// MaxRows bounds the rows one request may expand to, so a small body of
// many empty rows cannot make the server allocate without limit.
const MaxRows = 1 << 20

// decode reads JSON with numbers kept exact.
func decode(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

// DecodeEnroll reads an enrollment request.
func DecodeEnroll(body []byte) (*Enroll, error) {
	var e Enroll
	if err := decode(body, &e); err != nil {
		return nil, fmt.Errorf("enroll request: %w", err)
	}
	return &e, nil
}

// DecodeNode reads the node key of a config or distributed read request.
func DecodeNode(body []byte) (string, error) {
	var r NodeRequest
	if err := decode(body, &r); err != nil {
		return "", fmt.Errorf("request: %w", err)
	}
	return r.NodeKey, nil
}

type rawLog struct {
	NodeKey string            `json:"node_key"`
	LogType string            `json:"log_type"`
	Data    []json.RawMessage `json:"data"`
}

// DecodeLog reads a logger request. Each data item is a log line as a
// JSON object, or as a string holding one.
func DecodeLog(body []byte) (*Log, error) {
	var r rawLog
	if err := decode(body, &r); err != nil {
		return nil, fmt.Errorf("log request: %w", err)
	}
	out := &Log{NodeKey: r.NodeKey, Type: r.LogType}
	if r.LogType != "result" && r.LogType != "status" {
		return nil, fmt.Errorf("log request: log_type %q is neither result nor status", r.LogType)
	}
	rows := 0
	for i, item := range r.Data {
		l, err := readLine(&decoder{buf: item}, MaxRows-rows)
		var tooMany *RowLimitError
		if errors.As(err, &tooMany) {
			return nil, fmt.Errorf("log request: more than %d rows", MaxRows)
		}
		if err != nil {
			return nil, fmt.Errorf("log request: data[%d]: %w", i, err)
		}
		if r.LogType == "status" {
			st := Status{HostIdentifier: l.HostIdentifier, Filename: l.Filename, Message: l.Message, Version: l.Version}
			for _, f := range []struct {
				v  scalar
				to *int64
			}{{l.UnixTime, &st.UnixTime}, {l.Severity, &st.Severity}, {l.Line, &st.Line}} {
				if *f.to, err = f.v.integer(); err != nil {
					return nil, fmt.Errorf("log request: data[%d]: %w", i, err)
				}
			}
			out.Statuses = append(out.Statuses, st)
			continue
		}
		res, err := results(l)
		if err != nil {
			return nil, fmt.Errorf("log request: data[%d] (%s): %w", i, l.Name, err)
		}
		if rows += len(res); rows > MaxRows {
			return nil, fmt.Errorf("log request: more than %d rows", MaxRows)
		}
		out.Results = append(out.Results, res...)
	}
	return out, nil
}

// DecodeResultLine reads one line of osqueryd's filesystem results log
// (or one data item of a result log request) into its rows.
func DecodeResultLine(data []byte) ([]Result, error) {
	return resultLine(&decoder{buf: data}, MaxRows)
}

// results expands a result line: an event is one row (a snapshot event
// too), a batch its added and removed rows, a snapshot every row it holds.
func results(l *line) ([]Result, error) {
	if l.Name == "" {
		return nil, errors.New("result without a query name")
	}
	base := Result{Name: l.Name, HostIdentifier: l.HostIdentifier}
	var err error
	for _, f := range []struct {
		v  scalar
		to *int64
	}{{l.UnixTime, &base.UnixTime}, {l.Epoch, &base.Epoch}, {l.Counter, &base.Counter}} {
		if *f.to, err = f.v.integer(); err != nil {
			return nil, err
		}
	}
	base.Decorations = l.Decorations
	var out []Result
	add := func(action string, rows ...map[string]string) {
		out = slices.Grow(out, len(rows))
		for _, row := range rows {
			r := base
			r.Action = action
			r.Columns = row
			out = append(out, r)
		}
	}
	switch {
	case l.diff:
		add("added", l.Added...)
		add("removed", l.Removed...)
	case l.Snapshot != nil:
		add("snapshot", l.Snapshot...)
	case l.Action == "snapshot":
		// --logger_snapshot_event_type: one line per snapshot row, the
		// row in columns (osquery's serializeQueryLogItemAsEvents)
		if l.Columns == nil {
			return nil, errors.New("snapshot event without columns")
		}
		add("snapshot", l.Columns)
	case l.Action == "added" || l.Action == "removed":
		if l.Columns == nil {
			return nil, fmt.Errorf("%s event without columns", l.Action)
		}
		add(l.Action, l.Columns)
	default:
		return nil, fmt.Errorf("unknown result format (action %q)", l.Action)
	}
	return out, nil
}

// texts turns a row's values into osquery's strings: a number sent as a
// number (numerics) becomes its decimal text, null the empty string.
func texts(m map[string]json.RawMessage) (map[string]string, error) {
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, err := text(v)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", k, err)
		}
		out[k] = s
	}
	return out, nil
}

func text(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0 || string(v) == "null":
		return "", nil
	case v[0] == '"':
		var s string
		err := json.Unmarshal(v, &s)
		return s, err
	case v[0] == '-' || (v[0] >= '0' && v[0] <= '9'):
		var n json.Number
		if err := decode(v, &n); err != nil {
			return "", err
		}
		return n.String(), nil
	case string(v) == "true" || string(v) == "false":
		return string(v), nil
	}
	return "", fmt.Errorf("value %.40s is not a string or number", v)
}

// integer reads a time or counter sent as a number or a decimal string.
func integer(v json.RawMessage) (int64, error) {
	s, err := text(v)
	if err != nil {
		return 0, err
	}
	return parseInteger(s)
}

// parseInteger reads a time or counter's text: "" is 0.
func parseInteger(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f > math.MaxInt64 || f < math.MinInt64 {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	return int64(f), nil
}

// Answer is a host's answer to one distributed query.
type Answer struct {
	Rows    []map[string]string
	Status  int64
	Message string
}

// DecodeWrite reads a distributed write: rows, statuses and messages by
// query id. A query with a status but no rows (it failed) is an answer too.
func DecodeWrite(body []byte) (nodeKey string, answers map[string]*Answer, err error) {
	var r struct {
		NodeKey  string                                  `json:"node_key"`
		Queries  map[string][]map[string]json.RawMessage `json:"queries"`
		Statuses map[string]json.RawMessage              `json:"statuses"`
		Messages map[string]string                       `json:"messages"`
	}
	if err := decode(body, &r); err != nil {
		return "", nil, fmt.Errorf("distributed write: %w", err)
	}
	answers = map[string]*Answer{}
	get := func(id string) *Answer {
		if answers[id] == nil {
			answers[id] = &Answer{}
		}
		return answers[id]
	}
	rows := 0
	for id, qrows := range r.Queries {
		if rows += len(qrows); rows > MaxRows {
			return "", nil, fmt.Errorf("distributed write: more than %d rows", MaxRows)
		}
		a := get(id)
		for _, row := range qrows {
			m, err := texts(row)
			if err != nil {
				return "", nil, fmt.Errorf("distributed write: query %q: %w", id, err)
			}
			a.Rows = append(a.Rows, m)
		}
	}
	for id, s := range r.Statuses {
		if get(id).Status, err = integer(s); err != nil {
			return "", nil, fmt.Errorf("distributed write: status of %q: %w", id, err)
		}
	}
	for id, m := range r.Messages {
		get(id).Message = m
	}
	return r.NodeKey, answers, nil
}
