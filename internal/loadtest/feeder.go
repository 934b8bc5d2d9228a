package loadtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
)

// Data is a table of request values read from a --data file (CSV with a
// header row, or JSON lines): its columns fill path parameters, query
// strings, headers and body templates by name, one row per request.
type Data struct {
	// Name is the file's name, for messages and the JSON record.
	Name string
	// Columns are the names of the columns, in file order (CSV) or sorted (JSON lines: every key of any row).
	Columns []string
	// Rows are the values, by column name: strings (CSV), or the decoded JSON values (json.Number for numbers).
	Rows []map[string]any
	// SHA256 is the hex digest of the file's bytes.
	SHA256 string
	// lines maps a row to its line in the file (for messages).
	lines []int
}

// DataOrder says in which order a feed hands out its rows.
type DataOrder string

// Data orders.
const (
	// OrderSequential hands out rows round-robin: every target walks the rows from the first.
	OrderSequential DataOrder = "sequential"
	// OrderRandom draws a row at random for every request (seeded: the same seed gives the same rows),
	// and draws the targets of a weighted mix at random by weight.
	OrderRandom DataOrder = "random"
)

// ParseDataOrder parses "sequential" or "random".
func ParseDataOrder(s string) (DataOrder, error) {
	switch DataOrder(strings.ToLower(strings.TrimSpace(s))) {
	case OrderSequential, "":
		return OrderSequential, nil
	case OrderRandom:
		return OrderRandom, nil
	}
	return "", fmt.Errorf("data order %q: use sequential or random", s)
}

// DataInfo is the JSON record of the data a load test used, so that a
// run can be told apart from (and repeated like) another.
type DataInfo struct {
	File    string   `json:"file"`
	Rows    int      `json:"rows"`
	SHA256  string   `json:"sha256"`
	Columns []string `json:"columns"`
	Order   string   `json:"order"`
}

// Info returns the JSON record of d used in order.
func (d *Data) Info(order DataOrder) *DataInfo {
	if d == nil {
		return nil
	}
	return &DataInfo{File: d.Name, Rows: len(d.Rows), SHA256: d.SHA256, Columns: d.Columns, Order: string(order)}
}

// HasColumn reports whether the data has a column name.
func (d *Data) HasColumn(name string) bool {
	return d != nil && slices.Contains(d.Columns, name)
}

// line returns the file line of row i (1-based).
func (d *Data) line(i int) int {
	if i < len(d.lines) {
		return d.lines[i]
	}
	return i + 1
}

// MaxDataRows bounds a --data file (every row is held in memory).
const MaxDataRows = 5_000_000

// ReadData reads a data file: JSON lines when its first non-blank
// character is '{', CSV with a header row otherwise. name labels errors.
func ReadData(r io.Reader, name string) (*Data, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, dataError(name, 0, "read: %w", err)
	}
	sum := sha256.Sum256(raw)
	d := &Data{Name: name, SHA256: hex.EncodeToString(sum[:])}
	trimmed := bytes.TrimLeft(raw, " \t\r\n\ufeff")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		err = d.readJSONLines(raw)
	} else {
		err = d.readCSV(raw)
	}
	if err != nil {
		return nil, err
	}
	if len(d.Rows) == 0 {
		return nil, dataError(name, 0, "no rows (want a CSV header row and at least one row, or JSON lines)")
	}
	return d, nil
}

func (d *Data) readCSV(raw []byte) error {
	raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
	cr := csv.NewReader(bytes.NewReader(raw))
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return dataError(d.Name, 0, "empty file")
	}
	if err != nil {
		return dataError(d.Name, 0, "%w", err)
	}
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if h == "" {
			return dataError(d.Name, 0, "column %d of the header row has no name", i+1)
		}
		if seen[h] {
			return dataError(d.Name, 0, "column %q appears twice in the header row", h)
		}
		seen[h] = true
		header[i] = h
	}
	d.Columns = header
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return dataError(d.Name, 0, "%w", err)
		}
		line, _ := cr.FieldPos(0)
		row := make(map[string]any, len(header))
		for i, v := range rec {
			row[header[i]] = v
		}
		d.Rows = append(d.Rows, row)
		d.lines = append(d.lines, line)
		if len(d.Rows) > MaxDataRows {
			return dataError(d.Name, 0, "more than %d rows", MaxDataRows)
		}
	}
}

func (d *Data) readJSONLines(raw []byte) error {
	cols := map[string]bool{}
	for i, line := range bytes.Split(raw, []byte("\n")) {
		line = bytes.TrimSpace(bytes.TrimPrefix(line, []byte("\ufeff")))
		if len(line) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var row map[string]any
		if err := dec.Decode(&row); err != nil || row == nil {
			if err == nil {
				err = errors.New("not an object")
			}
			return dataError(d.Name, i+1, "want one JSON object per line: %w", err)
		}
		if dec.More() {
			return dataError(d.Name, i+1, "want one JSON object per line, found more")
		}
		for k := range row {
			cols[k] = true
		}
		d.Rows = append(d.Rows, row)
		d.lines = append(d.lines, i+1)
		if len(d.Rows) > MaxDataRows {
			return dataError(d.Name, 0, "more than %d rows", MaxDataRows)
		}
	}
	for k := range cols {
		d.Columns = append(d.Columns, k)
	}
	sort.Strings(d.Columns)
	return nil
}

// valueString renders a data value for a URL or a header: strings as they
// are, numbers as written, anything else as JSON.
func valueString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case nil:
		return ""
	case bool:
		if v {
			return "true"
		}
		return "false"
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
}

// Feed hands the rows of Data to the requests of a run: which row a hit
// uses is a function of the hit's number, the order and the seed alone, so
// that two runs with the same seed send the same requests in the same order.
type Feed struct {
	// Data holds the rows (nil: every request uses Const alone).
	Data *Data
	// Const are values given on the command line (--path-param); they win over the data's columns.
	Const map[string]string
	Order DataOrder
	Seed  uint64
	// hits numbers the requests made from the feed across steps, so that
	// a search's steps go on through the rows instead of starting over
	// (which would make the first rows hot in a cache).
	hits atomic.Uint64
}

// lookup returns the value of name in row, Const first.
func (f *Feed) lookup(row map[string]any, name string) (string, bool) {
	if v, ok := f.Const[name]; ok {
		return v, true
	}
	v, ok := row[name]
	if !ok {
		return "", false
	}
	return valueString(v), true
}

// has reports whether every row can give name (a constant, or a column).
func (f *Feed) has(name string) bool {
	if _, ok := f.Const[name]; ok {
		return true
	}
	return f.Data.HasColumn(name)
}

// columns lists what can fill a name, for messages.
func (f *Feed) columns() string {
	var names []string
	if f.Data != nil {
		names = append(names, f.Data.Columns...)
	}
	for k := range f.Const {
		names = append(names, k)
	}
	sort.Strings(names)
	names = slices.Compact(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// rows returns the number of rows (1 without data: the constants).
func (f *Feed) rows() int {
	if f == nil || f.Data == nil {
		return 1
	}
	return len(f.Data.Rows)
}

// row returns row i (nil without data).
func (f *Feed) row(i int) map[string]any {
	if f == nil || f.Data == nil {
		return nil
	}
	return f.Data.Rows[i]
}

// mix64 is SplitMix64's finaliser: a fast, well-spread hash of x.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// draw returns a number in [0,n) for hit i and stream s, a pure function
// of the seed, s and i.
func (f *Feed) draw(s, i uint64, n int) int {
	h := mix64(mix64(f.Seed^(s*0x632be59bd9b4e019)) ^ i)
	// Lemire's multiply-shift: the high word of h×n is in [0,n).
	hi, _ := bits.Mul64(h, uint64(n))
	return int(hi)
}
