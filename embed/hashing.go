package embed

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// DefaultHashingDimensions is the dimension of a Hashing embedder created
// with HashingOptions.Dimensions <= 0: 384, the size of the common small
// local models (all-MiniLM-L6-v2, bge-small, e5-small), so a store sized for
// one of them takes Hashing vectors too. 384 buckets keep collisions between
// the few hundred features of a passage rare while a vector stays 1.5 KB.
const DefaultHashingDimensions = 384

// HashingOptions configures a Hashing embedder. The zero value is ready to
// use: 384 dimensions, words and word bigrams, no character n-grams.
type HashingOptions struct {
	// Dimensions is the vector size; <= 0 means DefaultHashingDimensions.
	Dimensions int

	// NoBigrams leaves out word bigrams ("new york"), keeping only words.
	NoBigrams bool

	// CharNGrams > 0 adds, for every word, its character n-grams of this
	// many runes, the word framed by "<" and ">" as in fastText ("<go",
	// "go>" for 3). They make the vectors tolerate typos and inflections
	// (index, indexes, indexing) at some cost in precision and speed. 3 or
	// 4 are usual; 0 (the default) leaves them out.
	CharNGrams int

	// KeepStopWords keeps the common English function words ("the", "of",
	// "and"... about 130 of them) that Hashing otherwise skips: without
	// inverse document frequencies they would dominate every vector.
	// Bigrams are formed over the remaining words ("bank of america" gives
	// "bank america").
	KeepStopWords bool

	// Seed selects another family of hash functions. Embedders with
	// different seeds produce unrelated vectors; the seed is part of Name.
	Seed uint64
}

// Hashing is a deterministic local embedder: it hashes the features of a
// text (lowercased Unicode words less English stop words, word bigrams and
// optionally character n-grams) into a fixed number of buckets with signed
// feature hashing (the "hashing trick"), weighs each feature by its
// sublinear term frequency 1+ln(tf), and L2-normalises the vector.
//
// Hashing is a lexical baseline, not a semantic model: texts are close when
// they share words, and synonyms are unrelated. It needs no network, no
// model file and no warm-up, so it suits tests, demos, offline use and as a
// floor to compare a real model against. Its vectors are the same on every
// machine, process and release of this package with the same Name.
//
// Words are maximal runs of Unicode letters, marks and digits, lowercased;
// everything else separates words. Each Han, Hiragana and Katakana
// character is a word of its own (those scripts do not put spaces between
// words), so their bigrams are character bigrams. Invalid UTF-8 bytes
// separate words.
//
// A text made of stop words only keeps them. A text without any word
// (empty, only spaces or punctuation) has no features; rather than a zero
// vector, which has no cosine similarity, Hashing gives it a fixed unit
// vector: 1 in the first dimension, 0 elsewhere. The result therefore never holds NaN and always has norm 1.
//
// A Hashing is safe for concurrent use by many goroutines.
type Hashing struct {
	dims     int
	bigrams  bool
	ngrams   int
	seed     uint64
	keepStop bool
	name     string
	pool     sync.Pool // *hashScratch
}

var (
	_ Embedder    = (*Hashing)(nil)
	_ Dimensioner = (*Hashing)(nil)
	_ Namer       = (*Hashing)(nil)
)

type hashScratch struct {
	words   []uint64 // feature hashes of the words of the current text
	bigrams []uint64 // of its word bigrams
	ngrams  []uint64 // of its character n-grams
	runes   []rune   // the current word, for character n-grams

	// An open-addressing hash table counting distinct features: keys
	// (0 marks a free slot), their counts, and the slots in use in order
	// of first insertion, to visit and clear them.
	keys   []uint64
	counts []uint32
	used   []uint32
}

// NewHashing returns a Hashing embedder configured by opts.
func NewHashing(opts HashingOptions) *Hashing {
	h := &Hashing{
		dims:     opts.Dimensions,
		bigrams:  !opts.NoBigrams,
		ngrams:   max(opts.CharNGrams, 0),
		seed:     opts.Seed,
		keepStop: opts.KeepStopWords,
	}
	if h.dims <= 0 {
		h.dims = DefaultHashingDimensions
	}
	h.name = "hashing:" + strconv.Itoa(h.dims)
	if !h.bigrams {
		h.name += ":nobigrams"
	}
	if h.ngrams > 0 {
		h.name += ":char" + strconv.Itoa(h.ngrams)
	}
	if h.keepStop {
		h.name += ":stopwords"
	}
	if h.seed != 0 {
		h.name += ":seed" + strconv.FormatUint(h.seed, 10)
	}
	h.pool.New = func() any { return new(hashScratch) }
	return h
}

// Dimensions returns the dimension of the vectors.
func (h *Hashing) Dimensions() int { return h.dims }

// Name returns "hashing:<dimensions>", followed by ":nobigrams",
// ":char<n>", ":stopwords" and ":seed<seed>" when those options are set.
func (h *Hashing) Name() string { return h.name }

// Embed returns the vector of each text, in order. It fails only when ctx
// is done, with ctx.Err(). An empty texts gives an empty result.
func (h *Hashing) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([][]float32, len(texts))
	if len(texts) == 0 {
		return out, nil
	}
	// One allocation for the whole batch; the capacity of each vector is
	// capped so that appending to one cannot overwrite the next.
	backing := make([]float32, len(texts)*h.dims)
	s := h.pool.Get().(*hashScratch)
	defer h.pool.Put(s)
	for i, text := range texts {
		if i&255 == 255 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		v := backing[i*h.dims : (i+1)*h.dims : (i+1)*h.dims]
		h.embed(s, text, v)
		out[i] = v
	}
	return out, nil
}

// Feature kinds, mixed into feature hashes so that the word "a b" can not
// collide systematically with the bigram (a, b).
const (
	kindWord   = 0x9e3779b97f4a7c15
	kindBigram = 0xc2b2ae3d27d4eb4f
	kindNGram  = 0x165667b19e3779f9
)

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// mix64 is the finaliser of MurmurHash3: a bijection on 64 bits that
// spreads every input bit over the whole output.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// Weights of bigrams and character n-grams relative to words, chosen on
// SciFact (see scifact_test.go): heavier bigrams crowd out words in 384
// buckets.
const (
	bigramWeight = 0.25
	ngramWeight  = 0.5
)

// embed writes the unit vector of text into v, which is zero on entry.
func (h *Hashing) embed(s *hashScratch, text string, v []float32) {
	if skipped := h.features(s, text, h.keepStop); len(s.words) == 0 && skipped {
		// A text of stop words only ("to be or not to be") keeps them.
		h.features(s, text, true)
	}
	if len(s.words) == 0 {
		v[0] = 1
		return
	}
	h.accumulate(s, v, s.words, 1)
	h.accumulate(s, v, s.bigrams, bigramWeight)
	h.accumulate(s, v, s.ngrams, ngramWeight)
	var sum float64
	for _, x := range v {
		// The explicit conversion forbids fusing into an FMA, which would
		// make vectors differ in their last bits between architectures.
		sum += float64(float64(x) * float64(x))
	}
	if sum == 0 || math.IsInf(sum, 0) || math.IsNaN(sum) {
		// Every feature cancelled out (possible only through collisions);
		// fall back to the vector of a text without words.
		clear(v)
		v[0] = 1
		return
	}
	inv := float32(1 / math.Sqrt(sum))
	for k := range v {
		v[k] *= inv
	}
}

// accumulate adds to v the signed, weighted sublinear term frequency of
// every distinct feature hash in feats.
func (h *Hashing) accumulate(s *hashScratch, v []float32, feats []uint64, weight float32) {
	if len(feats) == 0 {
		return
	}
	size := 16
	for size < 2*len(feats) {
		size *= 2
	}
	if len(s.keys) < size {
		s.keys = make([]uint64, size)
		s.counts = make([]uint32, size)
	}
	keys, counts := s.keys[:size], s.counts[:size]
	mask := uint64(size - 1)
	used := s.used[:0]
	for _, f := range feats {
		f |= 1 << 32 // never 0, the mark of a free slot; bit 32 is unused below
		for i := f >> 40 & mask; ; i = (i + 1) & mask {
			if keys[i] == f {
				counts[i]++
				break
			}
			if keys[i] == 0 {
				keys[i], counts[i] = f, 1
				used = append(used, uint32(i))
				break
			}
		}
	}
	dims := uint64(h.dims)
	for _, i := range used {
		f, tf := keys[i], counts[i]
		keys[i] = 0
		w := weight
		if tf > 1 {
			w *= float32(tfWeight(tf))
		}
		// Low 32 bits choose the bucket (multiply-shift), the top bit the
		// sign.
		b := ((f & 0xffffffff) * dims) >> 32
		if f>>63 != 0 {
			w = -w
		}
		v[b] += w
	}
	s.used = used
}

// tfWeights[tf] = 1 + ln(tf), the weight of a feature seen tf times.
var tfWeights = func() (t [64]float64) {
	for i := 1; i < len(t); i++ {
		t[i] = 1 + math.Log(float64(i))
	}
	return t
}()

func tfWeight(tf uint32) float64 {
	if tf < uint32(len(tfWeights)) {
		return tfWeights[tf]
	}
	return 1 + math.Log(float64(tf))
}

// features collects the hashes of the features of text into s, and
// reports whether it skipped stop words.
func (h *Hashing) features(s *hashScratch, text string, keepStop bool) (skipped bool) {
	seed := h.seed
	s.words, s.bigrams, s.ngrams = s.words[:0], s.bigrams[:0], s.ngrams[:0]
	var (
		prev    uint64 // hash of the previous word
		hasPrev bool
		word    uint64 = fnvOffset
		inWord  bool
	)
	s.runes = s.runes[:0]
	endWord := func() {
		if !inWord {
			return
		}
		if !keepStop && isStopWord(word) {
			skipped = true
			word, inWord = fnvOffset, false
			s.runes = s.runes[:0]
			return
		}
		s.words = append(s.words, mix64(word^kindWord^seed))
		if h.bigrams && hasPrev {
			s.bigrams = append(s.bigrams, mix64((prev*fnvPrime)^mix64(word^kindBigram^seed)))
		}
		if h.ngrams > 0 {
			s.ngrams = h.charNGrams(s.runes, s.ngrams)
			s.runes = s.runes[:0]
		}
		prev, hasPrev = word, true
		word, inWord = fnvOffset, false
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			default:
				endWord()
				continue
			}
			word = (word ^ uint64(c)) * fnvPrime
			inWord = true
			if h.ngrams > 0 {
				s.runes = append(s.runes, rune(c))
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if r == utf8.RuneError && size == 1 || !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)) {
			endWord()
			continue
		}
		r = unicode.ToLower(r)
		ideo := isIdeographic(r)
		if ideo {
			endWord()
		}
		var buf [utf8.UTFMax]byte
		for _, b := range buf[:utf8.EncodeRune(buf[:], r)] {
			word = (word ^ uint64(b)) * fnvPrime
		}
		inWord = true
		if h.ngrams > 0 {
			s.runes = append(s.runes, r)
		}
		if ideo {
			endWord()
		}
	}
	endWord()
	return skipped
}

// charNGrams appends the hashes of the n-grams of the word held in runes,
// framed by '<' and '>'. A word shorter than n gives one n-gram, itself
// framed.
func (h *Hashing) charNGrams(runes []rune, feats []uint64) []uint64 {
	n := h.ngrams
	m := len(runes) + 2
	at := func(k int) rune {
		switch k {
		case 0:
			return '<'
		case m - 1:
			return '>'
		}
		return runes[k-1]
	}
	for start := 0; start == 0 || start+n <= m; start++ {
		g := uint64(fnvOffset)
		for k := start; k < start+n && k < m; k++ {
			g = (g ^ uint64(at(k))) * fnvPrime
		}
		feats = append(feats, mix64(g^kindNGram^h.seed))
	}
	return feats
}

// isIdeographic reports whether r belongs to a script written without
// spaces between words, whose characters Hashing treats as words.
func isIdeographic(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

// stopWords is a set of the FNV-1a hashes of common English function
// words, open-addressed with linear probing; 0 marks a free slot.
var stopWords = func() (set [512]uint64) {
	for _, w := range strings.Fields(stopWordList) {
		h := uint64(fnvOffset)
		for i := 0; i < len(w); i++ {
			h = (h ^ uint64(w[i])) * fnvPrime
		}
		i := h >> 55
		for set[i] != 0 {
			i = (i + 1) % uint64(len(set))
		}
		set[i] = h
	}
	return set
}()

func isStopWord(h uint64) bool {
	for i := h >> 55; ; i = (i + 1) % uint64(len(stopWords)) {
		switch stopWords[i] {
		case h:
			return true
		case 0:
			return false
		}
	}
}

const stopWordList = `a about above after again against all am an and any are as at be because been
before being below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself just me
more most my myself no nor not now of off on once only or other our ours ourselves out over own same she
should so some such than that the their theirs them themselves then there these they this those through
to too under until up very was we were what when where which while who whom why will with would you your
yours yourself yourselves`
