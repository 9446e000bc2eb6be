package flat_test

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/flat"
	"github.com/ragkit-go/rag/store/internal/golden"
)

// The snapshot format does not change: a snapshot written today is byte
// for byte the golden file, and the golden file loads as the documents
// (see golden.CheckFile for -update).
func TestFormatGolden(t *testing.T) {
	ctx := context.Background()
	d := golden.Document()
	other := store.StoredDocument{ID: "a", Hash: "h", Records: []store.Record{{ID: "a#0", DocID: "a", Vector: []float32{0, 1, 0, 0}}}}
	s := mustNew(t, flat.Options{})
	if err := s.Upsert(ctx, []store.StoredDocument{d, other}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.Save(&buf); err != nil {
		t.Fatal(err)
	}
	want := golden.CheckFile(t, filepath.Join("testdata", "format1.flat"), buf.Bytes())

	for _, opts := range []flat.Options{{}, {Quantize: true}} {
		s := mustNew(t, opts)
		if err := s.Load(bytes.NewReader(want)); err != nil {
			t.Fatalf("%+v: Load: %v", opts, err)
		}
		rs, err := s.Search(ctx, store.Query{Vector: []float32{1, 0, 0, 0}, TopK: 10, Filter: store.Eq(store.FieldDocID, d.ID)})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != len(d.Records) {
			t.Fatalf("%+v: golden snapshot holds %d records of %s, want %d", opts, len(rs), d.ID, len(d.Records))
		}
		slices.SortFunc(rs, func(a, b store.Result) int { return a.Chunk - b.Chunk })
		for i, r := range rs {
			golden.CheckRecord(t, r.Record, d.Records[i])
		}
		if hs, err := s.Hashes(ctx, d.ID, other.ID); err != nil || hs[d.ID] != d.Hash || hs[other.ID] != other.Hash {
			t.Errorf("%+v: Hashes = %v, %v; want %q and %q", opts, hs, err, d.Hash, other.Hash)
		}
	}
}
