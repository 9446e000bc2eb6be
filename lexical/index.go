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
// Store is that index kept beside a vector store without full-text search
// of its own: it holds the records too (text, offsets, fields, metadata),
// implements store.TextSearcher with the whole store filter language, and
// with a Path persists every write to a synced log folded into snapshots
// in the background:
//
//	s, err := lexical.NewStore(lexical.StoreOptions{Path: "bm25.idx"})
//	err = s.Upsert(store.StoredDocument{ID: "doc-1", Hash: h, Records: recs})
//	res, err := s.SearchText(ctx, "query words", 10, store.Eq("lang", "en"))
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
	"encoding/binary"
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
	words []string         // term ID -> term; only appended to (see compact)
	post  []postings       // term ID -> postings, ordinals ascending
	df    []int32          // term ID -> live entries holding the term

	// Per entry ordinal (dead ones until compaction), in parallel arrays
	// so that scoring a posting reads a few bytes, not a whole record.
	lens   []int32  // number of terms
	dead   []bool   // deleted, its postings not yet compacted away
	ids    []string // entry ID
	docIDs []string // the entry's document
	pos    []int32  // the entry's position within its document's entries
	packed []string // the entry's distinct terms, see packTerms; "" once dead

	// Postings of entries added while replaying logs, not yet in post:
	// appended term by term once the replay ends (see flushPending), not
	// entry by entry, where each one is a cache miss in a long list.
	// Nil when not replaying; searches never see a non-empty one.
	pending []pendingPosting

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

// pendingPosting is a posting held back during a replay.
type pendingPosting struct{ t, ord, tf int32 }

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
	ix.words, ix.post, ix.df = nil, nil, nil
	ix.lens, ix.dead, ix.ids, ix.docIDs, ix.pos, ix.packed = nil, nil, nil, nil, nil, nil
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

// analyze checks and analyses the entries of one document, without
// locking the index.
func (ix *Index) analyze(docID string, entries []Entry) ([]analyzed, error) {
	if docID == "" {
		return nil, fmt.Errorf("%w: document ID", ErrEmptyID)
	}
	seen := make(map[string]struct{}, len(entries))
	docs := make([]analyzed, len(entries))
	for i, e := range entries {
		if e.ID == "" {
			return nil, fmt.Errorf("%w: entry %d of document %q", ErrEmptyID, i, docID)
		}
		if _, dup := seen[e.ID]; dup {
			return nil, fmt.Errorf("%w: %q occurs twice in document %q", ErrDuplicateID, e.ID, docID)
		}
		seen[e.ID] = struct{}{}
		docs[i] = analyzed{id: e.ID, terms: countTerms(ix.analyzer.Analyze(e.Text))}
	}
	return docs, nil
}

// Upsert replaces every entry of document docID with entries, atomically.
// Upsert with no entries deletes the document. Entries are analysed before
// the index is locked, so searches are not held up by analysis.
//
// It fails, changing nothing, with ErrEmptyID when docID or an entry ID is
// empty, and with ErrDuplicateID when an entry ID occurs twice in entries
// or belongs to another document.
func (ix *Index) Upsert(docID string, entries []Entry) error {
	docs, err := ix.analyze(docID, entries)
	if err != nil {
		return err
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if err := ix.checkOwner(docID, docs); err != nil {
		return err
	}
	ix.remove(docID)
	ix.add(docID, docs)
	ix.maybeCompact()
	return nil
}

// checkOwner fails with ErrDuplicateID if an entry ID of docs belongs to
// another document than docID. Caller holds a lock.
func (ix *Index) checkOwner(docID string, docs []analyzed) error {
	for _, e := range docs {
		if ord, ok := ix.byID[e.id]; ok && ix.docIDs[ord] != docID {
			return fmt.Errorf("%w: %q belongs to document %q", ErrDuplicateID, e.id, ix.docIDs[ord])
		}
	}
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

// termPair is one distinct term of an entry, by term ID.
type termPair struct{ t, tf int32 }

// packTerms encodes an entry's distinct terms, sorted by term ID, as
// uvarint pairs (term ID minus the previous one, tf). It is the only copy
// of an entry's terms outside the postings: deletion reads it to update
// document frequencies, and a Store's snapshot writes it as it is. It
// sorts pairs.
func packTerms(buf []byte, pairs []termPair) []byte {
	slices.SortFunc(pairs, func(a, b termPair) int { return int(a.t - b.t) })
	prev := int32(0)
	for _, p := range pairs {
		buf = binary.AppendUvarint(buf, uint64(p.t-prev))
		buf = binary.AppendUvarint(buf, uint64(p.tf))
		prev = p.t
	}
	return buf
}

// eachTerm calls f for every (term ID, tf) pair of packed terms. It
// returns false if packed is malformed or names a term ID >= words; f is
// not called for the pair that is.
func eachTerm(packed string, words int, f func(t, tf int32)) bool {
	t := uint64(0)
	for first := true; len(packed) > 0; first = false {
		delta, n := uvarintString(packed)
		if n <= 0 {
			return false
		}
		packed = packed[n:]
		tf, n := uvarintString(packed)
		if n <= 0 || tf == 0 || tf > math.MaxInt32 || !first && delta == 0 {
			return false
		}
		packed = packed[n:]
		t += delta
		if t >= uint64(words) {
			return false
		}
		f(int32(t), int32(tf))
	}
	return true
}

// packedStats checks packed terms as eachTerm does and returns how many
// pairs they hold and the sum of their tfs (the entry's length): the loop
// of a reopen, over every entry.
func packedStats(packed string, words int) (pairs int, length int32, ok bool) {
	t, sum := uint64(0), uint64(0)
	for len(packed) > 0 {
		var delta, tf uint64
		var n int
		if len(packed) >= 2 && packed[0] < 0x80 && packed[1] < 0x80 {
			delta, tf, n = uint64(packed[0]), uint64(packed[1]), 2
		} else if delta, tf, n = uvarintPair(packed); n == 0 {
			return 0, 0, false
		}
		packed = packed[n:]
		if tf == 0 || tf > math.MaxInt32 || pairs > 0 && delta == 0 || delta >= uint64(words) {
			return 0, 0, false
		}
		if t += delta; t >= uint64(words) {
			return 0, 0, false
		}
		if sum += tf; sum > math.MaxInt32 {
			return 0, 0, false
		}
		pairs++
	}
	return pairs, int32(sum), true
}

// remove marks the entries of docID dead. Caller holds the write lock.
func (ix *Index) remove(docID string) {
	ords, ok := ix.byDoc[docID]
	if !ok {
		return
	}
	for _, ord := range ords {
		eachTerm(ix.packed[ord], len(ix.words), func(t, _ int32) { ix.df[t]-- })
		ix.total -= int64(ix.lens[ord])
		ix.live--
		delete(ix.byID, ix.ids[ord])
		ix.dead[ord], ix.packed[ord] = true, ""
	}
	delete(ix.byDoc, docID)
}

// add appends entries of docID. Caller holds the write lock.
func (ix *Index) add(docID string, docs []analyzed) {
	if len(docs) == 0 {
		return
	}
	ords := make([]int32, 0, len(docs))
	var pairs []termPair
	for i, d := range docs {
		pairs = pairs[:0]
		ord := int32(len(ix.lens))
		length := int32(0)
		for _, tf := range d.terms {
			t, ok := ix.terms[tf.term]
			if !ok {
				t = int32(len(ix.words))
				ix.terms[tf.term] = t
				ix.words = append(ix.words, tf.term)
				ix.post = append(ix.post, postings{})
				ix.df = append(ix.df, 0)
			}
			pairs = append(pairs, termPair{t, tf.tf})
			if ix.pending != nil {
				ix.pending = append(ix.pending, pendingPosting{t, ord, tf.tf})
			} else {
				p := &ix.post[t]
				p.ords = append(p.ords, ord)
				p.tfs = append(p.tfs, tf.tf)
			}
			ix.df[t]++
			length += tf.tf
		}
		ix.addEntry(docID, d.id, int32(i), string(packTerms(nil, pairs)), length)
		ords = append(ords, ord)
	}
	ix.byDoc[docID] = ords
}

// addEntry appends one entry whose terms are packed in the term IDs of
// the index and add up to length, without touching postings (the caller
// adds them), and returns whether its ID was new to byID. Caller holds the
// write lock and records the ordinal in byDoc.
func (ix *Index) addEntry(docID, id string, pos int32, packed string, length int32) bool {
	ord := int32(len(ix.lens))
	ix.lens = append(ix.lens, length)
	ix.dead = append(ix.dead, false)
	ix.ids = append(ix.ids, id)
	ix.docIDs = append(ix.docIDs, docID)
	ix.pos = append(ix.pos, pos)
	ix.packed = append(ix.packed, packed)
	n := len(ix.byID)
	ix.byID[id] = ord
	ix.total += int64(length)
	ix.live++
	return len(ix.byID) > n
}

// holdPostings makes the entries added from now on wait in pending
// until flushPending. Caller holds the write lock, and no search may run
// until flushPending.
func (ix *Index) holdPostings() {
	ix.pending = make([]pendingPosting, 0, 1024)
}

// flushPending appends the held postings, grouped by term (a counting
// sort; entries' order within a term is kept, so lists stay ascending),
// and stops holding them. Caller holds the write lock.
func (ix *Index) flushPending() {
	pending := ix.pending
	ix.pending = nil
	if len(pending) == 0 {
		return
	}
	start := make([]int32, len(ix.post)+1)
	for _, p := range pending {
		start[p.t+1]++
	}
	for t := 1; t < len(start); t++ {
		start[t] += start[t-1]
	}
	sorted := make([]pendingPosting, len(pending))
	next := slices.Clone(start[:len(start)-1])
	for _, p := range pending {
		sorted[next[p.t]] = p
		next[p.t]++
	}
	for t := range ix.post {
		group := sorted[start[t]:start[t+1]]
		if len(group) == 0 {
			continue
		}
		p := &ix.post[t]
		p.ords, p.tfs = slices.Grow(p.ords, len(group)), slices.Grow(p.tfs, len(group))
		for _, g := range group {
			p.ords = append(p.ords, g.ord)
			p.tfs = append(p.tfs, g.tf)
		}
	}
}

// maybeCompact rebuilds the postings without dead entries once they
// outnumber the live ones. Caller holds the write lock.
func (ix *Index) maybeCompact() {
	dead := len(ix.lens) - ix.live
	if dead < 1024 || dead < ix.live {
		return
	}
	ix.compact()
}

// compact drops dead entries and renumbers the live ones. Term IDs stay
// (a term no live entry holds keeps its ID and an empty postings list), so
// packed terms stay valid; and nothing reachable from before is modified
// in place, so a Store's snapshot can keep reading what it captured.
func (ix *Index) compact() {
	if ix.pending != nil {
		ix.flushPending()
		defer ix.holdPostings()
	}
	remap := make([]int32, len(ix.lens))
	n := int32(0)
	for ord, d := range ix.dead {
		if d {
			remap[ord] = -1
			continue
		}
		remap[ord] = n
		n++
	}
	keep := func(ord int) bool { return remap[ord] >= 0 }
	ix.lens = filterKept(ix.lens, keep)
	ix.ids = filterKept(ix.ids, keep)
	ix.docIDs = filterKept(ix.docIDs, keep)
	ix.pos = filterKept(ix.pos, keep)
	ix.packed = filterKept(ix.packed, keep)
	ix.dead = make([]bool, n)
	post := make([]postings, len(ix.post))
	for t, old := range ix.post {
		if ix.df[t] == 0 {
			continue
		}
		p := postings{ords: make([]int32, 0, ix.df[t]), tfs: make([]int32, 0, ix.df[t])}
		for i, ord := range old.ords {
			if m := remap[ord]; m >= 0 {
				p.ords = append(p.ords, m)
				p.tfs = append(p.tfs, old.tfs[i])
			}
		}
		post[t] = p
	}
	ix.post = post
	for id, ord := range ix.byID {
		ix.byID[id] = remap[ord]
	}
	for doc, ords := range ix.byDoc {
		re := make([]int32, len(ords))
		for i, ord := range ords {
			re[i] = remap[ord]
		}
		ix.byDoc[doc] = re
	}
}

// filterKept returns the elements of xs whose index keep accepts, in a new
// slice.
func filterKept[E any](xs []E, keep func(int) bool) []E {
	out := make([]E, 0, len(xs))
	for i, x := range xs {
		if keep(i) {
			out = append(out, x)
		}
	}
	return out
}

// accumulator holds per-entry scores of one search.
type accumulator struct {
	scores  []float64
	touched []int32
	heap    []scored
}

// scored is a candidate of a search: an entry ordinal and its score.
type scored struct {
	score float64
	ord   int32
}

// entryHit is a hit with the entry's position in its document, for Store.
type entryHit struct {
	Hit
	pos int32
}

// Search returns the k entries that score best for query, best first;
// ties are broken by entry ID, ascending. Only entries holding at least
// one query term are returned, so there may be fewer than k. When keep is
// not nil, only entries for which it returns true are considered: the
// result is the exact top k of the kept entries. Keep is called only for
// entries that score well enough to enter the top k found so far, so a
// costly filter is called far fewer times than there are matches.
func (ix *Index) Search(query string, k int, keep Filter) []Hit {
	var hits []entryHit
	if keep == nil {
		hits = ix.search(query, k, nil)
	} else {
		hits = ix.search(query, k, func(ord int32) bool { return keep(ix.ids[ord], ix.docIDs[ord]) })
	}
	if hits == nil {
		return nil
	}
	out := make([]Hit, len(hits))
	for i, h := range hits {
		out[i] = h.Hit
	}
	return out
}

// search is Search with a filter on entry ordinals, called under the read
// lock, returning entries' positions in their documents too.
func (ix *Index) search(query string, k int, keep func(ord int32) bool) []entryHit {
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
	if len(acc.scores) < len(ix.lens) {
		acc.scores = make([]float64, len(ix.lens)+len(ix.lens)/4)
	}
	defer func() {
		for _, ord := range acc.touched {
			acc.scores[ord] = 0
		}
		acc.touched = acc.touched[:0]
		acc.heap = acc.heap[:0]
		ix.accs.Put(acc)
	}()

	n := float64(ix.live)
	avgdl := float64(ix.total) / n
	if avgdl == 0 {
		avgdl = 1
	}
	k1, b := ix.k1, ix.b
	scores, lens, dead := acc.scores, ix.lens, ix.dead
	for _, term := range order {
		t, ok := ix.terms[term]
		if !ok || ix.df[t] == 0 {
			continue
		}
		df := float64(ix.df[t])
		w := float64(qtf[term]) * math.Log(1+(n-df+0.5)/(df+0.5))
		p := ix.post[t]
		tfs := p.tfs[:len(p.ords)]
		for i, ord := range p.ords {
			if dead[ord] {
				continue
			}
			tf := float64(tfs[i])
			s := w * tf * (k1 + 1) / (tf + k1*(1-b+b*float64(lens[ord])/avgdl))
			if scores[ord] == 0 {
				acc.touched = append(acc.touched, ord)
			}
			scores[ord] += s
		}
	}

	// Top k by a min-heap whose root is the worst kept candidate. A
	// candidate is compared with the root before it is filtered, so keep
	// runs only for the few that would enter the heap.
	h := acc.heap[:0]
	worse := func(a, b scored) bool { // a ranks below b
		if a.score != b.score {
			return a.score < b.score
		}
		return ix.ids[a.ord] > ix.ids[b.ord]
	}
	for _, ord := range acc.touched {
		c := scored{scores[ord], ord}
		if len(h) == k && !worse(h[0], c) {
			continue
		}
		if keep != nil && !keep(ord) {
			continue
		}
		if len(h) < k {
			h = append(h, c)
			siftUp(h, len(h)-1, worse)
		} else {
			h[0] = c
			siftDown(h, 0, worse)
		}
	}
	acc.heap = h
	out := make([]entryHit, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		c := h[0]
		out[i] = entryHit{Hit{ID: ix.ids[c.ord], DocID: ix.docIDs[c.ord], Score: c.score}, ix.pos[c.ord]}
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		siftDown(h, 0, worse)
	}
	return out
}

func siftUp(h []scored, i int, worse func(a, b scored) bool) {
	for i > 0 {
		parent := (i - 1) / 2
		if !worse(h[i], h[parent]) {
			return
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func siftDown(h []scored, i int, worse func(a, b scored) bool) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && worse(h[r], h[l]) {
			m = r
		}
		if !worse(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
