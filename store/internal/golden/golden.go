// Package golden is shared by the format tests of the persistent stores
// (chromem's document files, flat's snapshots): the document they write
// and compare with their golden files in testdata, and the check that a
// record read back is the one written.
package golden

import (
	"bytes"
	"flag"
	"math"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/ragkit-go/rag/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// CheckFile fails t unless written equals the golden file at path, and
// returns the golden file's bytes. Run the test with -update to rewrite
// the file from written first: only when a format version changes, and
// the store must then keep reading the old version.
func CheckFile(t testing.TB, path string, written []byte) []byte {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, written, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(written, want) {
		t.Errorf("the file written differs from %s (%d bytes, want %d): the format changed", path, len(written), len(want))
	}
	return want
}

// Document returns a document holding every metadata type and the edges
// of the persistent formats: strings that are empty, multi-byte or full
// of punctuation, extreme and negative numbers, both booleans, times in
// another zone and before 1970 to the nanosecond, string lists with empty
// elements and an empty list, tags, and a zero vector. It is the same
// document every call.
func Document() store.StoredDocument {
	cest := time.FixedZone("CEST", 2*3600)
	return store.StoredDocument{ID: "guide/ü.md", Hash: "sha256:0f1e", Records: []store.Record{
		{ID: "guide/ü.md#0", DocID: "guide/ü.md", Chunk: 0, Start: 0, End: 17, Text: "Grüße, \"world\"\n",
			Title: "Guide", Source: "file:///guide.md", Tags: []string{"setup", ""}, Vector: []float32{1, -2.5, 0, 1e-30},
			Metadata: map[string]any{
				"lang": "de", "empty": "", "year": 2024.0, "neg": -1e-300, "big": math.MaxFloat64,
				"draft": true, "final": false, "labels": []string{"a", "", "c,d"}, "none": []string{},
				"when": time.Date(2024, 5, 17, 13, 14, 15, 123456789, cest), "moon": time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC),
			}},
		{ID: "guide/ü.md#1", DocID: "guide/ü.md", Chunk: 1, Start: 17, End: 18, Text: "x", Vector: []float32{0, 0, 0, 0}},
	}}
}

// CheckRecord fails t unless got is want as a store returns it: every
// field equal, metadata normalised (times in UTC and Equal), the vector
// equal up to float32 rounding.
func CheckRecord(t testing.TB, got, want store.Record) {
	t.Helper()
	if got.ID != want.ID || got.DocID != want.DocID || got.Chunk != want.Chunk || got.Start != want.Start ||
		got.End != want.End || got.Text != want.Text || got.Title != want.Title || got.Source != want.Source ||
		!slices.Equal(got.Tags, want.Tags) {
		t.Errorf("record %s: got %+v, want %+v", want.ID, got, want)
	}
	wm := store.NormalizeMetadata(want.Metadata)
	if len(got.Metadata) != len(wm) {
		t.Errorf("record %s: metadata %v, want %v", want.ID, got.Metadata, wm)
	}
	for k, w := range wm {
		g := got.Metadata[k]
		switch w := w.(type) {
		case time.Time:
			if g, ok := g.(time.Time); !ok || !g.Equal(w) || g.Location() != time.UTC {
				t.Errorf("record %s: %q = %#v, want %v in UTC", want.ID, k, g, w)
			}
		case []string:
			if g, ok := g.([]string); !ok || !slices.Equal(g, w) {
				t.Errorf("record %s: %q = %#v, want %q", want.ID, k, g, w)
			}
		default:
			if g != w {
				t.Errorf("record %s: %q = %#v, want %#v", want.ID, k, g, w)
			}
		}
	}
	for i := range want.Vector {
		if math.Abs(float64(got.Vector[i]-want.Vector[i])) > 1e-6*math.Abs(float64(want.Vector[i]))+1e-37 {
			t.Errorf("record %s: vector %v, want %v", want.ID, got.Vector, want.Vector)
			break
		}
	}
}
