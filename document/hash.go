package document

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// Hash returns the hex SHA-256 of everything a document's records are
// made from: the salts first (the pipeline passes the embedder's name and,
// with enrichment, its version: the same text embedded by another model
// makes other records), then every field of d and its metadata in key
// order. Two documents with the same hash and salts make the same records,
// which is how a pipeline knows a document is unchanged. Call it on a
// validated document, so numbers and times are normalised.
func Hash(d *Document, salts ...string) string {
	h := sha256.New()
	str := func(s string) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	for _, s := range salts {
		str(s)
	}
	str(d.Content)
	str(d.Title)
	str(d.Source)
	str(fmt.Sprint(len(d.Tags)))
	for _, t := range d.Tags {
		str(t)
	}
	for _, k := range slices.Sorted(maps.Keys(d.Metadata)) {
		str(k)
		hashValue(str, d.Metadata[k])
	}
	// Spans only when there are any, so documents without them keep the
	// hashes they were stored with before spans existed.
	if len(d.Spans) > 0 {
		str(fmt.Sprint("spans", len(d.Spans)))
		for _, sp := range d.Spans {
			str(sp.Kind)
			str(sp.Label)
			str(fmt.Sprint(sp.Start, ",", sp.End))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func hashValue(str func(string), v any) {
	switch x := v.(type) {
	case string:
		str("s" + x)
	case bool:
		str(fmt.Sprint("b", x))
	case float64:
		str(fmt.Sprint("f", math.Float64bits(x)))
	case time.Time:
		str("t" + x.UTC().Format(time.RFC3339Nano))
	case []string:
		str(fmt.Sprint("l", len(x)))
		for _, s := range x {
			str(s)
		}
	default:
		str(fmt.Sprintf("?%T%v", v, v))
	}
}
