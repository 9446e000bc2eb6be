package metacodec_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/ragkit-go/rag/internal/metacodec"
)

var types = metacodec.Types{String: 's', Float: 'f', Bool: 'b', Time: 't', Strings: 'l'}

var errShort = errors.New("short")

// reader is a minimal metacodec.Reader over a byte slice.
type reader struct {
	b   []byte
	err error
}

func (r *reader) Count() int {
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b)-k) {
		r.Fail(errShort)
		return 0
	}
	r.b = r.b[k:]
	return int(n)
}
func (r *reader) Text() string { return string(r.Next(r.Count())) }
func (r *reader) Next(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.Fail(errShort)
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}
func (r *reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
}
func (r *reader) Err() error { return r.err }

func sample() map[string]any {
	return map[string]any{
		"s": "Grüße", "empty": "", "f": -1e-300, "max": math.MaxFloat64, "zero": 0.0,
		"yes": true, "no": false, "t": time.Date(1969, 7, 20, 20, 17, 40, 123, time.UTC),
		"l": []string{"a", "", "b"}, "none": []string{},
	}
}

// Every type round-trips, the same map always gives the same bytes, and
// what follows the metadata is left unread.
func TestRoundTrip(t *testing.T) {
	m := sample()
	b, err := types.Append([]byte("prefix"), m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("prefix")) {
		t.Fatalf("Append dropped what b held: %q", b)
	}
	again, _ := types.Append(nil, sample())
	if !bytes.Equal(b[len("prefix"):], again) {
		t.Error("two encodings of the same metadata differ")
	}
	r := &reader{b: append(b[len("prefix"):], "tail"...)}
	got := types.Read(r)
	if r.err != nil || string(r.b) != "tail" {
		t.Fatalf("Read: err %v, left %q; want nil, \"tail\"", r.err, r.b)
	}
	if len(got) != len(m) {
		t.Fatalf("Read = %v, want %v", got, m)
	}
	for k, w := range m {
		switch w := w.(type) {
		case []string:
			if g, ok := got[k].([]string); !ok || !slices.Equal(g, w) {
				t.Errorf("%q = %#v, want %q", k, got[k], w)
			}
		case time.Time:
			if g, ok := got[k].(time.Time); !ok || !g.Equal(w) || g.Location() != time.UTC {
				t.Errorf("%q = %#v, want %v", k, got[k], w)
			}
		default:
			if got[k] != w {
				t.Errorf("%q = %#v, want %#v", k, got[k], w)
			}
		}
	}
	if r := (&reader{b: binary.AppendUvarint(nil, 0)}); types.Read(r) != nil || r.err != nil {
		t.Errorf("empty metadata does not read as nil")
	}
}

// Values of unsupported types are an error and leave b as it was.
func TestAppendUnsupported(t *testing.T) {
	for _, v := range []any{1, float32(1), map[string]any{}, nil, []any{"a"}} {
		b, err := types.Append([]byte("x"), map[string]any{"ok": "v", "k": v})
		if err == nil || string(b) != "x" {
			t.Errorf("Append of a %T: %q, %v; want \"x\" and an error", v, b, err)
		}
	}
}

// Damaged input, cut anywhere or with an unknown type byte, is an error
// recorded in the reader and nil metadata, never a panic.
func TestReadDamaged(t *testing.T) {
	b, _ := types.Append(nil, sample())
	for n := range len(b) {
		r := &reader{b: b[:n]}
		if m := types.Read(r); r.err == nil || m != nil {
			t.Errorf("input cut at %d of %d: %v, %v; want nil and an error", n, len(b), m, r.err)
		}
	}
	bad := []byte{1, 1, 'k', 'x'}
	if r := (&reader{b: bad}); types.Read(r) != nil || r.err == nil {
		t.Errorf("unknown type byte: err %v, want an error", r.err)
	}
	badTime := append([]byte{1, 1, 'k', 't', 2}, 0xff, 0xff)
	if r := (&reader{b: badTime}); types.Read(r) != nil || r.err == nil {
		t.Errorf("bad time: err %v, want an error", r.err)
	}
}

func FuzzRead(f *testing.F) {
	b, _ := types.Append(nil, sample())
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		r := &reader{b: b}
		m := types.Read(r)
		if r.err != nil && m != nil {
			t.Errorf("Read returned %v with error %v", m, r.err)
		}
	})
}
