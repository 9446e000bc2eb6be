package pgvector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ragkit-go/rag/store"
)

// Metadata is stored in a jsonb column with a typed encoding, so that every
// filter can be answered in SQL with the semantics of store.Filter.Match:
//
//	string    JSON string          "en"
//	float64   JSON number          3.25
//	bool      JSON boolean         true
//	[]string  JSON array           ["a","b"]
//	time.Time JSON object          {"unix": 1715944455.123456789}
//
// A time is stored as its Unix time in seconds with nine decimals, a jsonb
// numeric, so it compares exactly (to the nanosecond) and in order, and
// cannot be confused with a string that looks like a date. Numbers are
// written in Go's shortest round-trip form; Postgres keeps them as exact
// decimals, which order the same way as the float64 values they came from.
const timeKey = "unix"

// storable reports whether Postgres can store s in a text or jsonb value:
// valid UTF-8 without NUL bytes.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// timeNumeric formats t as Unix seconds with nine decimals, e.g.
// "1715944455.123456789" or "-4.500000000".
func timeNumeric(t time.Time) string {
	s, n := t.Unix(), int64(t.Nanosecond())
	if s >= 0 || n == 0 {
		return fmt.Sprintf("%d.%09d", s, n)
	}
	// s < 0 and a fraction: s + n/1e9 = -((-s-1) + (1e9-n)/1e9).
	return fmt.Sprintf("-%d.%09d", -(s + 1), 1e9-n)
}

// parseTimeNumeric is the inverse of timeNumeric; it accepts any decimal
// Postgres writes for such a numeric (fewer or more decimals, no point).
func parseTimeNumeric(num string) (time.Time, error) {
	bad := func() (time.Time, error) { return time.Time{}, fmt.Errorf("pgvector: bad stored time %q", num) }
	neg := strings.HasPrefix(num, "-")
	num = strings.TrimPrefix(num, "-")
	whole, frac, _ := strings.Cut(num, ".")
	if !digits(whole) || (frac != "" && !digits(frac)) {
		return bad()
	}
	s, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return bad()
	}
	if len(frac) > 9 {
		frac = frac[:9]
	}
	var n int64
	if frac != "" {
		if n, err = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64); err != nil {
			return bad()
		}
	}
	if neg {
		s, n = -s, -n
		if n < 0 {
			s--
			n += 1e9
		}
	}
	return time.Unix(s, n).UTC(), nil
}

func digits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// jsonValue returns the JSON-marshalable form of a normalised metadata or
// filter value.
func jsonValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return map[string]any{timeKey: json.Number(timeNumeric(x))}
	case []string:
		if x == nil {
			return []string{}
		}
	}
	return v
}

// checkStorableMetadata reports an error matching store.ErrInvalidRecord
// if a key or a string value of m cannot be stored by Postgres.
func checkStorableMetadata(m map[string]any) error {
	for k, v := range m {
		if !storable(k) {
			return fmt.Errorf("%w: metadata key %q holds a NUL byte or invalid UTF-8, which Postgres cannot store", store.ErrInvalidRecord, k)
		}
		switch x := v.(type) {
		case string:
			if !storable(x) {
				return fmt.Errorf("%w: metadata %q holds a NUL byte or invalid UTF-8, which Postgres cannot store", store.ErrInvalidRecord, k)
			}
		case []string:
			for _, s := range x {
				if !storable(s) {
					return fmt.Errorf("%w: metadata %q holds a NUL byte or invalid UTF-8, which Postgres cannot store", store.ErrInvalidRecord, k)
				}
			}
		}
	}
	return nil
}

// encodeMetadata returns the jsonb text of normalised, checked metadata.
func encodeMetadata(m map[string]any) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = jsonValue(v)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("%w: %v", store.ErrInvalidRecord, err)
	}
	return string(b), nil
}

// decodeMetadata parses stored jsonb text back into metadata of the types
// store.CheckMetadata allows. Empty metadata decodes to nil.
func decodeMetadata(text string) (map[string]any, error) {
	if text == "" || text == "{}" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("pgvector: bad stored metadata: %w", err)
	}
	if len(raw) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		switch x := v.(type) {
		case string, bool:
			out[k] = x
		case json.Number:
			f, err := strconv.ParseFloat(string(x), 64)
			if err != nil {
				return nil, fmt.Errorf("pgvector: bad stored number %q in metadata %q: %w", x, k, err)
			}
			out[k] = f
		case []any:
			list := make([]string, len(x))
			for i, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("pgvector: stored metadata %q is a list holding a %T, not a string", k, e)
				}
				list[i] = s
			}
			out[k] = list
		case map[string]any:
			n, ok := x[timeKey].(json.Number)
			if !ok || len(x) != 1 {
				return nil, fmt.Errorf("pgvector: stored metadata %q is an object that is not a time: %v", k, x)
			}
			t, err := parseTimeNumeric(string(n))
			if err != nil {
				return nil, err
			}
			out[k] = t
		default:
			return nil, fmt.Errorf("pgvector: stored metadata %q has unsupported JSON value %v", k, v)
		}
	}
	return out, nil
}
