// Package embedtest checks that an embed.Embedder keeps the contract of
// the interface, and provides Fake, a deterministic embedder for tests
// that counts its calls and injects failures.
//
// Run is the conformance suite, in the manner of testing/fstest.TestFS:
//
//	func TestConformance(t *testing.T) {
//		embedtest.Run(t, myembedder.New(...), embedtest.Options{Deterministic: true})
//	}
package embedtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ragkit-go/rag/embed"
)

// Options configures Run.
type Options struct {
	// Deterministic declares that the embedder returns identical vectors
	// for identical texts, call after call; Run then compares vectors
	// exactly. Otherwise vectors of the same text need only be close
	// (see Tolerance), as hosted models' vectors wobble in their last
	// digits.
	Deterministic bool

	// Tolerance is how far from 1 the cosine similarity of two vectors of
	// the same text may be when the embedder is not Deterministic;
	// default 0.01.
	Tolerance float64

	// Dimensions is the dimension the vectors must have; 0 takes the
	// embedder's Dimensions when it is an embed.Dimensioner that knows,
	// else only requires one dimension for all vectors.
	Dimensions int

	// Texts are embedded by the checks; default a varied set: short and
	// long, several scripts, digits, punctuation and emoji, none empty.
	Texts []string

	// Concurrency is the number of goroutines calling Embed at once in
	// the concurrency check; default 8.
	Concurrency int

	// LargeBatch > 0 adds a check that a batch of this many texts gets
	// that many vectors in order: set it above the embedder's
	// Limits().MaxInputs to check that it splits batches.
	LargeBatch int

	// Calls, when set, returns how many provider calls the embedder has
	// made so far (for instance openaitest.Server.Stats().Requests); Run
	// then checks that an empty batch makes none.
	Calls func() int
}

// DefaultTexts is the default of Options.Texts.
var DefaultTexts = []string{
	"Go is an open source programming language that makes it simple to build secure, scalable systems.",
	"Goroutines are lightweight threads managed by the Go runtime.",
	"The mitochondria is the powerhouse of the cell.",
	"retrieval",
	"Retrieval-augmented generation grounds a language model's answers in documents it retrieves.",
	"東京は日本の首都です。",
	"Ελληνικά, русский, العربية, हिन्दी: many scripts in one text.",
	"Numbers 3.14159, 2.71828 and 1,000,000 with units: 42 km/h.",
	"?!",
	"Emoji 🚀🔥 and accents: naïve café, résumé.",
	strings.Repeat("A long passage repeats itself to test longer inputs. ", 40),
	"The quick brown fox jumps over the lazy dog.",
}

// A check is one rule of the Embedder contract.
type check struct {
	name string
	run  func(*suite) error
}

// checks are the rules Run checks, in order.
var checks = []check{
	{"OneVectorPerTextInOrder", (*suite).oneVectorPerText},
	{"BatchMatchesSingleTexts", (*suite).batchMatchesSingles},
	{"EmptyBatch", (*suite).emptyBatch},
	{"Deterministic", (*suite).deterministic},
	{"ConcurrentCalls", (*suite).concurrent},
	{"CancelledContext", (*suite).cancelled},
	{"ResultsBelongToCaller", (*suite).resultsOwned},
	{"TextsUnchanged", (*suite).textsUnchanged},
	{"LargeBatch", (*suite).largeBatch},
}

// errSkip is returned by a check that does not apply.
var errSkip = errors.New("embedtest: check does not apply")

// Run checks that e keeps the embed.Embedder contract: one vector per
// text, in order, all of one dimension and without NaN or Inf; the same
// vector for a text alone or in a batch; an empty batch answered empty,
// without error (and without a provider call, when Options.Calls is set);
// determinism when declared; safety under concurrent calls; an error
// matching ctx.Err() for a cancelled or expired context; returned vectors
// that the caller may modify and append to without changing another
// vector or a later answer; texts left unchanged. Each rule is a subtest.
//
// Run makes a few dozen Embed calls of up to len(Options.Texts) texts.
func Run(t *testing.T, e embed.Embedder, opts Options) {
	t.Helper()
	s := newSuite(e, opts)
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			err := c.run(s)
			if errors.Is(err, errSkip) {
				t.Skip(err)
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
}

type suite struct {
	e    embed.Embedder
	opts Options
	ctx  context.Context
}

func newSuite(e embed.Embedder, opts Options) *suite {
	if len(opts.Texts) == 0 {
		opts.Texts = DefaultTexts
	}
	if opts.Tolerance <= 0 {
		opts.Tolerance = 0.01
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.Dimensions <= 0 {
		if d, ok := e.(embed.Dimensioner); ok {
			opts.Dimensions = d.Dimensions()
		}
	}
	return &suite{e: e, opts: opts, ctx: context.Background()}
}

// embed calls Embed and validates the answer for texts.
func (s *suite) embed(texts []string) ([][]float32, error) {
	vecs, err := s.e.Embed(s.ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("Embed(%d texts): %w", len(texts), err)
	}
	if _, err := embed.Check(vecs, len(texts), s.opts.Dimensions); err != nil {
		return nil, fmt.Errorf("Embed(%d texts): %w", len(texts), err)
	}
	return vecs, nil
}

// same reports whether a and b are the same vector: equal when the
// embedder is deterministic, else of cosine similarity within Tolerance
// of 1.
func (s *suite) same(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	if s.opts.Deterministic {
		return slices.Equal(a, b)
	}
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return na == nb
	}
	return dot/math.Sqrt(na*nb) >= 1-s.opts.Tolerance
}

func (s *suite) oneVectorPerText() error {
	texts := s.opts.Texts
	vecs, err := s.embed(texts)
	if err != nil {
		return err
	}
	// The reverse order must give the reverse vectors.
	rev := slices.Clone(texts)
	slices.Reverse(rev)
	back, err := s.embed(rev)
	if err != nil {
		return err
	}
	for i := range texts {
		if !s.same(vecs[i], back[len(texts)-1-i]) {
			return fmt.Errorf("text %d (%.40q) has another vector when the batch is reversed: vectors are not in the order of texts", i, texts[i])
		}
	}
	return nil
}

func (s *suite) batchMatchesSingles() error {
	texts := s.opts.Texts
	vecs, err := s.embed(texts)
	if err != nil {
		return err
	}
	for i, text := range texts {
		one, err := s.embed([]string{text})
		if err != nil {
			return err
		}
		if !s.same(vecs[i], one[0]) {
			return fmt.Errorf("text %d (%.40q) has another vector alone than in a batch", i, text)
		}
	}
	return nil
}

func (s *suite) emptyBatch() error {
	before := 0
	if s.opts.Calls != nil {
		before = s.opts.Calls()
	}
	for _, texts := range [][]string{nil, {}} {
		vecs, err := s.e.Embed(s.ctx, texts)
		if err != nil {
			return fmt.Errorf("Embed(%#v) failed: %w; want an empty result", texts, err)
		}
		if len(vecs) != 0 {
			return fmt.Errorf("Embed(%#v) returned %d vectors; want none", texts, len(vecs))
		}
	}
	if s.opts.Calls != nil {
		if n := s.opts.Calls() - before; n != 0 {
			return fmt.Errorf("empty batches made %d provider calls; want none", n)
		}
	}
	return nil
}

func (s *suite) deterministic() error {
	if !s.opts.Deterministic {
		return fmt.Errorf("%w: Options.Deterministic is false", errSkip)
	}
	a, err := s.embed(s.opts.Texts)
	if err != nil {
		return err
	}
	b, err := s.embed(s.opts.Texts)
	if err != nil {
		return err
	}
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			return fmt.Errorf("text %d (%.40q) got different vectors in two calls", i, s.opts.Texts[i])
		}
	}
	return nil
}

func (s *suite) concurrent() error {
	texts := s.opts.Texts
	want, err := s.embed(texts)
	if err != nil {
		return err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for g := range s.opts.Concurrency {
		wg.Go(func() {
			for round := range 3 {
				// Each goroutine embeds its own rotation of the texts.
				k := (g + round) % len(texts)
				batch := append(slices.Clone(texts[k:]), texts[:k]...)
				got, err := s.embed(batch)
				if err == nil {
					for i := range batch {
						if !s.same(got[i], want[(i+k)%len(texts)]) {
							err = fmt.Errorf("goroutine %d: text %.40q got another vector under concurrent calls", g, batch[i])
							break
						}
					}
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *suite) cancelled() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	vecs, err := s.e.Embed(ctx, s.opts.Texts)
	if !errors.Is(err, context.Canceled) {
		return fmt.Errorf("Embed with a cancelled context returned %d vectors and error %v; want an error matching context.Canceled", len(vecs), err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), -1)
	defer cancel()
	vecs, err = s.e.Embed(ctx, s.opts.Texts)
	if !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("Embed with an expired deadline returned %d vectors and error %v; want an error matching context.DeadlineExceeded", len(vecs), err)
	}
	return nil
}

func (s *suite) resultsOwned() error {
	texts := s.opts.Texts
	first, err := s.embed(texts)
	if err != nil {
		return err
	}
	want := make([][]float32, len(first))
	for i, v := range first {
		want[i] = slices.Clone(v)
	}
	// Appending to a vector must not write into the next one.
	for i := 0; i+1 < len(first); i++ {
		_ = append(first[i], 12345, 12345, 12345)
		if !slices.Equal(first[i+1], want[i+1]) {
			return fmt.Errorf("appending to vector %d changed vector %d: vectors share a backing array beyond their length", i, i+1)
		}
	}
	// Overwriting an answer must not change a later one.
	for _, v := range first {
		for k := range v {
			v[k] = 12345
		}
	}
	second, err := s.embed(texts)
	if err != nil {
		return err
	}
	for i := range second {
		if !s.same(second[i], want[i]) {
			return fmt.Errorf("text %d (%.40q): overwriting a returned vector changed the vector of a later call: the embedder kept and reused it", i, texts[i])
		}
	}
	return nil
}

func (s *suite) textsUnchanged() error {
	texts := slices.Clone(s.opts.Texts)
	if _, err := s.embed(texts); err != nil {
		return err
	}
	if !slices.Equal(texts, s.opts.Texts) {
		return errors.New("Embed modified its texts argument")
	}
	return nil
}

func (s *suite) largeBatch() error {
	n := s.opts.LargeBatch
	if n <= 0 {
		return fmt.Errorf("%w: Options.LargeBatch is 0", errSkip)
	}
	texts := make([]string, n)
	for i := range texts {
		texts[i] = fmt.Sprintf("%s (%d)", s.opts.Texts[i%len(s.opts.Texts)], i)
	}
	vecs, err := s.embed(texts)
	if err != nil {
		return err
	}
	for _, i := range []int{0, n / 2, n - 1} {
		one, err := s.embed(texts[i : i+1])
		if err != nil {
			return err
		}
		if !s.same(vecs[i], one[0]) {
			return fmt.Errorf("text %d of a batch of %d has another vector than alone: batches are not reassembled in order", i, n)
		}
	}
	return nil
}
