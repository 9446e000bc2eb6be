package chromem_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
	"github.com/ragkit-go/rag/store/internal/golden"
)

// The document file format does not change: a document written today is
// byte for byte the golden file, and the golden file reads back as the
// document (see golden.CheckFile for -update).
func TestFormatGolden(t *testing.T) {
	ctx := context.Background()
	goldenPath := filepath.Join("testdata", "format1.doc")
	d := golden.Document()
	h := sha256.Sum256([]byte(d.ID))
	name := hex.EncodeToString(h[:]) + ".doc"

	dir := t.TempDir()
	s := open(t, chromem.Options{Path: dir, NoSync: true})
	if err := s.Upsert(ctx, []store.StoredDocument{d}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	written, err := os.ReadFile(filepath.Join(dir, "rag", "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	want := golden.CheckFile(t, goldenPath, written)

	// Read the golden file in a fresh store directory.
	dir = t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "rag", "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rag", "docs", name), want, 0o644); err != nil {
		t.Fatal(err)
	}
	s = open(t, chromem.Options{Path: dir, NoSync: true})
	defer s.Close()
	rs, err := s.Search(ctx, store.Query{Vector: []float32{1, 0, 0, 0}, TopK: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(d.Records) {
		t.Fatalf("golden file holds %d records, want %d", len(rs), len(d.Records))
	}
	slices.SortFunc(rs, func(a, b store.Result) int { return a.Chunk - b.Chunk })
	for i, r := range rs {
		golden.CheckRecord(t, r.Record, d.Records[i])
	}
	if hs, err := s.Hashes(ctx, d.ID); err != nil || hs[d.ID] != d.Hash {
		t.Errorf("Hashes = %v, %v; want %q", hs, err, d.Hash)
	}
}
