package flat_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/flat"
)

func mustNew(t *testing.T, opts flat.Options) *flat.Store {
	t.Helper()
	s, err := flat.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func randVec(rng *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// sampleDocs returns documents using every kind of field and metadata value.
func sampleDocs(rng *rand.Rand, dim, n int) []store.StoredDocument {
	var docs []store.StoredDocument
	for i := range n {
		id := fmt.Sprintf("doc-%d", i)
		d := store.StoredDocument{ID: id, Hash: fmt.Sprintf("h%d", rng.Uint32())}
		for j := range 1 + i%3 {
			d.Records = append(d.Records, store.Record{
				ID: fmt.Sprintf("%s#%d", id, j), DocID: id, Chunk: j, Start: 10 * j, End: 10*j + 9,
				Text: fmt.Sprintf("Grüße %d/%d", i, j), Title: "T" + id, Source: "file://" + id,
				Tags:   []string{"a", fmt.Sprint(i % 2)},
				Vector: randVec(rng, dim),
				Metadata: map[string]any{
					"s": "x", "f": float64(i) + 0.5, "b": i%2 == 0, "list": []string{"p", "q"},
					"when": time.Date(2024, 1, i+1, 3, 4, 5, 6, time.FixedZone("X", 3600)),
				},
			})
		}
		docs = append(docs, d)
	}
	return docs
}

// dump returns every record of s (by a search that returns them all) and
// the hashes of the named documents, for comparing two stores.
func dump(t *testing.T, s *flat.Store, dim int, docIDs []string) ([]store.Result, map[string]string) {
	t.Helper()
	ctx := context.Background()
	q := make([]float32, dim)
	q[0] = 1
	rs, err := s.Search(ctx, store.Query{Vector: q, TopK: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.Hashes(ctx, docIDs...)
	if err != nil {
		t.Fatal(err)
	}
	return rs, h
}

func sameDump(t *testing.T, got, want []store.Result, gotH, wantH map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Score != w.Score || g.Text != w.Text || g.Title != w.Title || g.Source != w.Source ||
			g.DocID != w.DocID || g.Chunk != w.Chunk || g.Start != w.Start || g.End != w.End ||
			!slices.Equal(g.Tags, w.Tags) || !slices.Equal(g.Vector, w.Vector) {
			t.Fatalf("record %d: got %+v, want %+v", i, g.Record, w.Record)
		}
		if len(g.Metadata) != len(w.Metadata) {
			t.Fatalf("record %s: metadata %v, want %v", g.ID, g.Metadata, w.Metadata)
		}
		for k, wv := range w.Metadata {
			switch wv := wv.(type) {
			case time.Time:
				if gv, ok := g.Metadata[k].(time.Time); !ok || !gv.Equal(wv) || gv.Location() != time.UTC {
					t.Fatalf("record %s: %s = %v, want %v in UTC", g.ID, k, g.Metadata[k], wv)
				}
			case []string:
				if gv, ok := g.Metadata[k].([]string); !ok || !slices.Equal(gv, wv) {
					t.Fatalf("record %s: %s = %v, want %v", g.ID, k, g.Metadata[k], wv)
				}
			default:
				if g.Metadata[k] != wv {
					t.Fatalf("record %s: %s = %#v, want %#v", g.ID, k, g.Metadata[k], wv)
				}
			}
		}
	}
	if len(gotH) != len(wantH) {
		t.Fatalf("hashes %v, want %v", gotH, wantH)
	}
	for k, v := range wantH {
		if gotH[k] != v {
			t.Fatalf("hashes %v, want %v", gotH, wantH)
		}
	}
}

func docIDs(docs []store.StoredDocument) []string {
	var ids []string
	for _, d := range docs {
		ids = append(ids, d.ID)
	}
	return ids
}

// Save and Load round-trip every field, metadata type and vector bit for
// bit, into an exact and into a quantized store.
func TestSnapshotRoundTrip(t *testing.T) {
	const dim = 12
	rng := rand.New(rand.NewPCG(1, 2))
	docs := sampleDocs(rng, dim, 20)
	src := mustNew(t, flat.Options{})
	if err := src.Upsert(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := src.Save(&buf); err != nil {
		t.Fatal(err)
	}
	want, wantH := dump(t, src, dim, docIDs(docs))
	for _, opts := range []flat.Options{{}, {Quantize: true, Oversample: 1000}, {Dimension: dim}} {
		dst := mustNew(t, opts)
		if err := dst.Load(bytes.NewReader(buf.Bytes())); err != nil {
			t.Fatalf("%+v: Load: %v", opts, err)
		}
		got, gotH := dump(t, dst, dim, docIDs(docs))
		sameDump(t, got, want, gotH, wantH)
		if dst.Dimension() != dim || dst.Len() != src.Len() {
			t.Errorf("loaded store: dimension %d, %d records; want %d, %d", dst.Dimension(), dst.Len(), dim, src.Len())
		}
	}
	// Saving the same content twice gives the same bytes.
	var again bytes.Buffer
	if err := src.Save(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two snapshots of the same store differ")
	}
}

// A snapshot cut short anywhere, or with any byte changed, is rejected
// with ErrCorrupt and leaves the store it was loaded into as it was.
func TestSnapshotDamaged(t *testing.T) {
	const dim = 4
	rng := rand.New(rand.NewPCG(3, 4))
	src := mustNew(t, flat.Options{})
	if err := src.Upsert(context.Background(), sampleDocs(rng, dim, 3)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := src.Save(&buf); err != nil {
		t.Fatal(err)
	}
	snap := buf.Bytes()

	dst := mustNew(t, flat.Options{})
	other := store.StoredDocument{ID: "other", Hash: "keep", Records: []store.Record{{ID: "o", DocID: "other", Vector: randVec(rng, dim)}}}
	if err := dst.Upsert(context.Background(), []store.StoredDocument{other}); err != nil {
		t.Fatal(err)
	}
	before, beforeH := dump(t, dst, dim, []string{"other", "doc-0"})

	for n := range len(snap) {
		err := dst.Load(bytes.NewReader(snap[:n]))
		if !errors.Is(err, flat.ErrCorrupt) {
			t.Fatalf("Load of the first %d of %d bytes: %v, want ErrCorrupt", n, len(snap), err)
		}
	}
	for i := range snap {
		bad := slices.Clone(snap)
		bad[i] ^= 0x10
		err := dst.Load(bytes.NewReader(bad))
		if !errors.Is(err, flat.ErrCorrupt) {
			t.Fatalf("Load with byte %d of %d changed: %v, want ErrCorrupt", i, len(snap), err)
		}
	}
	after, afterH := dump(t, dst, dim, []string{"other", "doc-0"})
	sameDump(t, after, before, afterH, beforeH)
}

// A snapshot of a later format version is refused with ErrVersion.
func TestSnapshotVersion(t *testing.T) {
	s := mustNew(t, flat.Options{})
	var buf bytes.Buffer
	if err := s.Save(&buf); err != nil {
		t.Fatal(err)
	}
	snap := buf.Bytes()
	binary.LittleEndian.PutUint32(snap[8:], 99)
	binary.LittleEndian.PutUint32(snap[32:], crc32.Checksum(snap[:32], crc32.MakeTable(crc32.Castagnoli)))
	if err := s.Load(bytes.NewReader(snap)); !errors.Is(err, flat.ErrVersion) {
		t.Fatalf("Load of version 99: %v, want ErrVersion", err)
	}
	if err := s.Load(bytes.NewReader([]byte("not a snapshot at all, just some text"))); !errors.Is(err, flat.ErrCorrupt) {
		t.Fatalf("Load of text: %v, want ErrCorrupt", err)
	}
}

// With Options.Path, Close writes the snapshot atomically and New reads it
// back; a store that did not change does not rewrite its file.
func TestPersistentPath(t *testing.T) {
	const dim = 8
	dir := t.TempDir()
	path := filepath.Join(dir, "vectors.flat")
	rng := rand.New(rand.NewPCG(5, 6))
	docs := sampleDocs(rng, dim, 10)
	ctx := context.Background()

	s, err := flat.New(flat.Options{Path: path})
	if err != nil {
		t.Fatalf("New on a missing file: %v", err)
	}
	if err := s.Upsert(ctx, docs[:5]); err != nil {
		t.Fatal(err)
	}
	if err := s.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("Checkpoint wrote no file: %v", err)
	}
	if err := s.Upsert(ctx, docs[5:]); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "doc-2"); err != nil {
		t.Fatal(err)
	}
	want, wantH := dump(t, s, dim, docIDs(docs))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "vectors.flat" {
		t.Fatalf("directory holds %v, want only vectors.flat (no temporary files)", entries)
	}

	s2, err := flat.New(flat.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	got, gotH := dump(t, s2, dim, docIDs(docs))
	sameDump(t, got, want, gotH, wantH)
	// Unchanged since loading: Close must not write.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Close of an unchanged store rewrote its file (stat: %v)", err)
	}
}

// New refuses a damaged snapshot file instead of starting empty.
func TestPersistentCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.flat")
	if err := os.WriteFile(path, []byte("RAGFLAT\x00 but nothing else"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := flat.New(flat.Options{Path: path}); !errors.Is(err, flat.ErrCorrupt) {
		t.Fatalf("New on a corrupt file: %v, want ErrCorrupt", err)
	}
}

// A closed store refuses every call with store.ErrClosed; closing again is
// not an error.
func TestClosed(t *testing.T) {
	s, err := flat.New(flat.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v := []float32{1, 2}
	if err := s.Upsert(ctx, []store.StoredDocument{{ID: "d", Records: []store.Record{{ID: "r", DocID: "d", Vector: v}}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, serr := s.Search(ctx, store.Query{Vector: v})
	_, herr := s.Hashes(ctx, "d")
	for name, err := range map[string]error{
		"Upsert":     s.Upsert(ctx, nil),
		"Delete":     s.Delete(ctx, "d"),
		"Search":     serr,
		"Hashes":     herr,
		"Save":       s.Save(&bytes.Buffer{}),
		"Checkpoint": s.Checkpoint(),
	} {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

// Options.Dimension fixes the dimension from the start; without it the
// first vector sets it and an emptied store accepts a new one.
func TestDimension(t *testing.T) {
	ctx := context.Background()
	doc := func(dim int) []store.StoredDocument {
		return []store.StoredDocument{{ID: "d", Records: []store.Record{{ID: "r", DocID: "d", Vector: make([]float32, dim)}}}}
	}
	fixed := mustNew(t, flat.Options{Dimension: 4})
	var de *store.DimensionError
	if err := fixed.Upsert(ctx, doc(3)); !errors.As(err, &de) || de.Want != 4 || de.Got != 3 {
		t.Errorf("3 dimensions into a 4-dimension store: %v, want DimensionError{4, 3}", err)
	}
	if _, err := fixed.Search(ctx, store.Query{Vector: make([]float32, 3)}); !errors.Is(err, store.ErrDimensionMismatch) {
		t.Errorf("3-dimension query on an empty 4-dimension store: %v, want ErrDimensionMismatch", err)
	}
	if err := fixed.Upsert(ctx, doc(4)); err != nil {
		t.Fatal(err)
	}
	if err := fixed.Delete(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if fixed.Dimension() != 4 {
		t.Errorf("emptied store with Options.Dimension 4 holds dimension %d", fixed.Dimension())
	}

	free := mustNew(t, flat.Options{})
	if err := free.Upsert(ctx, doc(3)); err != nil {
		t.Fatal(err)
	}
	if err := free.Upsert(ctx, doc(5)); !errors.Is(err, store.ErrDimensionMismatch) {
		t.Errorf("5 dimensions into a 3-dimension store: %v", err)
	}
	if err := free.Delete(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if err := free.Upsert(ctx, doc(5)); err != nil {
		t.Errorf("5 dimensions into an emptied store: %v", err)
	}

	// Loading a snapshot of another dimension into a fixed store fails
	// and changes nothing.
	var buf bytes.Buffer
	if err := free.Save(&buf); err != nil {
		t.Fatal(err)
	}
	if err := fixed.Upsert(ctx, doc(4)); err != nil {
		t.Fatal(err)
	}
	if err := fixed.Load(&buf); !errors.As(err, &de) || de.Want != 4 || de.Got != 5 {
		t.Errorf("Load of a 5-dimension snapshot into a 4-dimension store: %v", err)
	}
	if fixed.Len() != 1 || fixed.Dimension() != 4 {
		t.Errorf("failed Load changed the store: %d records, dimension %d", fixed.Len(), fixed.Dimension())
	}
}

// Searches running alongside replacements and deletions see each document
// whole: all records of one version, never a mix or a part.
func TestAtomicReplaceConcurrent(t *testing.T) {
	for _, opts := range []flat.Options{{}, {Quantize: true}} {
		t.Run(fmt.Sprintf("quantize=%v", opts.Quantize), func(t *testing.T) {
			const dim = 16
			s := mustNew(t, opts)
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(7, 8))
			// Background documents so the scan is split over workers.
			var bg []store.StoredDocument
			for i := range 300 {
				id := fmt.Sprintf("bg%d", i)
				bg = append(bg, store.StoredDocument{ID: id, Records: []store.Record{{ID: id, DocID: id, Vector: randVec(rng, dim)}}})
			}
			if err := s.Upsert(ctx, bg); err != nil {
				t.Fatal(err)
			}
			version := func(v int) store.StoredDocument {
				n := 2 + v%5 // versions have different record counts
				d := store.StoredDocument{ID: "d", Hash: fmt.Sprint(v)}
				for j := range n {
					d.Records = append(d.Records, store.Record{
						ID: fmt.Sprintf("d#%d", j), DocID: "d", Vector: randVec(rng, dim),
						Metadata: map[string]any{"v": float64(v), "n": float64(n)},
					})
				}
				return d
			}
			const versions = 200
			docs := make([]store.StoredDocument, versions)
			for v := range docs {
				docs[v] = version(v)
			}
			var wg sync.WaitGroup
			wg.Go(func() {
				for v := range versions {
					var err error
					if v%10 == 9 {
						err = s.Delete(ctx, "d")
					} else {
						err = s.Upsert(ctx, docs[v:v+1])
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
			for range 2 {
				wg.Go(func() {
					q := randVec(rand.New(rand.NewPCG(9, 10)), dim)
					for range 300 {
						rs, err := s.Search(ctx, store.Query{Vector: q, TopK: 100, Filter: store.Eq(store.FieldDocID, "d")})
						if err != nil {
							t.Error(err)
							return
						}
						if len(rs) == 0 {
							continue // deleted just now
						}
						v, n := rs[0].Metadata["v"], rs[0].Metadata["n"].(float64)
						if len(rs) != int(n) {
							t.Errorf("search saw %d records of a version with %v", len(rs), n)
							return
						}
						for _, r := range rs {
							if r.Metadata["v"] != v {
								t.Errorf("search saw versions %v and %v of one document", v, r.Metadata["v"])
								return
							}
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// Quantized search returns exact scores, and recall@10 against the exact
// search is high even on random vectors, whose scores crowd together.
func TestQuantizedRecall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds collections of thousands of vectors")
	}
	for _, tc := range []struct{ n, dim int }{{20000, 384}, {5000, 1536}} {
		t.Run(fmt.Sprintf("%dx%d", tc.n, tc.dim), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, uint64(tc.dim)))
			docs := make([]store.StoredDocument, tc.n)
			for i := range docs {
				id := fmt.Sprint(i)
				docs[i] = store.StoredDocument{ID: id, Records: []store.Record{{ID: id, DocID: id, Vector: randVec(rng, tc.dim)}}}
			}
			ctx := context.Background()
			exact := mustNew(t, flat.Options{})
			quant := mustNew(t, flat.Options{Quantize: true})
			for _, s := range []*flat.Store{exact, quant} {
				if err := s.Upsert(ctx, docs); err != nil {
					t.Fatal(err)
				}
			}
			hits, total := 0, 0
			for i := range 60 {
				q := randVec(rng, tc.dim)
				if i%2 == 1 {
					// A query near a stored vector, as with real data.
					near := docs[rng.IntN(tc.n)].Records[0].Vector
					for j := range q {
						q[j] = near[j] + 0.5*q[j]
					}
				}
				want, err := exact.Search(ctx, store.Query{Vector: q, TopK: 10})
				if err != nil {
					t.Fatal(err)
				}
				got, err := quant.Search(ctx, store.Query{Vector: q, TopK: 10})
				if err != nil {
					t.Fatal(err)
				}
				exactScore := map[string]float32{}
				for _, r := range want {
					exactScore[r.ID] = r.Score
					total++
				}
				for _, r := range got {
					if math.Abs(store.Cosine(q, r.Vector)-float64(r.Score)) > 1e-5 {
						t.Fatalf("quantized result %s has score %v, exact %v", r.ID, r.Score, store.Cosine(q, r.Vector))
					}
					if _, ok := exactScore[r.ID]; ok {
						hits++
					}
				}
			}
			recall := float64(hits) / float64(total)
			t.Logf("recall@10 of quantized search (oversample %d) over %d queries: %.4f", flat.DefaultOversample, total/10, recall)
			if recall < 0.97 {
				t.Errorf("recall@10 = %.4f, want at least 0.97", recall)
			}
		})
	}
}

// Invalid input is refused before anything is written.
func TestInvalidInput(t *testing.T) {
	ctx := context.Background()
	s := mustNew(t, flat.Options{})
	good := store.Record{ID: "a", DocID: "d", Vector: []float32{1, 0, 0}}
	bad := store.Record{ID: "b", DocID: "d", Vector: []float32{float32(math.NaN()), 0, 0}}
	if err := s.Upsert(ctx, []store.StoredDocument{{ID: "ok", Records: []store.Record{{ID: "x", DocID: "ok", Vector: []float32{0, 1, 0}}}}, {ID: "d", Records: []store.Record{good, bad}}}); !errors.Is(err, store.ErrInvalidVector) {
		t.Fatalf("Upsert with a NaN: %v, want ErrInvalidVector", err)
	}
	if s.Len() != 0 {
		t.Fatalf("failed Upsert wrote %d records", s.Len())
	}
	if _, err := s.Search(ctx, store.Query{Vector: []float32{1}, Filter: &store.Filter{Op: "like", Field: "x"}}); !errors.Is(err, store.ErrInvalidFilter) {
		t.Errorf("Search with an unknown operator: %v, want ErrInvalidFilter", err)
	}
	if _, err := s.Search(ctx, store.Query{Vector: []float32{float32(math.Inf(1))}}); !errors.Is(err, store.ErrInvalidVector) {
		t.Errorf("Search with an infinite query: %v, want ErrInvalidVector", err)
	}
	if _, err := flat.New(flat.Options{Oversample: -1}); err == nil {
		t.Error("New with a negative Oversample succeeded")
	}
}

// countdownCtx reports no error for its first n calls to Err, and
// context.Canceled after: a context cancelled in the middle of a call.
type countdownCtx struct {
	context.Context
	n atomic.Int64
}

func (c *countdownCtx) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// A search whose context is cancelled while it scans stops and returns the
// context's error, exact or quantized.
func TestSearchCancelledDuringScan(t *testing.T) {
	const n, dim = 40_000, 4
	rng := rand.New(rand.NewPCG(12, 13))
	docs := make([]store.StoredDocument, n)
	for i := range docs {
		id := fmt.Sprint(i)
		docs[i] = store.StoredDocument{ID: id, Records: []store.Record{{ID: id, DocID: id, Vector: randVec(rng, dim)}}}
	}
	for _, quantize := range []bool{false, true} {
		s := mustNew(t, flat.Options{Quantize: quantize})
		if err := s.Upsert(context.Background(), docs); err != nil {
			t.Fatal(err)
		}
		ctx := &countdownCtx{Context: context.Background()}
		ctx.n.Store(1) // the check on entry passes; the scan sees the cancellation
		if _, err := s.Search(ctx, store.Query{Vector: randVec(rng, dim)}); !errors.Is(err, context.Canceled) {
			t.Errorf("quantize=%v: search cancelled during the scan returned %v, want context.Canceled", quantize, err)
		}
	}
}
