package lexical

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ragkit-go/rag/store"
)

// writeV3Sample applies the writes of the version 3 sample to s: documents
// of one to three chunks, with shared and per-chunk metadata, replaced and
// deleted ones (dead entries in the snapshot), and a log after it.
func writeV3Sample(t *testing.T, s *Store, compact bool) {
	t.Helper()
	for i := range 40 {
		meta := map[string]any{"i": float64(i), "team": []string{"ops", "dev"}[i%2]}
		if i%5 == 0 {
			meta["when"] = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		}
		d := doc(fmt.Sprint("d", i), "1", 1+i%3, meta)
		if i%4 == 0 {
			d.Records[0].Metadata = map[string]any{"i": float64(i), "own": true}
		}
		must(t, s.Upsert(d))
	}
	must(t, s.Delete("d3", "d9"))
	must(t, s.Upsert(doc("d4", "2", 2, nil)))
	if compact {
		must(t, s.Compact())
	}
	must(t, s.Upsert(doc("d41", "1", 2, nil)))
	must(t, s.Delete("d5"))
}

// TestStoreReadsVersion3: testdata/v3 is a snapshot and a log that the
// version 3 code wrote with writeV3Sample (its commit a6a5964). They open
// as the same store as those writes give in memory; opening rewrites the
// snapshot in the current format in the background, and it reopens the
// same; a damaged version 3 snapshot is ErrCorrupt.
func TestStoreReadsVersion3(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "v3.idx")
	for _, name := range []string{"v3.idx", "v3.idx.log.2"} {
		data, err := os.ReadFile(filepath.Join("testdata", "v3", name))
		if err != nil {
			t.Fatal(err)
		}
		must(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	if data, _ := os.ReadFile(path); !bytes.HasPrefix(data, []byte(snapMagicV3)) {
		t.Fatal("testdata/v3/v3.idx is not a version 3 snapshot")
	}
	mem, err := NewStore(StoreOptions{})
	must(t, err)
	writeV3Sample(t, mem, false)
	want := contents(t, mem)
	same := func(s *Store, when string) {
		t.Helper()
		if got := contents(t, s); !slices.Equal(got, want) {
			t.Fatalf("%s: %d records\n%v\nwant %d\n%v", when, len(got), got, len(want), want)
		}
		for _, f := range []*store.Filter{store.Eq("own", true), store.Eq("team", "ops"), store.Exists("when")} {
			got, err := s.DocumentIDs(ctx, f)
			must(t, err)
			exp, err := mem.DocumentIDs(ctx, f)
			must(t, err)
			if !slices.Equal(got, exp) || len(exp) == 0 {
				t.Fatalf("%s: DocumentIDs(%v) = %v, want %v", when, f, got, exp)
			}
		}
	}
	s := newStore(t, path)
	same(s, "version 3 opened")
	must(t, s.Upsert(doc("new", "1", 1, nil)))
	must(t, mem.Upsert(doc("new", "1", 1, nil)))
	want = contents(t, mem)
	must(t, s.Close()) // waits for the rewrite that opening started
	if data, _ := os.ReadFile(path); !bytes.HasPrefix(data, []byte(snapMagic)) {
		t.Fatalf("the version 3 snapshot was not rewritten in the current format: %q", data[:8])
	}
	same(newStore(t, path), "rewritten in the current format")

	v3, err := os.ReadFile(filepath.Join("testdata", "v3", "v3.idx"))
	must(t, err)
	for name, bad := range map[string][]byte{"truncated": v3[:len(v3)/2], "flipped": flip(v3, len(v3)/3)} {
		must(t, os.WriteFile(path, bad, 0o644))
		if _, err := NewStore(StoreOptions{Path: path}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s version 3 snapshot: %v, want ErrCorrupt", name, err)
		}
	}
}
