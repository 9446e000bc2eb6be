package embed_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/ragkit-go/rag/embed"
)

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func embedOne(t *testing.T, e embed.Embedder, text string) []float32 {
	t.Helper()
	vs, err := e.Embed(context.Background(), []string{text})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 {
		t.Fatalf("got %d vectors for 1 text", len(vs))
	}
	return vs[0]
}

func nonZero(v []float32) (idx []int) {
	for i, x := range v {
		if x != 0 {
			idx = append(idx, i)
		}
	}
	return idx
}

func TestHashingDefaultsAndName(t *testing.T) {
	tests := []struct {
		opts embed.HashingOptions
		dims int
		name string
	}{
		{embed.HashingOptions{}, 384, "hashing:384"},
		{embed.HashingOptions{Dimensions: -5}, 384, "hashing:384"},
		{embed.HashingOptions{Dimensions: 64}, 64, "hashing:64"},
		{embed.HashingOptions{Dimensions: 8, NoBigrams: true, CharNGrams: 3, KeepStopWords: true, Seed: 7}, 8, "hashing:8:nobigrams:char3:stopwords:seed7"},
	}
	for _, tt := range tests {
		h := embed.NewHashing(tt.opts)
		if h.Dimensions() != tt.dims || h.Name() != tt.name {
			t.Errorf("NewHashing(%+v): Dimensions %d Name %q, want %d %q", tt.opts, h.Dimensions(), h.Name(), tt.dims, tt.name)
		}
		if got := embedOne(t, h, "some text"); len(got) != tt.dims {
			t.Errorf("NewHashing(%+v): vector of %d dimensions, want %d", tt.opts, len(got), tt.dims)
		}
	}
}

// TestHashingUnitVectors checks that every text, however odd, gives a unit
// vector without NaN or Inf.
func TestHashingUnitVectors(t *testing.T) {
	texts := []string{
		"", " ", "\t\n\r ", "!!!", "?", "-- -- --", "the", "to be or not to be",
		"Hello, World!", "ÉCOLE école", "東京大学", "😀 🎉", "\xff\xfe\xfd", "a\x00b",
		strings.Repeat("word ", 10000), strings.Repeat("x", 100000),
		"mixed 123 numbers 4.5e10 and CAPS", "naïve café résumé", "Ελληνικά κείμενα", "русский текст",
	}
	for _, opts := range []embed.HashingOptions{{}, {Dimensions: 1}, {Dimensions: 2, CharNGrams: 3}, {NoBigrams: true, KeepStopWords: true}, {CharNGrams: 5}} {
		h := embed.NewHashing(opts)
		vs, err := h.Embed(context.Background(), texts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := embed.Check(vs, len(texts), h.Dimensions()); err != nil {
			t.Fatalf("%s: %v", h.Name(), err)
		}
		for i, v := range vs {
			if n := math.Sqrt(dot(v, v)); math.Abs(n-1) > 1e-5 {
				t.Errorf("%s: text %q has norm %v, want 1", h.Name(), texts[i], n)
			}
		}
	}
}

func TestHashingTextsWithoutWords(t *testing.T) {
	h := embed.NewHashing(embed.HashingOptions{})
	for _, text := range []string{"", "   ", "\n\t", "!?.,;", "\xff"} {
		v := embedOne(t, h, text)
		if v[0] != 1 || len(nonZero(v)) != 1 {
			t.Errorf("Embed(%q) is not the unit vector of the first dimension: nonzero at %v", text, nonZero(v))
		}
	}
	// Stop words alone are kept rather than giving the empty vector.
	v := embedOne(t, h, "to be or not to be")
	if len(nonZero(v)) < 2 {
		t.Errorf("a text of stop words has %d nonzero components, want its words", len(nonZero(v)))
	}
	if got := embedOne(t, h, "not to be"); dot(v, got) > 0.999 || dot(v, got) < 0.1 {
		t.Errorf("stop-word texts: similarity %v, want related but distinct", dot(v, got))
	}
}

func TestHashingNormalisesCaseAndPunctuation(t *testing.T) {
	h := embed.NewHashing(embed.HashingOptions{CharNGrams: 3})
	groups := [][]string{
		{"hello world", "Hello World", "HELLO, world!", "  hello\n\tworld...  "},
		{"école élève", "ÉCOLE ÉLÈVE", "École, Élève"},
		{"covid-19 vaccine", "COVID 19 Vaccine"},
	}
	for _, g := range groups {
		want := embedOne(t, h, g[0])
		for _, text := range g[1:] {
			if got := embedOne(t, h, text); dot(want, got) < 0.99999 {
				t.Errorf("%q and %q: similarity %v, want 1", g[0], text, dot(want, got))
			}
		}
	}
}

func TestHashingSublinearTermFrequency(t *testing.T) {
	h := embed.NewHashing(embed.HashingOptions{NoBigrams: true, Dimensions: 4096})
	v := embedOne(t, h, "apple apple banana")
	nz := nonZero(v)
	if len(nz) != 2 {
		t.Fatalf("two words gave %d nonzero components, want 2", len(nz))
	}
	apple := embedOne(t, h, "apple")
	a, b := float64(v[nz[0]]), float64(v[nz[1]])
	if apple[nz[0]] == 0 {
		a, b = b, a
	}
	if got, want := math.Abs(a/b), 1+math.Log(2); math.Abs(got-want) > 1e-5 {
		t.Errorf("weight ratio of a word seen twice to a word seen once = %v, want 1+ln 2 = %v", got, want)
	}
	if once := embedOne(t, h, "apple"); dot(once, embedOne(t, h, "apple apple apple")) < 0.99999 {
		t.Error("repeating a single word changed its direction")
	}
}

func TestHashingBigramsAndOrder(t *testing.T) {
	with := embed.NewHashing(embed.HashingOptions{})
	without := embed.NewHashing(embed.HashingOptions{NoBigrams: true})
	a, b := "new york city", "city york new"
	if s := dot(embedOne(t, without, a), embedOne(t, without, b)); s < 0.99999 {
		t.Errorf("without bigrams, word order changed the vector: similarity %v", s)
	}
	s := dot(embedOne(t, with, a), embedOne(t, with, b))
	if s > 0.999 || s < 0.5 {
		t.Errorf("with bigrams, reordered words: similarity %v, want high but below 1", s)
	}
	// Stop words are skipped, so bigrams bridge them.
	if s := dot(embedOne(t, with, "bank of america"), embedOne(t, with, "bank america")); s < 0.99999 {
		t.Errorf("stop words between words changed the vector: similarity %v", s)
	}
	keep := embed.NewHashing(embed.HashingOptions{KeepStopWords: true})
	if s := dot(embedOne(t, keep, "bank of america"), embedOne(t, keep, "bank america")); s > 0.99 {
		t.Errorf("KeepStopWords: similarity %v, want the stop word to count", s)
	}
}

func TestHashingLexicalSimilarity(t *testing.T) {
	h := embed.NewHashing(embed.HashingOptions{})
	query := embedOne(t, h, "which language has goroutines and channels?")
	related := embedOne(t, h, "Go is a language with goroutines and channels for concurrency.")
	unrelated := embedOne(t, h, "Photosynthesis converts light into chemical energy in plants.")
	if r, u := dot(query, related), dot(query, unrelated); r <= u+0.2 {
		t.Errorf("similarity to related text %v, to unrelated %v: want related clearly higher", r, u)
	}
}

func TestHashingIdeographs(t *testing.T) {
	h := embed.NewHashing(embed.HashingOptions{})
	if s := dot(embedOne(t, h, "東京大学"), embedOne(t, h, "東京")); s < 0.3 {
		t.Errorf("東京大学 vs 東京: similarity %v, want the shared characters to count", s)
	}
	if s := dot(embedOne(t, h, "東京"), embedOne(t, h, "大阪")); s > 0.3 {
		t.Errorf("東京 vs 大阪: similarity %v, want unrelated", s)
	}
}

func TestHashingCharNGramsTolerateInflections(t *testing.T) {
	words := embed.NewHashing(embed.HashingOptions{})
	grams := embed.NewHashing(embed.HashingOptions{CharNGrams: 4})
	a, b := "indexing databases", "indexes database"
	sw := dot(embedOne(t, words, a), embedOne(t, words, b))
	sg := dot(embedOne(t, grams, a), embedOne(t, grams, b))
	if sg < sw+0.3 {
		t.Errorf("similarity of inflected forms: %v with 4-grams, %v without: want n-grams much higher", sg, sw)
	}
	// A word shorter than n still counts.
	if s := dot(embedOne(t, grams, "go"), embedOne(t, grams, "Go!")); s < 0.99999 {
		t.Errorf("short word: similarity %v, want 1", s)
	}
}

func TestHashingSeeds(t *testing.T) {
	a := embed.NewHashing(embed.HashingOptions{Seed: 1})
	b := embed.NewHashing(embed.HashingOptions{Seed: 2})
	text := "retrieval augmented generation in go"
	if s := dot(embedOne(t, a, text), embedOne(t, b, text)); s > 0.5 {
		t.Errorf("different seeds: similarity %v, want unrelated vectors", s)
	}
}

// TestHashingGolden pins the vectors of a few texts. Hashing promises the
// same vectors for the same Name in every release, since caches and stores
// keep them: if this test fails, the algorithm changed and Name must change
// with it.
func TestHashingGolden(t *testing.T) {
	golden := []struct {
		opts embed.HashingOptions
		text string
		sum  string
	}{
		{embed.HashingOptions{}, "Retrieval-augmented generation in Go: chunk, embed, store, search.", "0a36a4a91f4a"},
		{embed.HashingOptions{CharNGrams: 3, Dimensions: 64}, "Naïve café, 東京!", "c06ff417bc77"},
		{embed.HashingOptions{}, "", "373421642a44"},
	}
	for _, g := range golden {
		v := embedOne(t, embed.NewHashing(g.opts), g.text)
		buf := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
		}
		sum := sha256.Sum256(buf)
		if got := hex.EncodeToString(sum[:6]); got != g.sum {
			t.Errorf("%s %q: vector digest %s, want %s", embed.NewHashing(g.opts).Name(), g.text, got, g.sum)
		}
	}
}

func TestHashingBatchAndOwnership(t *testing.T) {
	h := embed.NewHashing(embed.HashingOptions{Dimensions: 16})
	texts := []string{"alpha beta", "gamma delta", "alpha beta"}
	vs, err := h.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range texts {
		if s := dot(vs[i], embedOne(t, h, text)); s < 0.99999 {
			t.Errorf("batch vector %d differs from the vector of its text alone (similarity %v)", i, s)
		}
	}
	// Appending to one vector must not write into the next.
	before := append([]float32(nil), vs[1]...)
	_ = append(vs[0], 42, 42, 42)
	for i := range before {
		if vs[1][i] != before[i] {
			t.Fatal("appending to vector 0 modified vector 1")
		}
	}
	// Modifying a result does not change later results.
	vs[0][0] = 1000
	if again := embedOne(t, h, texts[0]); again[0] == 1000 {
		t.Fatal("a modified result leaked into a later call")
	}
	empty, err := h.Embed(context.Background(), nil)
	if err != nil || len(empty) != 0 {
		t.Fatalf("Embed(nil) = %v, %v; want empty, nil", empty, err)
	}
}

// stopAfter is a context whose Err turns to context.Canceled after n calls.
type stopAfter struct {
	context.Context
	mu sync.Mutex
	n  int
}

func (c *stopAfter) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n <= 0 {
		return context.Canceled
	}
	c.n--
	return nil
}

func TestHashingContext(t *testing.T) {
	h := embed.NewHashing(embed.HashingOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if vs, err := h.Embed(ctx, []string{"a"}); !errors.Is(err, context.Canceled) || vs != nil {
		t.Fatalf("cancelled context: %v, %v; want nil, context.Canceled", vs, err)
	}
	// A context cancelled during a long batch stops it.
	texts := make([]string, 10000)
	for i := range texts {
		texts[i] = "text"
	}
	vs, err := h.Embed(&stopAfter{Context: context.Background(), n: 2}, texts)
	if !errors.Is(err, context.Canceled) || vs != nil {
		t.Fatalf("context cancelled mid-batch: %d vectors, %v; want nil, context.Canceled", len(vs), err)
	}
}

func TestHashingConcurrent(t *testing.T) {
	h := embed.NewHashing(embed.HashingOptions{CharNGrams: 3})
	texts := []string{"one fish two fish", "red fish blue fish", "東京 tower", "", "the"}
	want, err := h.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 50 {
				got, err := h.Embed(context.Background(), texts)
				if err != nil {
					errs <- err
					return
				}
				for i := range got {
					for k := range got[i] {
						if got[i][k] != want[i][k] {
							errs <- errors.New("concurrent call returned a different vector")
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// benchTexts returns 1,000 SciFact abstracts (title and text, ~1,500
// bytes on average) when present, otherwise synthetic passages of that
// size.
func benchTexts(b *testing.B) []string {
	if _, ok := sciFactDir(); ok {
		return loadSciFact(b).docs[:1000]
	}
	texts := make([]string, 1000)
	words := strings.Fields("retrieval augmented generation embeds chunks of documents into vectors stores them " +
		"and searches the nearest neighbours of a query vector before asking a language model to answer " +
		"with the passages found cellular protein expression regulates tumour growth in mice")
	for i := range texts {
		var sb strings.Builder
		for j := 0; sb.Len() < 1500; j++ {
			sb.WriteString(words[(i*7+j*13+j*j)%len(words)])
			sb.WriteByte(' ')
		}
		texts[i] = sb.String()
	}
	return texts
}

func benchmarkHashing(b *testing.B, opts embed.HashingOptions) {
	texts := benchTexts(b)
	var bytes int64
	for _, t := range texts {
		bytes += int64(len(t))
	}
	h := embed.NewHashing(opts)
	ctx := context.Background()
	const batch = 100
	b.SetBytes(bytes / int64(len(texts)) * batch) // approximately: batches differ in size
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		start := (i * batch) % len(texts)
		if _, err := h.Embed(ctx, texts[start:start+batch]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "texts/s")
}

// BenchmarkHashing embeds batches of 100 passages of ~1,500 bytes.
func BenchmarkHashing(b *testing.B) {
	b.Run("default", func(b *testing.B) { benchmarkHashing(b, embed.HashingOptions{}) })
	b.Run("char4", func(b *testing.B) { benchmarkHashing(b, embed.HashingOptions{CharNGrams: 4}) })
	b.Run("1536", func(b *testing.B) { benchmarkHashing(b, embed.HashingOptions{Dimensions: 1536}) })
}

// BenchmarkHashingParallel embeds from GOMAXPROCS goroutines at once.
func BenchmarkHashingParallel(b *testing.B) {
	texts := benchTexts(b)
	h := embed.NewHashing(embed.HashingOptions{})
	var bytes int64
	for _, t := range texts {
		bytes += int64(len(t))
	}
	b.SetBytes(bytes / int64(len(texts)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := h.Embed(context.Background(), texts[i%len(texts):i%len(texts)+1]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
