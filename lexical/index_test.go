package lexical

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// reference is a brute-force BM25 over a map of documents, written
// straight from the formula in the package documentation.
type reference struct {
	k1, b float64
	an    Analyzer
	docs  map[string][]Entry
}

func (r *reference) search(query string, k int, keep Filter) []Hit {
	type ent struct {
		id, doc string
		terms   []string
	}
	var ents []ent
	total := 0
	for doc, es := range r.docs {
		for _, e := range es {
			terms := r.an.Analyze(e.Text)
			ents = append(ents, ent{e.ID, doc, terms})
			total += len(terms)
		}
	}
	if len(ents) == 0 {
		return nil
	}
	n := float64(len(ents))
	avgdl := float64(total) / n
	if avgdl == 0 {
		avgdl = 1
	}
	qtf := map[string]int{}
	var order []string
	for _, t := range r.an.Analyze(query) {
		if qtf[t] == 0 {
			order = append(order, t)
		}
		qtf[t]++
	}
	var hits []Hit
	for _, e := range ents {
		tf := map[string]int{}
		for _, t := range e.terms {
			tf[t]++
		}
		score, matched := 0.0, false
		for _, t := range order {
			if tf[t] == 0 {
				continue
			}
			df := 0
			for _, o := range ents {
				for _, ot := range o.terms {
					if ot == t {
						df++
						break
					}
				}
			}
			idf := math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
			f := float64(tf[t])
			score += float64(qtf[t]) * idf * f * (r.k1 + 1) / (f + r.k1*(1-r.b+r.b*float64(len(e.terms))/avgdl))
			matched = true
		}
		if matched && (keep == nil || keep(e.id, e.doc)) {
			hits = append(hits, Hit{e.id, e.doc, score})
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].ID < hits[j].ID
	})
	if len(hits) > k {
		hits = hits[:k]
	}
	return hits
}

// sameHits compares results allowing floating-point noise in scores (the
// index and the reference sum in the same order, but compute avgdl from
// running totals).
func sameHits(t *testing.T, label string, got, want []Hit) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d hits, want %d\n got %v\nwant %v", label, len(got), len(want), got, want)
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].DocID != want[i].DocID || math.Abs(got[i].Score-want[i].Score) > 1e-9 {
			t.Fatalf("%s: hit %d = %+v, want %+v\n got %v\nwant %v", label, i, got[i], want[i], got, want)
		}
	}
}

func TestSearchHandComputed(t *testing.T) {
	ix := New(Options{K1: 1.2, B: 0.75, Analyzer: English{NoStemming: true, StopWords: []string{}}})
	must(t, ix.Upsert("d1", []Entry{{"e1", "apple banana apple"}}))
	must(t, ix.Upsert("d2", []Entry{{"e2", "banana cherry"}, {"e3", "cherry cherry cherry date"}}))
	// N = 3, lengths 3, 2, 4: avgdl = 3.
	// Query "apple": only e1 (tf 2, |d| 3), n = 1.
	n, avgdl, k1, b := 3.0, 3.0, 1.2, 0.75
	idf := func(df float64) float64 { return math.Log(1 + (n-df+0.5)/(df+0.5)) }
	term := func(tf, dl, df float64) float64 {
		return idf(df) * tf * (k1 + 1) / (tf + k1*(1-b+b*dl/avgdl))
	}
	hits := ix.Search("apple", 10, nil)
	if len(hits) != 1 || hits[0].ID != "e1" || hits[0].DocID != "d1" || math.Abs(hits[0].Score-term(2, 3, 1)) > 1e-12 {
		t.Fatalf("apple: %v, want e1 with %v", hits, term(2, 3, 1))
	}
	// Query "banana cherry banana": banana twice (qtf 2) in e1 and e2
	// (df 2), cherry in e2 and e3 (df 2).
	want := map[string]float64{
		"e1": 2 * term(1, 3, 2),
		"e2": 2*term(1, 2, 2) + term(1, 2, 2),
		"e3": term(3, 4, 2),
	}
	hits = ix.Search("banana cherry banana", 10, nil)
	if len(hits) != 3 {
		t.Fatalf("got %v", hits)
	}
	for i, h := range hits {
		if math.Abs(h.Score-want[h.ID]) > 1e-12 {
			t.Errorf("%s: score %v, want %v", h.ID, h.Score, want[h.ID])
		}
		if i > 0 && hits[i-1].Score < h.Score {
			t.Errorf("not sorted: %v", hits)
		}
	}
	if got := ix.Search("banana cherry banana", 1, nil); len(got) != 1 || got[0].ID != hits[0].ID {
		t.Errorf("k=1: %v, want the best of %v", got, hits)
	}
	if got := ix.Search("zebra", 10, nil); len(got) != 0 {
		t.Errorf("unknown term: %v", got)
	}
	if got := ix.Search("", 10, nil); got != nil {
		t.Errorf("empty query: %v", got)
	}
	if got := ix.Search("apple", 0, nil); got != nil {
		t.Errorf("k=0: %v", got)
	}
}

func TestTiesBrokenByID(t *testing.T) {
	ix := New(Options{})
	// Identical texts score identically.
	for _, id := range []string{"c", "a", "d", "b"} {
		must(t, ix.Upsert("doc-"+id, []Entry{{id, "same words here"}}))
	}
	must(t, ix.Upsert("other", []Entry{{"z", "different"}}))
	hits := ix.Search("words", 3, nil)
	var ids []string
	for _, h := range hits {
		ids = append(ids, h.ID)
	}
	if strings.Join(ids, ",") != "a,b,c" {
		t.Errorf("ties: %v, want a,b,c", ids)
	}
}

func TestUpsertReplacesAndDelete(t *testing.T) {
	ix := New(Options{})
	must(t, ix.Upsert("d", []Entry{{"d#0", "old text about apples"}, {"d#1", "more apples"}}))
	must(t, ix.Upsert("e", []Entry{{"e#0", "pears"}}))
	if ix.Len() != 3 || ix.Docs() != 2 {
		t.Fatalf("Len %d Docs %d, want 3 2", ix.Len(), ix.Docs())
	}
	must(t, ix.Upsert("d", []Entry{{"d#0", "new text about oranges"}}))
	if ix.Len() != 2 {
		t.Errorf("Len after replace = %d, want 2", ix.Len())
	}
	if hits := ix.Search("apples", 10, nil); len(hits) != 0 {
		t.Errorf("stale entries found: %v", hits)
	}
	if hits := ix.Search("oranges", 10, nil); len(hits) != 1 || hits[0].ID != "d#0" {
		t.Errorf("new entry not found: %v", hits)
	}
	must(t, ix.Upsert("d", nil)) // no entries: delete
	if ix.Has("d") || ix.Len() != 1 {
		t.Errorf("Upsert(nil) did not delete: Has %v Len %d", ix.Has("d"), ix.Len())
	}
	ix.Delete("e", "never-there")
	if ix.Len() != 0 || ix.Docs() != 0 || ix.Search("pears", 5, nil) != nil {
		t.Errorf("Delete left Len %d Docs %d", ix.Len(), ix.Docs())
	}
}

func TestUpsertErrors(t *testing.T) {
	ix := New(Options{})
	must(t, ix.Upsert("a", []Entry{{"x", "alpha"}}))
	cases := []struct {
		doc     string
		entries []Entry
		want    error
	}{
		{"", []Entry{{"y", "t"}}, ErrEmptyID},
		{"b", []Entry{{"", "t"}}, ErrEmptyID},
		{"b", []Entry{{"y", "t"}, {"y", "u"}}, ErrDuplicateID},
		{"b", []Entry{{"y", "beta"}, {"x", "t"}}, ErrDuplicateID}, // x belongs to a
	}
	for _, c := range cases {
		if err := ix.Upsert(c.doc, c.entries); !errors.Is(err, c.want) {
			t.Errorf("Upsert(%q, %v) = %v, want %v", c.doc, c.entries, err, c.want)
		}
	}
	// Nothing was half-written.
	if ix.Len() != 1 || ix.Has("b") || len(ix.Search("beta", 5, nil)) != 0 {
		t.Errorf("failed upserts changed the index: Len %d", ix.Len())
	}
	// Re-using one's own IDs is fine.
	must(t, ix.Upsert("a", []Entry{{"x", "gamma"}}))
}

func TestFilter(t *testing.T) {
	ix := New(Options{})
	docs := map[string][]Entry{}
	for i := range 10 {
		d := fmt.Sprintf("d%d", i%3)
		docs[d] = append(docs[d], Entry{fmt.Sprintf("e%d", i), strings.Repeat("word ", i+1) + "filler text"})
	}
	for d, es := range docs {
		must(t, ix.Upsert(d, es))
	}
	keep := func(id, docID string) bool { return docID == "d1" }
	got := ix.Search("word", 2, keep)
	var want []Hit
	for _, h := range ix.Search("word", 100, nil) {
		if h.DocID == "d1" {
			want = append(want, h)
		}
	}
	if len(want) < 3 {
		t.Fatalf("setup: %d hits in d1", len(want))
	}
	sameHits(t, "filtered", got, want[:2])
}

func TestAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu running runs ran the of")
	text := func() string {
		n := rng.IntN(12)
		w := make([]string, n)
		for i := range w {
			w[i] = vocab[rng.IntN(len(vocab))]
		}
		return strings.Join(w, " ")
	}
	for _, opts := range []Options{{}, {K1: 1.2, B: 0.75}, {K1: -1, B: -1}, {B: 1}} {
		ix := New(opts)
		ref := &reference{k1: ix.k1, b: ix.b, an: ix.analyzer, docs: map[string][]Entry{}}
		for step := range 3000 { // enough deletions to trigger compaction
			doc := fmt.Sprintf("doc%d", rng.IntN(60))
			switch rng.IntN(5) {
			case 0:
				ix.Delete(doc)
				delete(ref.docs, doc)
			default:
				var es []Entry
				for c := range rng.IntN(4) {
					es = append(es, Entry{fmt.Sprintf("%s#%d", doc, c), text()})
				}
				must(t, ix.Upsert(doc, es))
				if len(es) == 0 {
					delete(ref.docs, doc)
				} else {
					ref.docs[doc] = es
				}
			}
			if step%97 == 0 {
				for range 3 {
					q, k := text(), 1+rng.IntN(8)
					sameHits(t, fmt.Sprintf("opts %+v step %d query %q", opts, step, q), ix.Search(q, k, nil), ref.search(q, k, nil))
				}
			}
		}
		if len(ix.lens) > 2*ix.live+1024 {
			t.Errorf("no compaction: %d records for %d live", len(ix.lens), ix.live)
		}
	}
}

func TestConcurrentSearchAndWrite(t *testing.T) {
	ix := New(Options{})
	// Every entry of a document carries the word of the document's
	// version, so a search for a version word sees all entries of a
	// document or none: never a mix of two versions.
	const entries = 4
	write := func(doc string, v int) error {
		es := make([]Entry, entries)
		for i := range es {
			es[i] = Entry{fmt.Sprintf("%s#%d", doc, i), fmt.Sprintf("v%d common", v)}
		}
		return ix.Upsert(doc, es)
	}
	for d := range 8 {
		must(t, write(fmt.Sprint("d", d), 0))
	}
	var writers, readers sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 16)
	for w := range 2 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for v := 1; v <= 300; v++ {
				if err := write(fmt.Sprint("d", (v+w)%8), v%2); err != nil {
					errs <- err
					return
				}
				if v%50 == 0 {
					ix.Delete(fmt.Sprint("d", w))
				}
			}
		}()
	}
	for range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, v := range []string{"v0", "v1"} {
					count := map[string]int{}
					for _, h := range ix.Search(v, 1000, nil) {
						count[h.DocID]++
					}
					for doc, n := range count {
						if n != entries {
							select {
							case errs <- fmt.Errorf("%s: %d entries of a version", doc, n):
							default:
							}
						}
					}
				}
			}
		}()
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if ix.Docs() < 6 || ix.Len() != ix.Docs()*entries {
		t.Errorf("Docs %d Len %d, want at least 6 documents of %d entries", ix.Docs(), ix.Len(), entries)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPackedStats: packedStats agrees with eachTerm on packed terms of
// every size of varint, and refuses what eachTerm refuses.
func TestPackedStats(t *testing.T) {
	for _, pairs := range [][]termPair{{}, {{0, 1}}, {{3, 2}, {5, 1}, {200, 300}, {70000, 1}, {70001, 1 << 20}}} {
		packed := string(packTerms(nil, slices.Clone(pairs)))
		var n int
		var sum int32
		ok := eachTerm(packed, 70002, func(_, tf int32) { n++; sum += tf })
		gn, gsum, gok := packedStats(packed, 70002)
		if !ok || gn != n || gsum != sum || gn != len(pairs) {
			t.Errorf("%v: packedStats %d %d %v, eachTerm %d %d %v", pairs, gn, gsum, gok, n, sum, ok)
		}
		if len(pairs) > 0 {
			if _, _, ok := packedStats(packed, int(pairs[len(pairs)-1].t)); ok {
				t.Errorf("%v: a term ID past the terms accepted", pairs)
			}
			if _, _, ok := packedStats(packed[:len(packed)-1], 70002); ok {
				t.Errorf("%v: truncated terms accepted", pairs)
			}
		}
	}
	for _, bad := range []string{"\x01\x00", "\x01\x01\x00\x01", "\x80"} { // tf 0, repeated term, torn varint
		if _, _, ok := packedStats(bad, 10); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}
