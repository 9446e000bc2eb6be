package chunk

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/ragkit-go/rag/internal/vecmath"
	"github.com/ragkit-go/rag/tokenizer"
)

// Threshold is how Semantic decides that the distance between two
// neighbouring sentence groups is a break.
type Threshold int

const (
	// ThresholdPercentile breaks where the distance is above the Amount-th
	// percentile of all distances in the document (default 95).
	ThresholdPercentile Threshold = iota
	// ThresholdStdDev breaks where the distance is more than Amount
	// standard deviations above the mean (default 3).
	ThresholdStdDev
	// ThresholdInterquartile breaks where the distance is above the third
	// quartile by more than Amount interquartile ranges (default 1.5).
	ThresholdInterquartile
)

func (t Threshold) String() string {
	switch t {
	case ThresholdPercentile:
		return "percentile"
	case ThresholdStdDev:
		return "stddev"
	case ThresholdInterquartile:
		return "interquartile"
	}
	return fmt.Sprintf("Threshold(%d)", int(t))
}

// SemanticOptions configures a Semantic chunker. The zero value is ready to
// use.
type SemanticOptions struct {
	// Size is the most tokens a chunk may hold. Zero means DefaultSize. A
	// topic longer than Size is packed into several chunks of whole
	// sentences.
	Size int
	// MinSize is the fewest tokens a chunk should hold: a smaller piece
	// between two breaks joins its neighbour when the two fit in Size.
	// Zero means Size/8 (64 at the default size), which keeps one-line
	// fragments (headings, captions), which embed poorly alone, with
	// their text. Negative means no minimum.
	MinSize int
	// Tokenizer measures sizes. Nil means tokenizer.CL100K().
	Tokenizer tokenizer.Tokenizer
	// Threshold is the break rule; the zero value is ThresholdPercentile.
	Threshold Threshold
	// Amount parameterizes Threshold (see each rule). Zero means the rule's
	// default: 95 for the percentile, 3 standard deviations, 1.5
	// interquartile ranges — the values LangChain's SemanticChunker
	// popularised, which break only at clear changes of topic.
	Amount float64
	// Window is the number of neighbouring sentences embedded with each
	// sentence on either side. Zero means 1: a sentence alone is too short
	// to embed reliably, and three sentences smooth out noise without
	// hiding a change of topic. Negative means 0 (sentences alone).
	Window int
	// BatchSize is the most texts per Embed call. Zero means 64.
	BatchSize int
	// Abbreviations extends DefaultAbbreviations, as for Sentence.
	Abbreviations []string
}

// Semantic splits text into sentences, embeds each sentence with its
// neighbours (Window), and breaks where the cosine distance between
// neighbouring groups passes the Threshold, so that chunks follow changes
// of topic. Pieces smaller than MinSize join a neighbour; pieces larger
// than Size are packed into several chunks of whole sentences (a sentence
// alone larger than Size is cut at white space, then between tokens, into
// pieces as long as fit in Size, each embedded as if it were a sentence).
// Chunks do not overlap.
//
// Embedding is done in batches of BatchSize texts, one Embed call at a
// time, in order; an embedding error (or a wrong number of vectors) fails
// the whole call, wrapped. Vectors of zero length count as distance 0. A
// text of one sentence is not embedded at all.
//
// Chunks are trimmed of surrounding white space: Text == content[Start:End]
// and Tokens == Tokenizer.Count(Text).
//
// A Semantic is safe for concurrent use if its Embedder is.
type Semantic struct {
	emb       Embedder
	size, min int
	tok       tokenizer.Tokenizer
	rule      Threshold
	amount    float64
	window    int
	batch     int
	sentences level
}

var _ Chunker = (*Semantic)(nil)

// NewSemantic returns a Semantic chunker embedding with e. It panics if e
// is nil.
func NewSemantic(e Embedder, opts SemanticOptions) *Semantic {
	if e == nil {
		panic("chunk: NewSemantic with a nil Embedder")
	}
	size, _ := sizes(opts.Size, -1, 0)
	c := &Semantic{emb: e, size: size, min: opts.MinSize, tok: opts.Tokenizer, rule: opts.Threshold,
		amount: opts.Amount, window: opts.Window, batch: opts.BatchSize}
	switch {
	case c.min == 0:
		c.min = size / 8
	case c.min < 0:
		c.min = 0
	}
	c.min = min(c.min, size)
	if c.tok == nil {
		c.tok = tokenizer.CL100K()
	}
	if c.amount == 0 {
		switch c.rule {
		case ThresholdStdDev:
			c.amount = 3
		case ThresholdInterquartile:
			c.amount = 1.5
		default:
			c.amount = 95
		}
	}
	switch {
	case c.window == 0:
		c.window = 1
	case c.window < 0:
		c.window = 0
	}
	if c.batch <= 0 {
		c.batch = 64
	}
	c.sentences = sentenceLevel(abbreviations(opts.Abbreviations))
	return c
}

// Chunk splits text. See Chunker for the contract.
func (c *Semantic) Chunk(ctx context.Context, text string) ([]Chunk, error) {
	s, e, err := start(ctx, text)
	if err != nil || s == e {
		return nil, err
	}
	m, err := newMeasure(ctx, c.tok, text)
	if err != nil {
		return nil, err
	}
	// Units: sentences, each cut further if longer than Size into pieces
	// as long as fit (each unit is embedded: not a unit a word).
	p := &packer{ctx: ctx, m: m, size: c.size, levels: []level{words}, join: true}
	prev := s
	var cuts []int
	for from := s; ; {
		cuts = c.sentences(text, s, from, e, cuts[:0], cutBatch)
		if len(cuts) < cutBatch {
			cuts = append(cuts, e)
		}
		for _, cut := range cuts {
			if us, ue := trim(text, prev, cut); us < ue {
				p.joinFrom = len(p.leaves)
				p.split(us, ue, 0)
			}
			prev = cut
		}
		if prev == e || p.err != nil {
			break
		}
		from = prev
	}
	if p.err != nil {
		return nil, p.err
	}
	units := p.leaves
	if len(units) == 0 {
		return nil, nil
	}
	dist, err := c.distances(ctx, text, units)
	if err != nil {
		return nil, err
	}
	limit := c.limit(dist)
	// Segments between breaks, as ranges of units [a, b).
	var segs [][2]int
	a := 0
	for i := range units {
		if i+1 == len(units) || dist[i] > limit {
			segs = append(segs, [2]int{a, i + 1})
			a = i + 1
		}
	}
	if segs, err = c.joinSmall(ctx, m, units, segs, dist); err != nil {
		return nil, err
	}
	// Pack each segment's units into chunks of up to Size.
	var out []span
	var counts []int
	for _, g := range segs {
		spans, err := p.pack(units[g[0]:g[1]])
		if err != nil {
			return nil, err
		}
		out = append(out, spans...)
		counts = append(counts, p.counts...)
	}
	p.counts = counts
	return p.chunks(out, nil), nil
}

// joinSmall merges each segment smaller than the minimum into the
// neighbour it is closest to (the smaller distance across the break), if
// the two fit in Size, else into the other neighbour if that fits;
// smallest segments first. It fails only with ctx's error.
func (c *Semantic) joinSmall(ctx context.Context, m *measure, units []span, segs [][2]int, dist []float64) ([][2]int, error) {
	if c.min <= 0 {
		return segs, nil
	}
	tokens := func(g [2]int) int { return m.approx(units[g[0]].s, units[g[1]-1].e) }
	stuck := make([]bool, len(segs))
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		k, least := -1, c.min
		for i, g := range segs {
			if n := tokens(g); !stuck[i] && n < least {
				k, least = i, n
			}
		}
		if k < 0 || len(segs) < 2 {
			return segs, nil
		}
		fits := func(j int) bool {
			return j >= 0 && j < len(segs) && tokens([2]int{segs[min(j, k)][0], segs[max(j, k)][1]}) <= c.size
		}
		left, right := k-1, k+1
		if left >= 0 && right < len(segs) && dist[segs[k][1]-1] < dist[segs[left][1]-1] {
			left, right = right, left // the right neighbour is closer
		}
		j := -1
		switch {
		case fits(left):
			j = left
		case fits(right):
			j = right
		}
		if j < 0 {
			stuck[k] = true
			continue
		}
		lo, hi := min(j, k), max(j, k)
		segs[lo] = [2]int{segs[lo][0], segs[hi][1]}
		segs = slices.Delete(segs, hi, hi+1)
		stuck = slices.Delete(stuck, hi, hi+1)
		stuck[lo] = false
	}
}

// distances embeds the sentence group around each unit and returns the
// cosine distance between each group and the next.
func (c *Semantic) distances(ctx context.Context, text string, units []span) ([]float64, error) {
	if len(units) < 2 {
		return []float64{}, nil
	}
	groups := make([]string, len(units))
	for i := range units {
		a, b := max(0, i-c.window), min(len(units)-1, i+c.window)
		groups[i] = text[units[a].s:units[b].e]
	}
	vecs := make([][]float32, 0, len(groups))
	dim := 0
	for k := 0; k < len(groups); k += c.batch {
		if err := ctx.Err(); err != nil {
			return nil, err // the embedder may not look at ctx itself
		}
		batch := groups[k:min(k+c.batch, len(groups))]
		vs, err := c.emb.Embed(ctx, batch)
		if err == nil {
			dim, err = checkVectors(vs, len(batch), dim)
		}
		if err != nil {
			return nil, fmt.Errorf("chunk: embedding sentences %d-%d of %d: %w", k, k+len(batch)-1, len(groups), err)
		}
		vecs = append(vecs, vs...)
	}
	dist := make([]float64, len(units)-1)
	for i := range dist {
		dist[i] = 1 - cosine(vecs[i], vecs[i+1])
	}
	return dist, nil
}

// Embedder is what Semantic needs of an embedding model. Every
// embed.Embedder has this method, so any embedder of package embed (or an
// embed.Func) can be passed; chunk declares it so that it does not depend
// on embed and the HTTP clients of its providers.
//
// Embed returns one vector per text, in order, all of one dimension. It
// may be called concurrently when the Semantic chunker is.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// ErrBadEmbedding is returned when Semantic's embedder answers with the
// wrong number of vectors, empty vectors, vectors of differing dimensions
// or vectors holding NaN or infinity.
var ErrBadEmbedding = errors.New("chunk: embedder returned unusable vectors")

// checkVectors checks an embedder's answer for n texts, of dimension dim
// when dim > 0, and returns the dimension.
func checkVectors(vecs [][]float32, n, dim int) (int, error) {
	if len(vecs) != n {
		return 0, fmt.Errorf("%w: %d texts, %d vectors", ErrBadEmbedding, n, len(vecs))
	}
	for i, v := range vecs {
		switch {
		case len(v) == 0:
			return 0, fmt.Errorf("%w: vector %d is empty", ErrBadEmbedding, i)
		case dim > 0 && len(v) != dim:
			return 0, fmt.Errorf("%w: vector %d has %d dimensions, want %d", ErrBadEmbedding, i, len(v), dim)
		case !vecmath.Finite(v):
			return 0, fmt.Errorf("%w: vector %d holds NaN or infinity", ErrBadEmbedding, i)
		}
		dim = len(v)
	}
	return dim, nil
}

// limit is the distance above which the rule breaks.
func (c *Semantic) limit(dist []float64) float64 {
	switch c.rule {
	case ThresholdStdDev:
		if len(dist) == 0 {
			return 0
		}
		mean := 0.0
		for _, d := range dist {
			mean += d
		}
		mean /= float64(len(dist))
		v := 0.0
		for _, d := range dist {
			v += (d - mean) * (d - mean)
		}
		return mean + c.amount*math.Sqrt(v/float64(len(dist)))
	case ThresholdInterquartile:
		sorted := slices.Sorted(slices.Values(dist))
		q1, q3 := percentile(sorted, 25), percentile(sorted, 75)
		return q3 + c.amount*(q3-q1)
	default:
		return percentile(slices.Sorted(slices.Values(dist)), c.amount)
	}
}

// percentile returns the p-th percentile (0-100) of sorted values, with
// linear interpolation between the closest ranks.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	p = min(max(p, 0), 100)
	x := p / 100 * float64(len(sorted)-1)
	i := int(x)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (x-float64(i))*(sorted[i+1]-sorted[i])
}

// cosine returns the cosine similarity of a and b, or 1 when either has
// zero length (so that it counts as no distance).
func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range min(len(a), len(b)) {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 1
	}
	return dot / math.Sqrt(na*nb)
}
