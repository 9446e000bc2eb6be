package embedtest

import (
	"context"
	"math"
	"slices"
	"strconv"
	"sync"

	"github.com/ragkit-go/rag/embed"
)

// DefaultFakeDimensions is the dimension of a Fake whose Dims is 0.
const DefaultFakeDimensions = 64

// Fake is a deterministic embedder for tests. Its vectors are those of
// embed.Hashing at Dims dimensions, so texts sharing words are close and
// searches give sensible results. It counts its calls, texts and calls in
// flight, keeps the batches it was given, and can fail or corrupt chosen
// calls to test how a caller handles a misbehaving embedder.
//
// The zero value is ready to use. Set the fields before the first call
// and do not change them afterwards. A Fake is safe for concurrent use.
type Fake struct {
	// Dims is the dimension of the vectors; 0 means
	// DefaultFakeDimensions.
	Dims int

	// OnCall, when set, is called by every Embed call with a non-empty
	// batch, while the call counts as in flight, with the call's 1-based
	// number (in order of arrival) and texts. A non-nil error fails the
	// call and is returned as is: a *provider.Error to simulate a
	// provider's refusal (see ErrorOn). OnCall may block, for instance on
	// a channel, to hold calls in flight; it should then watch ctx.
	OnCall func(ctx context.Context, call int, texts []string) error

	// Corrupt, when set, may change the vectors of a successful call
	// before they are returned: see DropLast, AddVector, WrongDimension,
	// InjectNaN and OnlyCall.
	Corrupt func(call int, vecs [][]float32) [][]float32

	once sync.Once
	h    *embed.Hashing

	mu          sync.Mutex
	calls       int
	texts       int
	batches     [][]string
	inFlight    int
	maxInFlight int
}

var (
	_ embed.Embedder    = (*Fake)(nil)
	_ embed.Dimensioner = (*Fake)(nil)
	_ embed.Namer       = (*Fake)(nil)
)

func (f *Fake) hashing() *embed.Hashing {
	f.once.Do(func() { f.h = embed.NewHashing(embed.HashingOptions{Dimensions: f.Dimensions()}) })
	return f.h
}

// Dimensions returns the dimension of the vectors.
func (f *Fake) Dimensions() int {
	if f.Dims > 0 {
		return f.Dims
	}
	return DefaultFakeDimensions
}

// Name returns "fake:<dimensions>".
func (f *Fake) Name() string { return "fake:" + strconv.Itoa(f.Dimensions()) }

// Embed returns the vectors of texts, unless ctx is done, OnCall fails the
// call, or Corrupt changes the answer. An empty batch, or a context done on
// entry, does not count as a call.
func (f *Fake) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(texts) == 0 {
		return [][]float32{}, nil
	}
	f.mu.Lock()
	f.calls++
	call := f.calls
	f.texts += len(texts)
	f.batches = append(f.batches, slices.Clone(texts))
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()

	if f.OnCall != nil {
		if err := f.OnCall(ctx, call, texts); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	vecs, err := f.hashing().Embed(ctx, texts)
	if err != nil {
		return nil, err
	}
	if f.Corrupt != nil {
		vecs = f.Corrupt(call, vecs)
	}
	return vecs, nil
}

// Calls returns the number of Embed calls counted so far: those with a
// non-empty batch and a live context, whether they then failed or not.
func (f *Fake) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// Texts returns the number of texts given to Embed so far.
func (f *Fake) Texts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.texts
}

// Batches returns copies of the batches given to Embed, in order of the
// calls.
func (f *Fake) Batches() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([][]string, len(f.batches))
	for i, b := range f.batches {
		out[i] = slices.Clone(b)
	}
	return out
}

// MaxInFlight returns the most Embed calls that were running at once.
func (f *Fake) MaxInFlight() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxInFlight
}

// Reset clears the counts and the batches kept.
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.texts, f.batches, f.inFlight, f.maxInFlight = 0, 0, nil, 0, 0
}

// ErrorOn returns an OnCall function that fails the calls numbered calls
// with err, and lets the others through.
func ErrorOn(err error, calls ...int) func(ctx context.Context, call int, texts []string) error {
	return func(_ context.Context, call int, _ []string) error {
		if slices.Contains(calls, call) {
			return err
		}
		return nil
	}
}

// DropLast is a Corrupt function that leaves out the last vector: the
// answer has one vector fewer than texts.
func DropLast(_ int, vecs [][]float32) [][]float32 { return vecs[:len(vecs)-1] }

// AddVector is a Corrupt function that appends a copy of the first vector:
// the answer has one vector more than texts.
func AddVector(_ int, vecs [][]float32) [][]float32 {
	return append(vecs, slices.Clone(vecs[0]))
}

// WrongDimension is a Corrupt function that drops the last component of
// the last vector.
func WrongDimension(_ int, vecs [][]float32) [][]float32 {
	last := vecs[len(vecs)-1]
	vecs[len(vecs)-1] = last[:len(last)-1]
	return vecs
}

// InjectNaN is a Corrupt function that sets the first component of the
// first vector to NaN.
func InjectNaN(_ int, vecs [][]float32) [][]float32 {
	vecs[0][0] = float32(math.NaN())
	return vecs
}

// OnlyCall restricts the Corrupt function c to the calls numbered calls.
func OnlyCall(c func(call int, vecs [][]float32) [][]float32, calls ...int) func(int, [][]float32) [][]float32 {
	return func(call int, vecs [][]float32) [][]float32 {
		if slices.Contains(calls, call) {
			return c(call, vecs)
		}
		return vecs
	}
}
