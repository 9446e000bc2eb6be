// Package lexical is an in-process Okapi BM25 index: keyword search that
// complements vector search (exact terms, names, codes and rare words that
// embeddings blur), for hybrid retrieval.
//
// The index holds entries (the chunk records of a store) grouped by
// document, and is written a document at a time, like a store.Store:
//
//	ix := lexical.New(lexical.Options{})
//	err := ix.Upsert("doc-1", []lexical.Entry{{ID: "doc-1#0", Text: "..."}})
//	hits := ix.Search("query words", 10, nil)
//
// Scoring is BM25 with Lucene's idf, as Anserini computes its baselines:
//
//	score(q, d) = Σ_t∈q  qtf(t) · idf(t) · tf(t,d)·(k1+1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl))
//	idf(t)      = ln(1 + (N − n(t) + 0.5) / (n(t) + 0.5))
//
// where N is the number of entries, n(t) the number of entries holding t,
// |d| the number of terms of d after analysis and qtf(t) how many times t
// occurs in the query. Each entry is a BM25 document. With the default
// English analyzer, k1 = 0.9 and b = 0.4 this follows Anserini's BEIR
// BM25 "flat" baseline: on SciFact it scores nDCG@10 0.678 where Anserini
// reports 0.6789 (the small gap: Lucene stores document lengths lossily,
// this index exactly). See TestSciFactBM25.
package lexical

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
)

// Default BM25 parameters: Anserini's defaults for its BEIR baselines.
const (
	DefaultK1 = 0.9
	DefaultB  = 0.4
)

// Sentinel errors, wrapped with %w; test them with errors.Is.
var (
	// ErrEmptyID: a document or entry ID is empty.
	ErrEmptyID = errors.New("lexical: empty ID")
	// ErrDuplicateID: an entry ID occurs twice in one document, or
	// belongs to another document of the index.
	ErrDuplicateID = errors.New("lexical: duplicate entry ID")
	// ErrCorrupt: a saved index is truncated, altered or not an index.
	ErrCorrupt = errors.New("lexical: corrupt index file")
	// ErrVersion: a saved index has a format version this package cannot
	// read.
	ErrVersion = errors.New("lexical: unsupported index file version")
	// ErrAnalyzerMismatch: a saved index was built with another analyzer
	// than the one of the index it is loaded into.
	ErrAnalyzerMismatch = errors.New("lexical: analyzer differs from the saved index's")
)

// Options configures an Index. The zero value is Anserini's BM25: k1 0.9,
// b 0.4 and the English analyzer.
type Options struct {
	// K1 saturates term frequency; 0 means DefaultK1. A negative value
	// means 0 (term frequency ignored: a binary model).
	K1 float64
	// B is the strength of document-length normalisation, in [0, 1]; 0
	// means DefaultB. A negative value means 0 (no normalisation).
	B float64
	// Analyzer turns texts and queries into terms; nil means English{}.
	Analyzer Analyzer
}

// Entry is one searchable text: a chunk record of a document.
type Entry struct {
	ID   string // unique in the index; usually a store record ID
	Text string
}

// Hit is an entry matching a query.
type Hit struct {
	ID    string  // entry ID
	DocID string  // document the entry belongs to
	Score float64 // BM25 score, > 0
}

// Filter chooses the entries a search may return. It is called under the
// index's read lock and must not call the Index.
type Filter func(id, docID string) bool

// Index is a BM25 index of entries grouped by document.
//
// Concurrency: all methods may be called concurrently. Searches run in
// parallel with each other; a write (Upsert, Delete, ReadFrom) is atomic:
// a search sees the index as it was before the write or after it.
//
// Ownership: the index keeps no reference to the slices passed to it;
// returned slices belong to the caller.
type Index struct {
	k1, b    float64
	analyzer Analyzer
	name     string // analyzer name, for persistence

	mu    sync.RWMutex
	terms map[string]int32 // term -> term ID
	words []string         // term ID -> term
	post  []postings       // term ID -> postings, ordinals ascending
	df    []int32          // term ID -> live entries holding the term
	recs  []record         // ordinal -> entry (dead ones until compaction)
	byID  map[string]int32 // entry ID -> ordinal (live entries only)
	byDoc map[string][]int32
	live  int
	total int64 // sum of live entries' lengths

	accs sync.Pool // *accumulator
}

type postings struct {
	ords []int32
	tfs  []int32
}

type record struct {
	id, docID string
	length    int32   // number of terms
	terms     []int32 // distinct term IDs, for deletion
	dead      bool
}

// New returns an empty index.
func New(opts Options) *Index {
	ix := &Index{k1: opts.K1, b: opts.B, analyzer: opts.Analyzer}
	if ix.k1 == 0 {
		ix.k1 = DefaultK1
	} else if ix.k1 < 0 {
		ix.k1 = 0
	}
	if ix.b == 0 {
		ix.b = DefaultB
	} else if ix.b < 0 {
		ix.b = 0
	} else if ix.b > 1 {
		ix.b = 1
	}
	if ix.analyzer == nil {
		ix.analyzer = English{}
	}
	if n, ok := ix.analyzer.(Namer); ok {
		ix.name = n.Name()
	}
	ix.reset()
	return ix
}

func (ix *Index) reset() {
	ix.terms = map[string]int32{}
	ix.words, ix.post, ix.df, ix.recs = nil, nil, nil, nil
	ix.byID = map[string]int32{}
	ix.byDoc = map[string][]int32{}
	ix.live, ix.total = 0, 0
}

// termFreq is one term of an analysed entry.
type termFreq struct {
	term string
	tf   int32
}

// analyzed is an entry ready to be indexed.
type analyzed struct {
	id    string
	terms []termFreq // sorted by term
}

func countTerms(terms []string) []termFreq {
	counts := make(map[string]int32, len(terms))
	for _, t := range terms {
		counts[t]++
	}
	out := make([]termFreq, 0, len(counts))
	for t, n := range counts {
		out = append(out, termFreq{t, n})
	}
	slices.SortFunc(out, func(a, b termFreq) int { return strings.Compare(a.term, b.term) })
	return out
}

// Upsert replaces every entry of document docID with entries, atomically.
// Upsert with no entries deletes the document. Entries are analysed before
// the index is locked, so searches are not held up by analysis.
//
// It fails, changing nothing, with ErrEmptyID when docID or an entry ID is
// empty, and with ErrDuplicateID when an entry ID occurs twice in entries
// or belongs to another document.
func (ix *Index) Upsert(docID string, entries []Entry) error {
	if docID == "" {
		return fmt.Errorf("%w: document ID", ErrEmptyID)
	}
	seen := make(map[string]struct{}, len(entries))
	docs := make([]analyzed, len(entries))
	for i, e := range entries {
		if e.ID == "" {
			return fmt.Errorf("%w: entry %d of document %q", ErrEmptyID, i, docID)
		}
		if _, dup := seen[e.ID]; dup {
			return fmt.Errorf("%w: %q occurs twice in document %q", ErrDuplicateID, e.ID, docID)
		}
		seen[e.ID] = struct{}{}
		docs[i] = analyzed{id: e.ID, terms: countTerms(ix.analyzer.Analyze(e.Text))}
	}

	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, e := range entries {
		if ord, ok := ix.byID[e.ID]; ok && ix.recs[ord].docID != docID {
			return fmt.Errorf("%w: %q belongs to document %q", ErrDuplicateID, e.ID, ix.recs[ord].docID)
		}
	}
	ix.remove(docID)
	ix.add(docID, docs)
	ix.maybeCompact()
	return nil
}

// Delete removes every entry of the named documents. Unknown documents
// are ignored.
func (ix *Index) Delete(docIDs ...string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, id := range docIDs {
		ix.remove(id)
	}
	ix.maybeCompact()
}

// Len returns the number of entries in the index.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.live
}

// Docs returns the number of documents in the index.
func (ix *Index) Docs() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.byDoc)
}

// Has reports whether the index holds entries of document docID.
func (ix *Index) Has(docID string) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	_, ok := ix.byDoc[docID]
	return ok
}

// remove marks the entries of docID dead. Caller holds the write lock.
func (ix *Index) remove(docID string) {
	ords, ok := ix.byDoc[docID]
	if !ok {
		return
	}
	for _, ord := range ords {
		r := &ix.recs[ord]
		for _, t := range r.terms {
			ix.df[t]--
		}
		ix.total -= int64(r.length)
		ix.live--
		delete(ix.byID, r.id)
		r.dead, r.terms = true, nil
	}
	delete(ix.byDoc, docID)
}

// add appends entries of docID. Caller holds the write lock.
func (ix *Index) add(docID string, docs []analyzed) {
	if len(docs) == 0 {
		return
	}
	ords := make([]int32, 0, len(docs))
	for _, d := range docs {
		ord := int32(len(ix.recs))
		r := record{id: d.id, docID: docID, terms: make([]int32, len(d.terms))}
		for i, tf := range d.terms {
			t, ok := ix.terms[tf.term]
			if !ok {
				t = int32(len(ix.words))
				ix.terms[tf.term] = t
				ix.words = append(ix.words, tf.term)
				ix.post = append(ix.post, postings{})
				ix.df = append(ix.df, 0)
			}
			p := &ix.post[t]
			p.ords = append(p.ords, ord)
			p.tfs = append(p.tfs, tf.tf)
			ix.df[t]++
			r.terms[i] = t
			r.length += tf.tf
		}
		ix.recs = append(ix.recs, r)
		ix.byID[d.id] = ord
		ix.total += int64(r.length)
		ix.live++
		ords = append(ords, ord)
	}
	ix.byDoc[docID] = ords
}

// maybeCompact rebuilds the postings without dead entries once they
// outnumber the live ones. Caller holds the write lock.
func (ix *Index) maybeCompact() {
	dead := len(ix.recs) - ix.live
	if dead < 1024 || dead < ix.live {
		return
	}
	ix.compact()
}

func (ix *Index) compact() {
	remap := make([]int32, len(ix.recs))
	recs := make([]record, 0, ix.live)
	for ord, r := range ix.recs {
		if r.dead {
			remap[ord] = -1
			continue
		}
		remap[ord] = int32(len(recs))
		recs = append(recs, r)
	}
	// Drop terms no live entry holds, renumbering the others.
	termMap := make([]int32, len(ix.words))
	terms := make(map[string]int32, len(ix.terms))
	var words []string
	var post []postings
	var df []int32
	for t, w := range ix.words {
		if ix.df[t] == 0 {
			termMap[t] = -1
			continue
		}
		nt := int32(len(words))
		termMap[t] = nt
		terms[w] = nt
		words = append(words, w)
		old := ix.post[t]
		p := postings{ords: make([]int32, 0, ix.df[t]), tfs: make([]int32, 0, ix.df[t])}
		for i, ord := range old.ords {
			if m := remap[ord]; m >= 0 {
				p.ords = append(p.ords, m)
				p.tfs = append(p.tfs, old.tfs[i])
			}
		}
		post = append(post, p)
		df = append(df, ix.df[t])
	}
	for i := range recs {
		for j, t := range recs[i].terms {
			recs[i].terms[j] = termMap[t]
		}
	}
	for id, ord := range ix.byID {
		ix.byID[id] = remap[ord]
	}
	for doc, ords := range ix.byDoc {
		for i, ord := range ords {
			ords[i] = remap[ord]
		}
		ix.byDoc[doc] = ords
	}
	ix.recs, ix.terms, ix.words, ix.post, ix.df = recs, terms, words, post, df
}

// accumulator holds per-entry scores of one search.
type accumulator struct {
	scores  []float64
	touched []int32
}

// Search returns the k entries that score best for query, best first;
// ties are broken by entry ID, ascending. Only entries holding at least
// one query term are returned, so there may be fewer than k. When keep is
// not nil, only entries for which it returns true are considered: the
// result is the exact top k of the kept entries.
func (ix *Index) Search(query string, k int, keep Filter) []Hit {
	if k <= 0 {
		return nil
	}
	qterms := ix.analyzer.Analyze(query)
	if len(qterms) == 0 {
		return nil
	}
	// Query term frequencies, in order of first occurrence so that the
	// summation order, and so the scores, are deterministic.
	qtf := make(map[string]int, len(qterms))
	order := make([]string, 0, len(qterms))
	for _, t := range qterms {
		if qtf[t] == 0 {
			order = append(order, t)
		}
		qtf[t]++
	}

	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.live == 0 {
		return nil
	}
	acc, _ := ix.accs.Get().(*accumulator)
	if acc == nil {
		acc = &accumulator{}
	}
	if len(acc.scores) < len(ix.recs) {
		acc.scores = make([]float64, len(ix.recs)+len(ix.recs)/4)
	}
	defer func() {
		for _, ord := range acc.touched {
			acc.scores[ord] = 0
		}
		acc.touched = acc.touched[:0]
		ix.accs.Put(acc)
	}()

	n := float64(ix.live)
	avgdl := float64(ix.total) / n
	if avgdl == 0 {
		avgdl = 1
	}
	k1, b := ix.k1, ix.b
	for _, term := range order {
		t, ok := ix.terms[term]
		if !ok || ix.df[t] == 0 {
			continue
		}
		df := float64(ix.df[t])
		w := float64(qtf[term]) * math.Log(1+(n-df+0.5)/(df+0.5))
		p := ix.post[t]
		for i, ord := range p.ords {
			r := &ix.recs[ord]
			if r.dead {
				continue
			}
			tf := float64(p.tfs[i])
			s := w * tf * (k1 + 1) / (tf + k1*(1-b+b*float64(r.length)/avgdl))
			if acc.scores[ord] == 0 {
				acc.touched = append(acc.touched, ord)
			}
			acc.scores[ord] += s
		}
	}

	h := hitHeap{}
	for _, ord := range acc.touched {
		r := &ix.recs[ord]
		if keep != nil && !keep(r.id, r.docID) {
			continue
		}
		hit := Hit{ID: r.id, DocID: r.docID, Score: acc.scores[ord]}
		if len(h) < k {
			heap.Push(&h, hit)
		} else if better(hit, h[0]) {
			h[0] = hit
			heap.Fix(&h, 0)
		}
	}
	out := make([]Hit, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&h).(Hit)
	}
	return out
}

// better orders hits: higher score first, then smaller ID.
func better(a, b Hit) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.ID < b.ID
}

// hitHeap is a min-heap on better: the root is the worst kept hit.
type hitHeap []Hit

func (h hitHeap) Len() int           { return len(h) }
func (h hitHeap) Less(i, j int) bool { return better(h[j], h[i]) }
func (h hitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hitHeap) Push(x any)        { *h = append(*h, x.(Hit)) }
func (h *hitHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
