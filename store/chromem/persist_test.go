package chromem_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
	"github.com/ragkit-go/rag/store/storetest"
)

func open(t testing.TB, opts chromem.Options) *chromem.Store {
	t.Helper()
	s, err := chromem.New(opts)
	if err != nil {
		t.Fatalf("New(%+v): %v", opts, err)
	}
	return s
}

// vec returns a deterministic vector for a seed.
func vec(dim int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 42))
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func bigDoc(id string, chunks, dim int, seed uint64) store.StoredDocument {
	d := store.StoredDocument{ID: id, Hash: "h-" + id}
	for c := range chunks {
		d.Records = append(d.Records, store.Record{
			ID: fmt.Sprintf("%s#%d", id, c), DocID: id, Chunk: c,
			Text:     fmt.Sprintf("chunk %d of %s", c, id),
			Vector:   vec(dim, seed*1000+uint64(c)),
			Metadata: map[string]any{"n": float64(c), "even": c%2 == 0},
		})
	}
	return d
}

// ingestReopen writes chunks records (10 a document) of dim dimensions,
// reopens the store and checks that everything is there and searchable.
func ingestReopen(t *testing.T, chunks, dim int) {
	dir := t.TempDir()
	s := open(t, chromem.Options{Path: dir})
	ctx := context.Background()
	var all []store.Record
	start := time.Now()
	const perDoc, perBatch = 10, 100
	var batch []store.StoredDocument
	for i := 0; i < chunks/perDoc; i++ {
		d := bigDoc(fmt.Sprintf("doc-%06d", i), perDoc, dim, uint64(i))
		all = append(all, d.Records...)
		batch = append(batch, d)
		if len(batch) == perBatch {
			if err := s.Upsert(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := s.Upsert(ctx, batch); err != nil {
		t.Fatal(err)
	}
	t.Logf("ingested %d records of %d dimensions in %v", len(all), dim, time.Since(start))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	start = time.Now()
	s = open(t, chromem.Options{Path: dir})
	defer s.Close()
	t.Logf("reopened %d records in %v", s.Len(), time.Since(start))
	if s.Len() != len(all) || s.Dimensions() != dim {
		t.Fatalf("reopened store holds %d records of %d dimensions, want %d of %d", s.Len(), s.Dimensions(), len(all), dim)
	}
	ids := make([]string, chunks/perDoc)
	for i := range ids {
		ids[i] = fmt.Sprintf("doc-%06d", i)
	}
	h, err := s.Hashes(ctx, ids...)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if h[id] != "h-"+id {
			t.Fatalf("after reopening, Hashes(%s) = %q", id, h[id])
		}
	}
	for i := range 5 {
		q := store.Query{Vector: vec(dim, uint64(1e9+i)), TopK: 10}
		if i%2 == 1 {
			q.Filter = store.And(store.Eq("even", true), store.Lt("n", 3))
		}
		got, err := s.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		want := store.BruteForce(all, q)
		if !slices.Equal(ids2(got), ids2(want)) {
			t.Errorf("after reopening, search %d = %v, want %v", i, ids2(got), ids2(want))
		}
	}
	// A sample of documents, whole.
	for i := 0; i < len(ids); i += len(ids) / 20 {
		got, err := s.Search(ctx, store.Query{Vector: vec(dim, 7), TopK: 100, Filter: store.Eq(store.FieldDocID, ids[i])})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != perDoc {
			t.Fatalf("after reopening, %s has %d records, want %d", ids[i], len(got), perDoc)
		}
		for _, r := range got {
			want := all[i*perDoc+r.Chunk]
			if r.ID != want.ID || r.Text != want.Text || r.Metadata["n"] != float64(r.Chunk) {
				t.Fatalf("after reopening, record %s = %+v", want.ID, r.Record)
			}
		}
	}
}

func ids2(rs []store.Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// A persistent store of 20,000 records reopens whole. (chromem-go's own
// persistence names record files by 32 bits of a hash: at this scale
// files of different records collide and overwrite each other.)
func TestReopen20k(t *testing.T) { ingestReopen(t, 20_000, 16) }

// The same at 200,000 records; set RAG_LONG=1.
func TestReopen200k(t *testing.T) {
	if os.Getenv("RAG_LONG") == "" {
		t.Skip("set RAG_LONG=1 to ingest and reopen 200,000 records")
	}
	ingestReopen(t, 200_000, 16)
}

// The crash test of storetest: a child process writing, killed with
// SIGKILL at random moments, ten rounds. The child rotates its log every
// 64 KiB, so kills also land in the background writing of document files,
// and compresses its files every other round.
var crashOptions = storetest.CrashOptions{
	Child: "TestCrashChild",
	Open: func(dir string, round int) (store.Store, error) {
		chromem.SetLogRotateBytes(64 << 10)
		return chromem.New(chromem.Options{Path: dir, Compress: round%2 == 0})
	},
	Leftovers: func(dir string) []string {
		tmps, _ := filepath.Glob(filepath.Join(dir, "rag", "docs", "*.tmp"))
		logs, _ := filepath.Glob(filepath.Join(dir, "rag", ".wal-*.tmp-*"))
		return append(tmps, logs...)
	},
}

func TestCrashChild(t *testing.T) { storetest.CrashChild(t, crashOptions) }

func TestCrashConsistency(t *testing.T) {
	defer chromem.SetLogRotateBytes(64 << 10)() // restored after the parent's reopens
	storetest.Crash(t, crashOptions)
}

// A second Store cannot open a directory in use; it can once the first
// is closed.
func TestLocked(t *testing.T) {
	dir := t.TempDir()
	s := open(t, chromem.Options{Path: dir})
	if _, err := chromem.New(chromem.Options{Path: dir}); !errors.Is(err, chromem.ErrLocked) {
		t.Errorf("second New on an open directory: %v, want ErrLocked", err)
	}
	// Another collection in the same directory is independent.
	o := open(t, chromem.Options{Path: dir, Collection: "other"})
	o.Close()
	s.Close()
	s = open(t, chromem.Options{Path: dir})
	s.Close()
}

// A damaged document file makes New fail with ErrCorrupt (not load half
// a store, nor panic).
func TestCorruptFile(t *testing.T) {
	for name, damage := range map[string]func([]byte) []byte{
		"truncated":  func(b []byte) []byte { return b[:len(b)/2] },
		"bit flip":   func(b []byte) []byte { b[len(b)/2] ^= 1; return b },
		"empty":      func(b []byte) []byte { return nil },
		"not a file": func(b []byte) []byte { return []byte("hello, world, this is not a document") },
	} {
		t.Run(name, func(t *testing.T) {
			// Write the documents' files at once (not only the log, whose
			// version of a document would win over a damaged file).
			defer chromem.SetLogRotateBytes(0)()
			dir := t.TempDir()
			s := open(t, chromem.Options{Path: dir})
			ctx := context.Background()
			if err := s.Upsert(ctx, []store.StoredDocument{bigDoc("a", 3, 8, 1), bigDoc("b", 2, 8, 2)}); err != nil {
				t.Fatal(err)
			}
			s.Close()
			files, _ := filepath.Glob(filepath.Join(dir, "rag", "docs", "*.doc"))
			if len(files) != 2 {
				t.Fatalf("%d document files, want 2", len(files))
			}
			b, _ := os.ReadFile(files[0])
			if err := os.WriteFile(files[0], damage(b), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := chromem.New(chromem.Options{Path: dir}); !errors.Is(err, chromem.ErrCorrupt) {
				t.Errorf("New on a damaged file: %v, want ErrCorrupt", err)
			}
		})
	}
}

// Leftovers of interrupted writes are ignored and removed.
func TestTempFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	s := open(t, chromem.Options{Path: dir})
	if err := s.Upsert(context.Background(), []store.StoredDocument{bigDoc("a", 3, 8, 1)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	tmp := filepath.Join(dir, "rag", "docs", "0123.456.tmp")
	tmpLog := filepath.Join(dir, "rag", ".wal-0000000000000001.log.tmp-789")
	for _, p := range []string{tmp, tmpLog} {
		if err := os.WriteFile(p, []byte("half a docu"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s = open(t, chromem.Options{Path: dir})
	defer s.Close()
	if s.Len() != 3 {
		t.Errorf("store holds %d records, want 3", s.Len())
	}
	for _, p := range []string{tmp, tmpLog} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("temporary file %s still there: %v", p, err)
		}
	}
}

// The dimension survives a reopen even when every document was deleted.
func TestDimensionsPersist(t *testing.T) {
	dir := t.TempDir()
	s := open(t, chromem.Options{Path: dir})
	ctx := context.Background()
	if err := s.Upsert(ctx, []store.StoredDocument{bigDoc("a", 1, 8, 1)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, chromem.Options{Path: dir})
	defer s.Close()
	var de *store.DimensionError
	if err := s.Upsert(ctx, []store.StoredDocument{bigDoc("b", 1, 9, 1)}); !errors.As(err, &de) || de.Want != 8 {
		t.Errorf("Upsert of 9 dimensions into a reopened store of 8: %v", err)
	}
}

// After Close every method fails with store.ErrClosed; Close is idempotent.
func TestClosed(t *testing.T) {
	for _, path := range []string{"", t.TempDir()} {
		s := open(t, chromem.Options{Path: path})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		ctx := context.Background()
		if err := s.Upsert(ctx, []store.StoredDocument{bigDoc("a", 1, 4, 1)}); !errors.Is(err, store.ErrClosed) {
			t.Errorf("Upsert after Close: %v", err)
		}
		if err := s.Delete(ctx, "a"); !errors.Is(err, store.ErrClosed) {
			t.Errorf("Delete after Close: %v", err)
		}
		if _, err := s.Search(ctx, store.Query{Vector: []float32{1}}); !errors.Is(err, store.ErrClosed) {
			t.Errorf("Search after Close: %v", err)
		}
		if _, err := s.Hashes(ctx, "a"); !errors.Is(err, store.ErrClosed) {
			t.Errorf("Hashes after Close: %v", err)
		}
	}
}

func TestInvalidCollection(t *testing.T) {
	for _, name := range []string{"../escape", "a/b", ".hidden", "sp ace"} {
		if s, err := chromem.New(chromem.Options{Path: t.TempDir(), Collection: name}); !errors.Is(err, chromem.ErrInvalidOptions) {
			t.Errorf("collection %q: %v, want ErrInvalidOptions", name, err)
			if s != nil {
				s.Close()
			}
		}
	}
}
