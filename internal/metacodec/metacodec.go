// Package metacodec is the binary encoding of record metadata shared by
// the stores that persist records in files of their own (chromem's
// document files, flat's snapshots):
//
//	uvarint count, then for each key, in sorted order (same metadata,
//	same bytes): key, type byte, value
//
// with strings as a uvarint length and the bytes, and values by type:
//
//	string     a string
//	float64    IEEE 754 bits, uint64 little endian
//	bool       one byte, 1 or 0
//	time.Time  the bytes of MarshalBinary, as a string
//	[]string   uvarint count, then the strings
//
// The type bytes are each format's own (Types), which is why the files
// written before this package existed are read as they are.
//
// The values must be normalised and checked (store.NormalizeMetadata,
// store.CheckMetadata): Append reports any other type as an error.
package metacodec

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// Types are the bytes a format writes before a value of each type. They
// must be distinct.
type Types struct {
	String, Float, Bool, Time, Strings byte
}

// Append appends the encoding of m to b. It fails only for a value of a
// type store.CheckMetadata rejects, or a time MarshalBinary cannot encode
// (a zone offset that is not whole minutes; normalised times are UTC);
// b is then returned as it was.
func (ty *Types) Append(b []byte, m map[string]any) ([]byte, error) {
	start := len(b)
	b = binary.AppendUvarint(b, uint64(len(m)))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b = appendString(b, k)
		switch v := m[k].(type) {
		case string:
			b = appendString(append(b, ty.String), v)
		case float64:
			b = binary.LittleEndian.AppendUint64(append(b, ty.Float), math.Float64bits(v))
		case bool:
			c := byte(0)
			if v {
				c = 1
			}
			b = append(b, ty.Bool, c)
		case time.Time:
			tb, err := v.MarshalBinary()
			if err != nil {
				return b[:start], fmt.Errorf("metadata %q: %w", k, err)
			}
			b = appendString(append(b, ty.Time), string(tb))
		case []string:
			b = binary.AppendUvarint(append(b, ty.Strings), uint64(len(v)))
			for _, s := range v {
				b = appendString(b, s)
			}
		default:
			return b[:start], fmt.Errorf("metadata %q has unsupported type %T", k, v)
		}
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// Reader is a format's decoder, which Read takes its fields from. Its
// first error sticks: after it, every method returns zero values.
type Reader interface {
	// Count reads a uvarint count or length, failing (and returning 0)
	// when it is larger than the input could hold.
	Count() int
	// Text reads a string: a Count and that many bytes.
	Text() string
	// Next returns the next n bytes, valid until the next call, or nil
	// after an error (a short input is one).
	Next(n int) []byte
	// Fail records err as the error unless there is one already.
	Fail(err error)
	// Err returns the recorded error.
	Err() error
}

// Read decodes metadata Append encoded. An empty map decodes as nil. On
// an error (recorded in r, an unknown type byte or a bad time among
// them) it returns nil.
func (ty *Types) Read(r Reader) map[string]any {
	n := r.Count()
	if n == 0 || r.Err() != nil {
		return nil
	}
	m := make(map[string]any, min(n, 64)) // a corrupt count fails before it costs memory
	for range n {
		k := r.Text()
		tb := r.Next(1)
		if tb == nil {
			return nil
		}
		switch tag := tb[0]; tag {
		case ty.String:
			m[k] = r.Text()
		case ty.Float:
			if b := r.Next(8); b != nil {
				m[k] = math.Float64frombits(binary.LittleEndian.Uint64(b))
			}
		case ty.Bool:
			if b := r.Next(1); b != nil {
				m[k] = b[0] != 0
			}
		case ty.Time:
			var t time.Time
			if err := t.UnmarshalBinary([]byte(r.Text())); err != nil && r.Err() == nil {
				r.Fail(fmt.Errorf("metadata %q: %w", k, err))
			}
			m[k] = t.UTC()
		case ty.Strings:
			c := r.Count()
			l := make([]string, 0, min(c, 1024))
			for i := 0; i < c && r.Err() == nil; i++ {
				l = append(l, r.Text())
			}
			m[k] = l
		default:
			r.Fail(fmt.Errorf("metadata %q has unknown type %d", k, tag))
		}
		if r.Err() != nil {
			return nil
		}
	}
	return m
}
