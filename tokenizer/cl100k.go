package tokenizer

import (
	"context"
	"encoding/base64"
	"errors"
	"hash/maphash"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/pkoukk/tiktoken-go-loader/assets"
)

// bpeTokenizer is a byte-level BPE tokenizer with cl100k_base's
// pre-tokenization, written as a hand-made scanner instead of a regular
// expression. It gives exactly the tokens of tiktoken's cl100k_base
// EncodeOrdinary (the package tests compare it with tiktoken-go, including
// a fuzz target) several times faster, and can report where each token
// ends, which lets chunkers tokenize a text once.
type bpeTokenizer struct {
	ranks   map[string]int // token bytes -> id (= merge rank)
	table   *rankTable     // ranks again, for the lookups of encoding
	decoder []string       // id -> token bytes ("" for unused ids)
	// pairs[b0<<8|b1] is the rank of the two-byte token b0 b1, or -1: the
	// lookups of merge's first pass (most of its lookups in text whose
	// bytes rarely merge) and of short pieces, without hashing a string.
	pairs []int32
	bytes [256]int32 // the rank of each one-byte token, or -1
	// pairRank is the rank of merging two tokens, by their ids, for merge.
	pairRank *pairRanks
	// joins holds the byte pairs that are neighbours in a token; the
	// others are cuts, where IndexContext encodes pieces part by part.
	joins *byteJoins

	// merges caches the merge of short pieces that are not tokens
	// themselves: prose repeats its words, and a cached merge is one
	// lookup instead of dozens. Two-way set-associative by the piece's
	// hash, each slot set once (the first pieces to reach a pair of slots
	// keep them), so it holds at most mergeCacheSlots pieces and a look-up
	// is a hash and two atomic loads of tags: text that never repeats (random
	// letters, bytes of unassigned characters) fills it and then misses
	// on every piece at that cost, and prose hits it without the lookups
	// of a sync.Map, which were a seventh of the client's CPU time in
	// bench/ingest's abstracts row.
	merges []atomic.Pointer[mergeEntry]
	// tags[i] is the hash tag (high bits, never 0) of merges[i]'s piece,
	// stored after it: a miss is mostly seen here, without reading an
	// entry from somewhere in the heap.
	tags []atomic.Uint32
	seed maphash.Seed
	// pieces caches the token starts of pre-tokens of 3 to 16 bytes, for
	// IndexContext and Count (see pieceCache).
	pieces *pieceCache
	// filter tells most pieces of 3 to 16 bytes that are not tokens
	// before a look-up in table.
	filter *tokenFilter

	// long is the encoder of long pieces, built on first use (its tables
	// take some 100 ms and are needed only for pieces over 128 bytes).
	long func() *backtrack
}

const (
	mergeCachePiece = 48      // longest piece cached, in bytes
	mergeCacheSlots = 1 << 16 // most pieces cached
)

// mergeEntry is a cached merge: a piece and its tokens' starts.
type mergeEntry struct {
	piece  string
	starts []uint8
}

// mergeCached is merge, through the cache for short pieces.
func (t *bpeTokenizer) mergeCached(p string, starts []int) []int {
	if len(p) > mergeCachePiece {
		return t.merge(p, starts)
	}
	h := maphash.String(t.seed, p)
	i, tag := h&(mergeCacheSlots-1), uint32(h>>32)|1
	free := false
	for _, k := range [2]uint64{i, i ^ 1} {
		switch t.tags[k].Load() {
		case tag:
			if e := t.merges[k].Load(); e.piece == p {
				for _, s := range e.starts {
					starts = append(starts, int(s))
				}
				return starts
			}
		case 0:
			free = true
		}
	}
	n := len(starts)
	starts = t.merge(p, starts)
	if free {
		e := &mergeEntry{piece: strings.Clone(p), starts: make([]uint8, len(starts)-n)} // p may be a slice of a large text
		for k, s := range starts[n:] {
			e.starts[k] = uint8(s)
		}
		for _, k := range [2]uint64{i, i ^ 1} {
			if t.merges[k].CompareAndSwap(nil, e) {
				t.tags[k].Store(tag)
				break
			}
		}
	}
	return starts
}

var (
	_ Tokenizer      = (*bpeTokenizer)(nil)
	_ ContextIndexer = (*bpeTokenizer)(nil)
)

// cl100kSpecial are the special tokens of cl100k_base, which Decode knows
// and Encode never produces (their text is encoded as ordinary text).
var cl100kSpecial = map[int]string{
	100257: "<|endoftext|>",
	100258: "<|fim_prefix|>",
	100259: "<|fim_middle|>",
	100260: "<|fim_suffix|>",
	100276: "<|endofprompt|>",
}

func newBPE(file string, special map[int]string) (*bpeTokenizer, error) {
	data, err := assets.Assets.ReadFile(file)
	if err != nil {
		return nil, err
	}
	t := &bpeTokenizer{ranks: make(map[string]int, 100_300), seed: maphash.MakeSeed(), merges: make([]atomic.Pointer[mergeEntry], mergeCacheSlots), tags: make([]atomic.Uint32, mergeCacheSlots), pieces: newPieceCache()}
	for line := range strings.SplitSeq(string(data), "\n") {
		if line == "" {
			continue
		}
		b64, num, ok := strings.Cut(line, " ")
		if !ok {
			return nil, errBadRanks(line)
		}
		tok, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, err
		}
		id, err := strconv.Atoi(num)
		if err != nil || id < 0 {
			return nil, errBadRanks(line)
		}
		t.ranks[string(tok)] = id
		for len(t.decoder) <= id {
			t.decoder = append(t.decoder, "")
		}
		t.decoder[id] = string(tok)
	}
	for id, s := range special {
		for len(t.decoder) <= id {
			t.decoder = append(t.decoder, "")
		}
		t.decoder[id] = s
	}
	t.pairs = make([]int32, 1<<16)
	for i := range t.pairs {
		t.pairs[i] = -1
	}
	for i := range t.bytes {
		t.bytes[i] = -1
	}
	t.filter = newTokenFilter()
	for tok, id := range t.ranks {
		switch n := len(tok); {
		case n == 1:
			t.bytes[tok[0]] = int32(id)
		case n == 2:
			t.pairs[int(tok[0])<<8|int(tok[1])] = int32(id)
		case n <= pieceCacheMax:
			t.filter.add(tok)
		}
	}
	var ok bool
	if t.table, ok = newRankTable(t.ranks); !ok {
		return nil, errors.New("tokenizer: a token does not fit the rank table")
	}
	if slices.Contains(t.bytes[:], -1) {
		return nil, errors.New("tokenizer: a byte is not a token")
	}
	if t.pairRank, ok = newPairRanks(t.ranks, t.decoder, t.tokenID); !ok {
		return nil, errors.New("tokenizer: a token id does not fit the pair table")
	}
	t.joins = newByteJoins(t.decoder)
	t.long = sync.OnceValue(func() *backtrack { return newBacktrack(t.ranks, t.decoder, t.pairRank.prefix, t.tokenID) })
	return t, nil
}

type errBadRanks string

func (e errBadRanks) Error() string {
	return "tokenizer: bad BPE ranks line " + strconv.Quote(string(e))
}

// Encode returns the token ids of text. Text that is not valid UTF-8 is
// encoded as if each invalid byte were U+FFFD, like tiktoken.
func (t *bpeTokenizer) Encode(text string) []int {
	text = validText(text)
	out := make([]int, 0, len(text)/4+1)
	for i := 0; i < len(text); {
		j := cl100kNext(text, i)
		out = t.encodePiece(text[i:j], out)
		i = j
	}
	return out
}

// Decode returns the text of tokens; unknown ids decode to nothing.
func (t *bpeTokenizer) Decode(tokens []int) string {
	var b strings.Builder
	for _, id := range tokens {
		if id >= 0 && id < len(t.decoder) {
			b.WriteString(t.decoder[id])
		}
	}
	return b.String()
}

// Count returns len(Encode(text)) without building the slice.
func (t *bpeTokenizer) Count(text string) int {
	text = validText(text)
	n := 0
	var gate cacheGate
	for i := 0; i < len(text); {
		j := cl100kNext(text, i)
		m, ok := 0, false
		if mayCut(text[i:j]) {
			m, ok = t.cutCount(text[i:j], &gate)
		}
		if !ok {
			m = t.countPiece(text[i:j], &gate)
		}
		n += m
		i = j
	}
	return n
}

// validText replaces each invalid byte of s by U+FFFD, as converting to
// []rune does (and so tiktoken-go).
func validText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

// encodePiece appends the ids of one pre-token.
func (t *bpeTokenizer) encodePiece(p string, out []int) []int {
	var buf [64]int32
	for _, id := range t.pieceIDs(p, buf[:0]) {
		out = append(out, int(id))
	}
	return out
}

// scratch holds buffers of token ids for countPiece.
var scratch = sync.Pool{New: func() any { return new([]int32) }}

// countPiece returns the number of tokens of one pre-token, through the
// piece cache as g lets it (nil: always).
func (t *bpeTokenizer) countPiece(p string, g *cacheGate) int {
	if len(p) <= pieceCacheMax {
		return bits.OnesCount64(t.pieceStarts(p, g)) + 1
	}
	if _, ok := t.tokenID(p); ok {
		return 1
	}
	if len(p) > longPiece {
		buf := scratch.Get().(*[]int32)
		ids, _ := t.long().encode(context.Background(), p, (*buf)[:0])
		n := len(ids)
		if cap(ids) <= 1<<16 { // keep a chunk's worth, not a whole text's
			*buf = ids
			scratch.Put(buf)
		}
		return n
	}
	var buf [64]int
	return len(t.mergeCached(p, buf[:0]))
}

// isToken reports whether p is a single token.
func (t *bpeTokenizer) isToken(p string) bool {
	_, ok := t.tokenID(p)
	return ok
}

// tokenID returns the id of the token p, if p is one; pieces of one or
// two bytes, most of the pieces of text that is not prose, are looked up
// without hashing.
func (t *bpeTokenizer) tokenID(p string) (int, bool) {
	switch len(p) {
	case 1:
		id := t.bytes[p[0]]
		return int(id), id >= 0
	case 2:
		id := t.pairs[int(p[0])<<8|int(p[1])]
		return int(id), id >= 0
	}
	return t.table.get(p)
}

// pieceEnds appends the end offset (plus off) of each token of a
// pre-token of at most longPiece bytes.
func (t *bpeTokenizer) pieceEnds(p string, off int, out []int32) []int32 {
	if len(p) > pieceCacheMax {
		return t.pieceEndsUncached(p, off, out)
	}
	return appendEnds(out, t.pieceStarts(p, nil), off, len(p))
}

// appendEnds appends the token ends (plus off) of a piece of n bytes
// whose token starts are m (see pieceStarts).
func appendEnds(out []int32, m uint64, off, n int) []int32 {
	for ; m != 0; m &= m - 1 {
		out = append(out, int32(off+bits.TrailingZeros64(m)+1))
	}
	return append(out, int32(off+n))
}

// pieceStarts returns where the tokens of a pre-token of 1 to
// pieceCacheMax bytes start: bit k-1 is set when one starts at offset k.
// Pieces of one or two bytes are looked up in arrays, longer ones in the
// piece cache first, unless g (nil: an open gate) has turned it off for
// their length.
func (t *bpeTokenizer) pieceStarts(p string, g *cacheGate) uint64 {
	n := len(p)
	if n < pieceCacheMin {
		if n == 2 && t.pairs[int(p[0])<<8|int(p[1])] < 0 {
			return 1 // two bytes, each a token
		}
		return 0
	}
	lo, hi := packPiece(p)
	if t.pieces == nil || !g.open(n) {
		return t.startsUncached(p, lo, hi)
	}
	if m, ok := t.pieces.starts(lo, hi, n); ok {
		g.hit(n)
		return m
	}
	m := t.startsUncached(p, lo, hi)
	if !t.pieces.put(lo, hi, n, m) {
		g.miss(n)
	}
	return m
}

// startsUncached is pieceStarts of a piece of pieceCacheMin to
// pieceCacheMax bytes, packed in lo, hi, without the piece cache.
func (t *bpeTokenizer) startsUncached(p string, lo, hi uint64) uint64 {
	if t.filter.mayBeToken(lo, hi, len(p)) {
		if _, ok := t.table.get(p); ok {
			return 0
		}
	}
	return t.mergeStarts(p)
}

// pieceEndsUncached is pieceEnds without the piece cache.
func (t *bpeTokenizer) pieceEndsUncached(p string, off int, out []int32) []int32 {
	if _, ok := t.tokenID(p); ok {
		return append(out, int32(off+len(p)))
	}
	var buf [64]int
	starts := t.mergeCached(p, buf[:0])
	for _, s := range starts[1:] {
		out = append(out, int32(off+s))
	}
	return append(out, int32(off+len(p)))
}

const noRank = int(^uint(0) >> 1)

// longPiece is the length in bytes above which a piece is encoded by the
// backtracking encoder rather than merged by the quadratic loop.
const longPiece = 128

// merge runs byte pair merging on p (2 <= len(p) <= longPiece, not
// itself a token) and returns the start offset of each resulting token.
// Longer pieces go to the backtracking encoder, which gives the same
// tokens in linear time.
func (t *bpeTokenizer) merge(p string, starts []int) []int {
	var m mergedParts
	t.mergeParts(p, &m)
	for _, s := range m.start[:m.n] {
		starts = append(starts, int(s))
	}
	return starts
}

// mergedParts is the result of mergeParts: the start offset and the id of
// each of the n tokens of a piece, and room for merging.
type mergedParts struct {
	start, id, rank [longPiece]int32
	n               int
}

// noPair is the rank of two neighbouring parts whose bytes are no token.
const noPair = int32(^uint32(0) >> 1)

// mergeParts merges p (1 <= len(p) <= longPiece) into m: at each step the
// neighbouring pair of parts of lowest rank, the leftmost on ties:
// tiktoken's algorithm, in its quadratic form. Ranks are ids, so the part
// a merge makes has the pair's rank as its id, and the rank of two parts
// is a look-up of their ids in pairRank (the first ones, of two bytes, in
// pairs), never a hash of their bytes.
func (t *bpeTokenizer) mergeParts(p string, m *mergedParts) {
	n := len(p)
	start, id, rank := m.start[:n], m.id[:n], m.rank[:n]
	for i := range n {
		start[i] = int32(i)
		id[i] = t.bytes[p[i]]
		rank[i] = noPair
	}
	for i := 0; i+1 < n; i++ {
		if r := t.pairs[int(p[i])<<8|int(p[i+1])]; r >= 0 {
			rank[i] = r
		}
	}
	for {
		// The lowest rank and, of its pairs, the leftmost: the least of
		// rank<<8 | index, without a branch a pair.
		least := int64(noPair) << 8
		for i, r := range rank {
			d := (int64(r)<<8 | int64(i)) - least
			least += d & (d >> 63) // min, which the compiler gives a branch
		}
		if least>>8 == int64(noPair) {
			break
		}
		best, at := int32(least>>8), int(least&0xff)
		id[at] = best
		start = append(start[:at+1], start[at+2:]...)
		id = append(id[:at+1], id[at+2:]...)
		rank = append(rank[:at+1], rank[at+2:]...)
		rank[at] = noPair
		if at+1 < len(id) {
			rank[at] = t.pairRankOf(id[at], id[at+1])
		}
		if at > 0 {
			rank[at-1] = t.pairRankOf(id[at-1], id[at])
		}
	}
	m.n = len(start)
}

// pairRankOf returns the rank of merging tokens a and b, or noPair.
func (t *bpeTokenizer) pairRankOf(a, b int32) int32 {
	if r := t.pairRank.get(a, b); r >= 0 {
		return r
	}
	return noPair
}

// Character classes of the cl100k pre-tokenizer: \p{L}, \p{N}, \s (Go's
// unicode.IsSpace, as in regexp2) and everything else.
const (
	clOther uint8 = iota
	clLetter
	clNumber
	clSpace
)

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := range t {
		r := rune(c)
		switch {
		case unicode.IsLetter(r):
			t[c] = clLetter
		case unicode.IsNumber(r):
			t[c] = clNumber
		case unicode.IsSpace(r):
			t[c] = clSpace
		}
	}
	return t
}()

// classOf returns the class of r: unicode.IsLetter, IsNumber and IsSpace,
// in that order, by table (runeClass).
func classOf(r rune) uint8 {
	if uint32(r) < classBlocks<<8 {
		return runeClass(r)
	}
	return clOther
}

// at decodes the rune at s[i:] and returns it with its size and class.
func at(s string, i int) (rune, int, uint8) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1, asciiClass[c]
	}
	if i+4 <= len(s) {
		if r, n := decodeValid(s, i); n != 0 {
			return r, n, runeClass(r)
		}
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	return r, n, classOf(r)
}

// runEnd returns the end of the run of class c starting at i. Four bytes
// or more from the end of s it classes ASCII bytes by table and decodes
// the other runes without a branch on their length (decodeValid), classing
// them by table too.
func runEnd(s string, i int, c uint8) int {
	for i+4 <= len(s) {
		if b := s[i]; b < utf8.RuneSelf {
			if asciiClass[b] != c {
				return i
			}
			i++
			continue
		}
		r, n := decodeValid(s, i)
		if n == 0 {
			break // not the start of a rune: s[i:] is not valid UTF-8
		}
		if runeClass(r) != c {
			return i
		}
		i += n
	}
	for i < len(s) {
		if k := byteClass[s[i]]; k != clMulti {
			if k != c {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if classOf(r) != c {
			return i
		}
		i += n
	}
	return i
}

// cl100kNextSlow returns the end of the pre-token of s that starts at i
// (i < len(s)): the match at i of cl100k_base's pattern
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//	 ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// with the backtracking regexp semantics tiktoken uses (first alternative
// that matches wins). s must be valid UTF-8. cl100kNext is the same
// function, faster on ASCII; this is the whole of the pattern.
func cl100kNextSlow(s string, i int) int {
	r0, n0, c0 := at(s, i)
	j := i + n0
	// 's 't 're 've 'm 'll 'd, any case.
	if r0 == '\'' && j < len(s) {
		r1, n1, _ := at(s, j)
		switch unicode.ToLower(r1) {
		case 's', 't', 'm', 'd':
			return j + n1
		case 'r', 'v', 'l':
			want := 'e' // 're, 've
			if unicode.ToLower(r1) == 'l' {
				want = 'l' // 'll
			}
			if k := j + n1; k < len(s) {
				if r2, n2, _ := at(s, k); unicode.ToLower(r2) == want {
					return k + n2
				}
			}
		}
	}
	switch c0 {
	case clLetter: // \p{L}+
		return runEnd(s, j, clLetter)
	case clNumber: // \p{N}{1,3}
		for k := 1; k < 3 && j < len(s); k++ {
			_, n, c := at(s, j)
			if c != clNumber {
				break
			}
			j += n
		}
		return j
	}
	// [^\r\n\p{L}\p{N}]\p{L}+
	if r0 != '\r' && r0 != '\n' && j < len(s) {
		if _, _, c1 := at(s, j); c1 == clLetter {
			return runEnd(s, j, clLetter)
		}
	}
	if c0 == clOther { // [^\s\p{L}\p{N}]+[\r\n]*
		return crlfEnd(s, runEnd(s, j, clOther))
	}
	// c0 is white space.
	if r0 == ' ' && j < len(s) { // ' '[^\s\p{L}\p{N}]+[\r\n]*
		if _, _, c1 := at(s, j); c1 == clOther {
			return crlfEnd(s, runEnd(s, j, clOther))
		}
	}
	// The run of white space from i, its last line break and last rune.
	lastNL, last := -1, i
	k := i
	for k < len(s) {
		r, n, c := at(s, k)
		if c != clSpace {
			break
		}
		if r == '\r' || r == '\n' {
			lastNL = k
		}
		last = k
		k += n
	}
	switch {
	case lastNL >= 0: // \s*[\r\n]+
		return lastNL + 1
	case k == len(s): // \s+(?!\S) at the end
		return k
	case last > i: // \s+(?!\S): all but the last space
		return last
	}
	return k // \s+
}

func crlfEnd(s string, i int) int {
	for i < len(s) && (s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

// Index tokenizes text once and returns the end of each token and an exact
// range counter.
//
// The counter relies on two facts about the pre-tokenizer. (1) The
// pre-token that starts at an offset depends only on the text from that
// offset on, so once the pre-tokens of text[s:e] reach an end that is also
// a pre-token end of the whole text, they continue exactly as the whole
// text's. (2) Cutting the text at e changes no pre-token that ends at or
// before a pre-token end q <= e whose preceding character is not white
// space: no pre-token before q looks past q (only runs of white space are
// scanned beyond a pre-token's end, and such a run cannot cross q). So the
// count is: the head of text[s:e] tokenized until it syncs, plus the whole
// text's tokens between the sync point and q (a prefix-sum difference),
// plus text[q:e] tokenized on its own. Head and tail are a few pre-tokens
// for chunks cut at white space, and never longer than e-s.
func (t *bpeTokenizer) Index(text string) ([]int32, func(s, e int) int) {
	ends, count, _ := t.IndexContext(context.Background(), text)
	return ends, count
}

// checkBytes is how much text IndexContext tokenizes between looks at its
// context: well under a millisecond of work.
const checkBytes = 1 << 16

// IndexContext is Index, stopping with ctx's error when ctx is done; it
// looks every checkBytes of text and, inside one long pre-token, every
// checkTokens tokens.
func (t *bpeTokenizer) IndexContext(ctx context.Context, text string) ([]int32, func(s, e int) int, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	text = validText(text)
	// The arrays start small for a large text and grow to what the part
	// tokenized predicts for the whole (see room). A short text's are
	// sized so that prose seldom grows them: English has about 0.21 tokens
	// and 0.18 pre-tokens a byte, and at a quarter of a token a byte (plus
	// the room of a piece) 6% of SciFact's abstracts grew ends, at an
	// eighth of a pre-token 99% grew pre; at these sizes 0.5% and 0.4% do.
	ends := make([]int32, 0, min(len(text)/4+len(text)/32+pieceCacheMax+16, 1<<16))
	pre := make([]int32, 0, min(len(text)/4+16, 1<<14)) // end of each pre-token
	var runs []longRun                                  // the long pre-tokens, for splice
	check := checkBytes
	var gate cacheGate
	for i := 0; i < len(text); {
		if i >= check {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			check = i + checkBytes
		}
		j := cl100kNext(text, i)
		cut := false // encoded part by part (cutEnds)
		if mayCut(text[i:j]) {
			if cap(ends)-len(ends) < longPiece {
				ends = slices.Grow(ends, room(len(ends), i, len(text), longPiece))
			}
			ends, cut = t.cutEnds(text[i:j], i, ends, &gate)
		}
		switch {
		case cut:
		case j-i <= pieceCacheMax: // most pieces: a word, a number, punctuation
			if cap(ends)-len(ends) < pieceCacheMax {
				ends = slices.Grow(ends, room(len(ends), i, len(text), longPiece))
			}
			ends = appendEnds(ends, t.pieceStarts(text[i:j], &gate), i, j-i)
		case j-i > longPiece && !t.isToken(text[i:j]):
			// A long pre-token: encoded into ends as ids (encode grows
			// ends as it goes), which then become end offsets.
			bt := t.long()
			first := len(ends)
			var err error
			if ends, err = bt.encode(ctx, text[i:j], ends); err != nil {
				return nil, nil, err
			}
			runs = append(runs, longRun{s: i, e: j, first: first, n: len(ends) - first})
			off := i
			for k, id := range ends[first:] {
				off += int(bt.size[id])
				ends[first+k] = int32(off)
			}
		default:
			if cap(ends)-len(ends) < longPiece {
				ends = slices.Grow(ends, room(len(ends), i, len(text), longPiece))
			}
			ends = t.pieceEnds(text[i:j], i, ends)
		}
		if len(pre) == cap(pre) {
			pre = slices.Grow(pre, room(len(pre), i, len(text), 1))
		}
		pre = append(pre, int32(j))
		i = j
	}
	// cum is the number of tokens up to and including pre-token k: every
	// pre-token ends where one of its tokens does.
	cum := func(k int) int { return searchInt32(ends, int(pre[k])) + 1 }
	count := func(s, e int) int {
		if s >= e {
			return 0
		}
		sub := text[s:e]
		// Head: pre-tokenize text[s:e] until it syncs with the whole text.
		k := searchInt32(pre, s+1) // first pre-token ending after s
		n, i := 0, 0
		kp := -1
		for i < len(sub) {
			j := cl100kNext(sub, i)
			n += t.countAt(text, runs, ends, s+i, s+j)
			i = j
			for k < len(pre) && int(pre[k]) < s+j {
				k++
			}
			if k < len(pre) && int(pre[k]) == s+j {
				kp = k
				break
			}
		}
		if i == len(sub) {
			return n
		}
		// Tail: the last pre-token end q <= e not preceded by white space.
		kq := searchInt32(pre, e+1) - 1 // last pre-token ending at or before e
		for kq > kp {
			r, _ := utf8.DecodeLastRuneInString(text[:pre[kq]])
			if classOf(r) != clSpace {
				break
			}
			kq--
		}
		if kq <= kp {
			for i < len(sub) {
				j := cl100kNext(sub, i)
				n += t.countAt(text, runs, ends, s+i, s+j)
				i = j
			}
			return n
		}
		n += cum(kq) - cum(kp)
		tail := text[pre[kq]:e]
		for i := 0; i < len(tail); {
			j := cl100kNext(tail, i)
			n += t.countAt(text, runs, ends, int(pre[kq])+i, int(pre[kq])+j)
			i = j
		}
		return n
	}
	return ends, count, nil
}

// room returns how many more elements to make room for in a slice that
// holds k elements for the first done of total bytes of a text: as many as
// that rate predicts for the rest, plus an eighth, and at least least.
// Growing the arrays of a huge text so, rather than by append's quarter
// steps or even by doubling, allocates little more than their final size.
func room(k, done, total, least int) int {
	if done <= 0 || done >= total {
		return max(least, k/8)
	}
	rest := int(int64(k) * int64(total-done) / int64(done))
	return max(least, rest+(k+rest)/8)
}

// searchInt32 returns the index of the first element of a >= x.
func searchInt32(a []int32, x int) int {
	v := int32(x)
	lo, hi := 0, len(a)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if a[h] < v {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo
}
