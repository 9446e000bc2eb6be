package lexical

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ragkit-go/rag/store"
)

var ctx = context.Background()

// doc builds a store.StoredDocument of n chunks; chunk texts name the document,
// its version and the chunk.
func doc(id, version string, n int, meta map[string]any) store.StoredDocument {
	d := store.StoredDocument{ID: id, Hash: id + "@" + version}
	for i := range n {
		d.Records = append(d.Records, store.Record{
			ID: fmt.Sprintf("%s#%d", id, i), DocID: id, Chunk: i, Start: 10 * i, End: 10*i + 9,
			Text:  fmt.Sprintf("%s version %s chunk%d shared words", id, version, i),
			Title: "title of " + id, Source: id + ".md", Tags: []string{"t-" + id}, Metadata: meta,
		})
	}
	return d
}

func newStore(t *testing.T, path string) *Store {
	t.Helper()
	s, err := NewStore(StoreOptions{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// contents is what a store holds, as comparable strings: every document's
// hash and every record SearchText returns for the words all texts share.
func contents(t *testing.T, s *Store) []string {
	t.Helper()
	res, err := s.SearchText(ctx, "shared words", 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res {
		h, _ := s.Hash(r.DocID)
		out = append(out, fmt.Sprintf("%s %s %q %d %d-%d %s %v %v", h, r.ID, r.Text, r.Chunk, r.Start, r.End, r.Title, r.Tags, r.Metadata))
	}
	slices.Sort(out)
	return out
}

func TestStoreUpsertHashDelete(t *testing.T) {
	s := newStore(t, "")
	must(t, s.Upsert(doc("a", "1", 3, map[string]any{"kind": "x"}), doc("b", "1", 1, nil)))
	if h, ok := s.Hash("a"); !ok || h != "a@1" {
		t.Fatalf("Hash(a) = %q %v", h, ok)
	}
	if _, ok := s.Hash("zzz"); ok {
		t.Fatal("Hash of an absent document")
	}
	res, err := s.SearchText(ctx, "chunk1", 10, nil)
	if err != nil || len(res) != 1 {
		t.Fatalf("search: %v %v", res, err)
	}
	r := res[0]
	if r.ID != "a#1" || r.DocID != "a" || r.Chunk != 1 || r.Start != 10 || r.End != 19 || r.Title != "title of a" ||
		r.Source != "a.md" || !slices.Equal(r.Tags, []string{"t-a"}) || r.Metadata["kind"] != "x" || !strings.HasPrefix(r.Text, "a version 1") || r.Score <= 0 {
		t.Fatalf("record not whole: %+v", r)
	}
	// Results are the caller's.
	r.Metadata["kind"], r.Tags[0] = "changed", "changed"
	if res, _ := s.SearchText(ctx, "chunk1", 10, nil); res[0].Metadata["kind"] != "x" || res[0].Tags[0] != "t-a" {
		t.Fatal("a result aliases the store")
	}

	// A new version replaces every record; fewer chunks leave none behind.
	must(t, s.Upsert(doc("a", "2", 1, nil)))
	if h, _ := s.Hash("a"); h != "a@2" {
		t.Fatalf("hash after replace: %q", h)
	}
	if res, _ := s.SearchText(ctx, "chunk1", 10, nil); len(res) != 0 {
		t.Fatalf("stale chunk: %v", res)
	}
	// No records deletes; Delete ignores unknown documents.
	must(t, s.Upsert(store.StoredDocument{ID: "a"}))
	must(t, s.Delete("b", "never"))
	if s.Len() != 0 || len(contents(t, s)) != 0 {
		t.Fatalf("after deletes: %d documents", s.Len())
	}
}

func TestStoreRejectsBadInput(t *testing.T) {
	s := newStore(t, filepath.Join(t.TempDir(), "x.idx"))
	must(t, s.Upsert(doc("a", "1", 2, nil)))
	before := contents(t, s)
	bad := doc("b", "1", 1, nil)
	bad.Records[0].DocID = "other"
	badMeta := doc("c", "1", 1, map[string]any{"x": struct{}{}})
	steal := doc("d", "1", 1, nil)
	steal.Records[0].ID = "a#0" // belongs to a
	dup := doc("e", "1", 2, nil)
	dup.Records[1].ID = dup.Records[0].ID
	for name, c := range map[string]struct {
		docs []store.StoredDocument
		want error
	}{
		"no ID":             {[]store.StoredDocument{{Records: doc("x", "1", 1, nil).Records}}, store.ErrInvalidRecord},
		"other document":    {[]store.StoredDocument{doc("ok", "1", 1, nil), bad}, store.ErrInvalidRecord},
		"bad metadata":      {[]store.StoredDocument{badMeta}, store.ErrInvalidRecord},
		"entry of another":  {[]store.StoredDocument{steal}, ErrDuplicateID},
		"entry twice":       {[]store.StoredDocument{dup}, ErrDuplicateID},
		"twice in a batch":  {[]store.StoredDocument{doc("f", "1", 1, nil), func() store.StoredDocument { d := doc("g", "1", 1, nil); d.Records[0].ID = "f#0"; return d }()}, ErrDuplicateID},
		"empty record ID":   {[]store.StoredDocument{func() store.StoredDocument { d := doc("h", "1", 1, nil); d.Records[0].ID = ""; return d }()}, store.ErrInvalidRecord},
		"record of another": {[]store.StoredDocument{{ID: "i", Records: []store.Record{{ID: "i#0", DocID: "j"}}}}, store.ErrInvalidRecord},
	} {
		if err := s.Upsert(c.docs...); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if got := contents(t, s); !slices.Equal(got, before) || s.Len() != 1 {
		t.Fatalf("a rejected write changed the store: %v", got)
	}
	// A batch may move an entry ID from a document it replaces.
	moved := doc("k", "1", 1, nil)
	moved.Records[0].ID = "a#1"
	must(t, s.Upsert(doc("a", "2", 1, nil), moved))
	// Nothing rejected reached the log.
	s.Close()
	again := newStore(t, s.disk.path)
	if got, want := contents(t, again), contents(t, s); !slices.Equal(got, want) {
		t.Fatalf("reopened: %v, want %v", got, want)
	}
}

// TestStoreChunkMetadata: metadata that differs between chunks (a heading
// path) stays with its chunk, for results and filters alike.
func TestStoreChunkMetadata(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.idx")
	s := newStore(t, path)
	d := doc("a", "1", 3, nil)
	for i := range d.Records {
		d.Records[i].Metadata = map[string]any{"team": "ops", "section": fmt.Sprint("s", i)}
	}
	d.Records[2].Metadata["extra"] = true
	must(t, s.Upsert(d))
	check := func(s *Store) {
		t.Helper()
		res, err := s.SearchText(ctx, "shared", 10, store.Eq("section", "s1"))
		if err != nil || len(res) != 1 || res[0].ID != "a#1" || res[0].Metadata["team"] != "ops" || res[0].Metadata["section"] != "s1" {
			t.Fatalf("section filter: %+v %v", res, err)
		}
		if _, ok := res[0].Metadata["extra"]; ok {
			t.Fatalf("another chunk's key: %v", res[0].Metadata)
		}
		res, _ = s.SearchText(ctx, "shared", 10, store.Exists("extra"))
		if len(res) != 1 || res[0].ID != "a#2" {
			t.Fatalf("exists(extra): %+v", res)
		}
	}
	check(s)
	must(t, s.Compact())
	s.Close()
	check(newStore(t, path))
}

func TestStoreDocumentIDs(t *testing.T) {
	s := newStore(t, "")
	past, future := time.Now().Add(-time.Hour).UTC(), time.Now().Add(time.Hour).UTC()
	must(t, s.Upsert(doc("old", "1", 2, map[string]any{"exp": past}), doc("new", "1", 1, map[string]any{"exp": future}), doc("never", "1", 1, nil)))
	for _, c := range []struct {
		f    *store.Filter
		want []string
	}{
		{store.Lte("exp", time.Now()), []string{"old"}},
		{nil, []string{"never", "new", "old"}},
		{store.Exists("nobody-has-it"), []string{}},
		{store.Not(store.Exists("nobody-has-it")), []string{"never", "new", "old"}},
	} {
		got, err := s.DocumentIDs(ctx, c.f)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("DocumentIDs(%v) = %v %v, want %v", c.f, got, err, c.want)
		}
	}
	if _, err := s.DocumentIDs(ctx, &store.Filter{Op: "bogus"}); !errors.Is(err, store.ErrInvalidFilter) {
		t.Errorf("invalid filter: %v", err)
	}
}

// logFiles returns the store's log files.
func logFiles(t *testing.T, path string) []string {
	t.Helper()
	m, err := filepath.Glob(path + ".log.*")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

// TestStoreLogReplayAfterCrash: a write cut short at any byte of its log
// record is lost whole at reopen; every earlier write is there, and the
// store goes on writing after the cut.
func TestStoreLogReplayAfterCrash(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.idx")
	s := newStore(t, path)
	must(t, s.Upsert(doc("a", "1", 2, nil), doc("b", "1", 1, nil)))
	must(t, s.Delete("b"))
	want := contents(t, s)
	logs := logFiles(t, path)
	if len(logs) != 1 {
		t.Fatalf("logs %v", logs)
	}
	size := fileSize(t, logs[0])
	must(t, s.Upsert(doc("c", "1", 3, nil), doc("a", "2", 1, nil)))
	s.Close()
	full, err := os.ReadFile(logs[0])
	if err != nil {
		t.Fatal(err)
	}
	for cut := size; cut < int64(len(full)); cut += max(1, (int64(len(full))-size)/17) {
		// The process died while writing the last record: only its first
		// cut bytes reached the disk.
		must(t, os.WriteFile(logs[0], full[:cut], 0o644))
		r, err := NewStore(StoreOptions{Path: path})
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if got := contents(t, r); !slices.Equal(got, want) {
			t.Fatalf("cut at %d of %d: %v, want %v", cut, len(full), got, want)
		}
		// The torn tail is cut off: new writes follow the last whole record.
		must(t, r.Upsert(doc("d", "1", 1, nil)))
		r.Close()
		r2 := newStore(t, path)
		if _, ok := r2.Hash("d"); !ok || r2.Len() != 2 {
			t.Fatalf("cut at %d: write after the cut lost: %d documents", cut, r2.Len())
		}
		r2.Close()
	}
	// A last record of the full length whose bytes did not all reach the
	// disk (zeros at its end) is a tear too.
	zeroed := slices.Clone(full)
	clear(zeroed[len(zeroed)-5:])
	must(t, os.WriteFile(logs[0], zeroed, 0o644))
	for range 2 { // the second open reads what the first left
		r, err := NewStore(StoreOptions{Path: path})
		if err != nil || !slices.Equal(contents(t, r), want) {
			t.Fatalf("zeroed tail: %v", err)
		}
		r.Close()
	}
	// A damaged record followed by whole ones is corruption, not a tear.
	damaged := slices.Clone(full)
	damaged[size+10] ^= 0xff
	must(t, os.WriteFile(logs[0], append(damaged, full[len(logHeader(1, s.ix.name)):size]...), 0o644))
	if _, err := NewStore(StoreOptions{Path: path}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("damaged record inside the log: %v, want ErrCorrupt", err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestStoreCompaction: a snapshot folds the logs in and removes them;
// writes made while it is written go to the next log; a reopened store
// equals the one that wrote.
func TestStoreCompaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.idx")
	s := newStore(t, path)
	for i := range 50 {
		must(t, s.Upsert(doc(fmt.Sprint("d", i), "1", 1+i%3, map[string]any{"i": float64(i)})))
	}
	must(t, s.Delete("d7"))
	var wg sync.WaitGroup
	wg.Go(func() { must(t, s.Compact()) })
	for i := range 20 {
		must(t, s.Upsert(doc(fmt.Sprint("d", i), "2", 1, nil)))
	}
	wg.Wait()
	if logs := logFiles(t, path); len(logs) > 1 {
		t.Errorf("logs left after the snapshot: %v", logs)
	}
	want := contents(t, s)
	s.Close()
	r := newStore(t, path)
	if got := contents(t, r); !slices.Equal(got, want) {
		t.Fatalf("reopened after compaction: %d records, want %d", len(got), len(want))
	}
	// A snapshot with no log after it reopens the same.
	must(t, r.Compact())
	if logs := logFiles(t, path); len(logs) != 0 {
		t.Errorf("logs after a snapshot with no writes since: %v", logs)
	}
	r.Close()
	if got := contents(t, newStore(t, path)); !slices.Equal(got, want) {
		t.Fatal("reopened after a second compaction differs")
	}
	// Damaged snapshots are errors.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{"truncated": data[:len(data)/2], "flipped": flip(data, len(data)/3), "postings flipped": flip(data, len(data)-20),
		"offset flipped": flip(data, len(data)-snapshotTrailer), "head checksum flipped": flip(data, len(data)-8), "foreign": []byte("something else entirely")} {
		must(t, os.WriteFile(path, bad, 0o644))
		if _, err := NewStore(StoreOptions{Path: path}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s snapshot: %v, want ErrCorrupt", name, err)
		}
	}
	must(t, os.WriteFile(path, data, 0o644))
	if _, err := NewStore(StoreOptions{Path: path, BM25: Options{Analyzer: NewEnglish(English{NoStemming: true})}}); !errors.Is(err, ErrAnalyzerMismatch) {
		t.Errorf("other analyzer: %v", err)
	}
}

func flip(b []byte, i int) []byte {
	b = slices.Clone(b)
	b[i] ^= 0x55
	return b
}

// TestStoreBackgroundSnapshot: with a small log limit, writes trigger
// snapshots in the background while searches and writes go on (run with
// -race); Close waits for them, and nothing written is lost.
func TestStoreBackgroundSnapshot(t *testing.T) {
	defer func(old int64) { minLog = old }(minLog)
	minLog = 2 << 10
	path := filepath.Join(t.TempDir(), "x.idx")
	s := newStore(t, path)
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			for i := range 60 {
				id := fmt.Sprintf("w%d-%d", w, i%25)
				var err error
				switch i % 5 {
				case 4:
					err = s.Delete(id)
				default:
					err = s.Upsert(doc(id, fmt.Sprint(i), 1+i%3, map[string]any{"w": float64(w)}))
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for r := range 2 {
		wg.Go(func() {
			for range 100 {
				if _, err := s.SearchText(ctx, "shared chunk1", 5, store.Eq("w", float64(r))); err != nil {
					t.Error(err)
					return
				}
				s.Hash("w0-1")
				if _, err := s.DocumentIDs(ctx, store.Exists("w")); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	want := contents(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Upsert(doc("late", "1", 1, nil)); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
	if got := contents(t, newStore(t, path)); !slices.Equal(got, want) {
		t.Fatalf("reopened: %d records, want %d", len(got), len(want))
	}
}

// TestStoreFilterFolding: results are the same with filter folding and
// without it, and equal a brute-force filtered top k, on random filters
// over metadata that some keys never have.
func TestStoreFilterFolding(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	folded, plain := newStore(t, ""), newStore(t, "")
	plain.noFold = true
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	vocab := strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa")
	for i := range 300 {
		meta := map[string]any{}
		if i%2 == 0 {
			meta["n"] = float64(rng.IntN(10))
		}
		if i%3 == 0 {
			meta["kind"] = []string{"a", "b", "c"}[rng.IntN(3)]
		}
		if i%50 == 0 {
			meta["exp"] = now.Add(time.Duration(rng.IntN(48)-24) * time.Hour)
		}
		id := fmt.Sprint("d", i)
		d := store.StoredDocument{ID: id, Hash: "h"}
		for c := range 1 + rng.IntN(2) {
			var words []string
			for range 3 + rng.IntN(6) {
				words = append(words, vocab[rng.IntN(len(vocab))])
			}
			d.Records = append(d.Records, store.Record{ID: fmt.Sprintf("%s#%d", id, c), DocID: id, Chunk: c, Text: strings.Join(words, " "), Metadata: meta})
		}
		if i%7 == 0 {
			d.Records[0].Title = "titled"
		}
		must(t, folded.Upsert(d))
		must(t, plain.Upsert(d))
	}
	fields := []string{"n", "kind", "exp", "absent", "also-absent", store.FieldTitle, store.FieldTags, store.FieldDocID}
	var leaf func(depth int) *store.Filter
	leaf = func(depth int) *store.Filter {
		if depth > 0 && rng.IntN(3) > 0 {
			subs := make([]*store.Filter, 1+rng.IntN(3))
			for i := range subs {
				subs[i] = leaf(depth - 1)
			}
			switch rng.IntN(3) {
			case 0:
				return store.And(subs...)
			case 1:
				return store.Or(subs...)
			}
			return store.Not(subs[0])
		}
		f := fields[rng.IntN(len(fields))]
		switch rng.IntN(6) {
		case 0:
			return store.Exists(f)
		case 1:
			return store.Ne(f, "a")
		case 2:
			return store.In(f, "a", "b", "titled", "d5")
		case 3:
			return store.NotIn(f, "c")
		}
		if f == "exp" {
			return store.Gt(f, now)
		}
		if f == "n" || strings.HasPrefix(f, "a") {
			return store.Lte(f, 4)
		}
		return store.Eq(f, "titled")
	}
	skipped := 0
	for i := range 400 {
		f := leaf(3)
		if i%4 == 0 { // the pipeline's expiry filter, around a random one
			f = store.And(f, store.Or(store.Not(store.Exists("absent")), store.Gt("absent", now)))
		}
		q := strings.Join([]string{vocab[rng.IntN(len(vocab))], vocab[rng.IntN(len(vocab))]}, " ")
		k := 1 + rng.IntN(12)
		got, err := folded.SearchText(ctx, q, k, f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := plain.SearchText(ctx, q, k, f)
		if err != nil {
			t.Fatal(err)
		}
		if g, _ := folded.simplify(f); g != f {
			skipped++
		}
		// Brute force: every match, then the filter, then the cut.
		all, _ := plain.SearchText(ctx, q, 1<<20, nil)
		var brute []store.Result
		for _, r := range all {
			if f.Match(&r.Record) {
				brute = append(brute, r)
			}
		}
		brute = brute[:min(k, len(brute))]
		if a, b, c := resultIDs(got), resultIDs(want), resultIDs(brute); !slices.Equal(a, b) || !slices.Equal(b, c) {
			t.Fatalf("filter %v, query %q, k %d:\nfolded %v\nplain  %v\nbrute  %v", f, q, k, a, b, c)
		}
		ids1, _ := folded.DocumentIDs(ctx, f)
		ids2, _ := plain.DocumentIDs(ctx, f)
		if !slices.Equal(ids1, ids2) {
			t.Fatalf("DocumentIDs(%v): folded %v, plain %v", f, ids1, ids2)
		}
	}
	if skipped < 100 {
		t.Errorf("only %d of 400 filters were simplified: the test does not exercise folding", skipped)
	}
}

func resultIDs(rs []store.Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = fmt.Sprintf("%s:%.6g", r.ID, r.Score)
	}
	return out
}

// TestStoreFoldsExpiry: with no record holding the key, the pipeline's
// expiry filter folds away entirely; with one, it stays.
func TestStoreFoldsExpiry(t *testing.T) {
	s := newStore(t, "")
	must(t, s.Upsert(doc("a", "1", 1, nil)))
	expiry := store.Or(store.Not(store.Exists("rag_expires_at")), store.Gt("rag_expires_at", time.Now()))
	s.mu.RLock()
	g, c := s.simplify(store.And(store.Eq(store.FieldDocID, "a"), expiry))
	s.mu.RUnlock()
	if c != depends || g.Op != store.OpEq {
		t.Fatalf("folded to %v (%v), want the _id comparison alone", g, c)
	}
	must(t, s.Upsert(doc("b", "1", 1, map[string]any{"rag_expires_at": time.Now().Add(time.Hour)})))
	s.mu.RLock()
	g, _ = s.simplify(expiry)
	s.mu.RUnlock()
	if g != expiry {
		t.Fatalf("expiry filter folded while a record expires: %v", g)
	}
	must(t, s.Delete("b"))
	s.mu.RLock()
	g, c = s.simplify(expiry)
	s.mu.RUnlock()
	if g != nil || c != matchesAll {
		t.Fatalf("after the expiring document left: %v %v", g, c)
	}
}

// TestStoreReadsOldFormat: a file package rag wrote before Store existed
// (RAGLEX2: an Index file, the documents in gob, the index's length) is
// read, headings and all, and rewritten in the current format.
func TestStoreReadsOldFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bm25.idx")
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	old := map[string]*legacyDoc{
		"a": {Hash: "ha", Fields: store.Record{DocID: "a", Title: "Guide", Source: "a.md", Tags: []string{"x"}, Metadata: map[string]any{"team": "ops", "rag_expires_at": exp}},
			Chunks: []legacyChunk{{Text: "install the router", Start: 0, End: 18, Headings: []string{"Install"}}, {Text: "configure the router", Start: 20, End: 40, Headings: []string{"Install", "Configure"}}}},
		"b": {Hash: "hb", Fields: store.Record{DocID: "b"}, Chunks: []legacyChunk{{Text: "switches forward frames", End: 23}}},
	}
	ix := New(Options{})
	for id, d := range old {
		var es []Entry
		for i, c := range d.Chunks {
			es = append(es, Entry{ID: fmt.Sprintf("%s#%d", id, i), Text: c.Text})
		}
		must(t, ix.Upsert(id, es))
	}
	var buf bytes.Buffer
	buf.WriteString(legacyMagic)
	n, err := ix.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	must(t, gob.NewEncoder(&buf).Encode(old))
	must(t, binary.Write(&buf, binary.LittleEndian, uint64(n)))
	must(t, os.WriteFile(path, buf.Bytes(), 0o644))

	s := newStore(t, path)
	check := func(s *Store) {
		t.Helper()
		if h, _ := s.Hash("a"); h != "ha" || s.Len() != 2 {
			t.Fatalf("hash %q, %d documents", h, s.Len())
		}
		res, err := s.SearchText(ctx, "configure router", 1, store.Eq(legacyHeadings, "Configure"))
		if err != nil || len(res) != 1 {
			t.Fatalf("headings filter: %v %v", res, err)
		}
		r := res[0]
		if r.ID != "a#1" || r.Chunk != 1 || r.Text != "configure the router" || r.Start != 20 || r.End != 40 || r.Title != "Guide" ||
			r.Metadata["team"] != "ops" || !r.Metadata["rag_expires_at"].(time.Time).Equal(exp) ||
			!slices.Equal(r.Metadata[legacyHeadings].([]string), []string{"Install", "Configure"}) {
			t.Fatalf("migrated record: %+v", r)
		}
		if res, _ := s.SearchText(ctx, "frames", 5, nil); len(res) != 1 || res[0].ID != "b#0" {
			t.Fatalf("b: %v", res)
		}
	}
	check(s)
	data, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(data, []byte(snapMagic)) {
		t.Fatalf("not rewritten in the current format: %q %v", data[:min(8, len(data))], err)
	}
	s.Close()
	check(newStore(t, path))

	// A damaged old file is an error, not an empty store.
	bad := buf.Bytes()[:buf.Len()-20]
	must(t, os.WriteFile(path, bad, 0o644))
	if _, err := NewStore(StoreOptions{Path: path}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("damaged old file: %v", err)
	}
}

// TestStoreReplayCompacts: a log whose deletes make the index compact
// while it is replayed (postings held back during the replay are added
// before the compaction renumbers entries) reopens as the store that
// wrote it, and searches rank the same.
func TestStoreReplayCompacts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.idx")
	s := newStore(t, path)
	for i := range 1500 {
		must(t, s.Upsert(doc(fmt.Sprint("d", i), "1", 1+i%2, nil)))
	}
	var gone []string
	for i := range 1400 {
		gone = append(gone, fmt.Sprint("d", i))
	}
	must(t, s.Delete(gone...))
	for i := range 30 {
		must(t, s.Upsert(doc(fmt.Sprint("d", i*7), "2", 2, nil)))
	}
	if logs := logFiles(t, path); len(logs) != 1 {
		t.Fatalf("want everything in one log, got %v", logs)
	}
	want := contents(t, s)
	query := func(s *Store) []string {
		res, err := s.SearchText(ctx, "d1450 version 2 chunk1", 20, nil)
		must(t, err)
		var out []string
		for _, r := range res {
			out = append(out, fmt.Sprintf("%s %.6f", r.ID, r.Score))
		}
		return out
	}
	wantTop := query(s)
	s.Close()
	r := newStore(t, path)
	if got := contents(t, r); !slices.Equal(got, want) {
		t.Fatalf("reopened: %d records, want %d", len(got), len(want))
	}
	if got := query(r); !slices.Equal(got, wantTop) || len(got) == 0 {
		t.Fatalf("ranking after replay: %v, want %v", got, wantTop)
	}
	if added := 1500 + 1500/2 + 30*2; len(r.ix.lens) >= added {
		t.Fatalf("no compaction during the replay: %d entry ordinals of %d added", len(r.ix.lens), added)
	}
}
