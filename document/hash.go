package document

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/ragkit-go/rag/internal/digest"
)

// Hash returns the hex SHA-256 of everything a document's records are
// made from: the salts first (the pipeline passes the embedder's name and,
// with enrichment, its version: the same text embedded by another model
// makes other records), then every field of d and its metadata in key
// order. Two documents with the same hash and salts make the same records,
// which is how a pipeline knows a document is unchanged. Call it on a
// validated document, so numbers and times are normalised.
//
// Stores keep these hashes: the bytes hashed must never change. Each
// field is its length (8 bytes, little endian) and its bytes.
func Hash(d *Document, salts ...string) string {
	// Every field is laid out in one reused buffer and hashed at once: a
	// hash.Hash written field by field copies each string to the heap,
	// and this runs for every document ingested.
	sum := digest.Of(func(b []byte) []byte {
		h := hashInput{b: b}
		h.fields(d, salts)
		return h.b
	})
	return digest.Hex(sum[:])
}

// fields appends the fields of d, salts first.
func (h *hashInput) fields(d *Document, salts []string) {
	for _, s := range salts {
		h.str(s)
	}
	h.str(d.Content)
	h.str(d.Title)
	h.str(d.Source)
	h.int("", len(d.Tags))
	for _, t := range d.Tags {
		h.str(t)
	}
	if len(d.Metadata) > 0 {
		var small [8]string
		keys := small[:0]
		for k := range d.Metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			h.str(k)
			h.value(d.Metadata[k])
		}
	}
	// Spans only when there are any, so documents without them keep the
	// hashes they were stored with before spans existed.
	if len(d.Spans) > 0 {
		h.int("spans", len(d.Spans))
		for _, sp := range d.Spans {
			h.str(sp.Kind)
			h.str(sp.Label)
			h.span(sp.Start, sp.End)
		}
	}
}

// hashInput lays out the fields of a document for Hash.
type hashInput struct{ b []byte }

// str appends the field s.
func (h *hashInput) str(s string) {
	h.b = binary.LittleEndian.AppendUint64(h.b, uint64(len(s)))
	h.b = append(h.b, s...)
}

// prefixed appends the field prefix+s.
func (h *hashInput) prefixed(prefix, s string) {
	h.b = binary.LittleEndian.AppendUint64(h.b, uint64(len(prefix)+len(s)))
	h.b = append(h.b, prefix...)
	h.b = append(h.b, s...)
}

// field appends the field that write appends to its argument: its
// length is filled in once the bytes are in.
func (h *hashInput) field(write func([]byte) []byte) {
	at := len(h.b)
	h.b = binary.LittleEndian.AppendUint64(h.b, 0)
	h.b = write(h.b)
	binary.LittleEndian.PutUint64(h.b[at:], uint64(len(h.b)-at-8))
}

// int appends the field prefix and n in decimal (fmt.Sprint(prefix, n)).
func (h *hashInput) int(prefix string, n int) {
	h.field(func(b []byte) []byte { return strconv.AppendInt(append(b, prefix...), int64(n), 10) })
}

// span appends the field "start,end".
func (h *hashInput) span(start, end int) {
	h.field(func(b []byte) []byte {
		b = strconv.AppendInt(b, int64(start), 10)
		return strconv.AppendInt(append(b, ','), int64(end), 10)
	})
}

// value appends a metadata value, tagged by its type.
func (h *hashInput) value(v any) {
	switch x := v.(type) {
	case string:
		h.prefixed("s", x)
	case bool:
		h.prefixed("b", strconv.FormatBool(x))
	case float64:
		h.field(func(b []byte) []byte { return strconv.AppendUint(append(b, 'f'), math.Float64bits(x), 10) })
	case time.Time:
		h.field(func(b []byte) []byte { return x.UTC().AppendFormat(append(b, 't'), time.RFC3339Nano) })
	case []string:
		h.int("l", len(x))
		for _, s := range x {
			h.str(s)
		}
	default:
		h.str(fmt.Sprintf("?%T%v", v, v))
	}
}
