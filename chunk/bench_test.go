package chunk_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/tokenizer"
)

// scifactDir finds ../shared/data/scifact from the repository root (the
// directory holding go.mod), or returns "".
func scifactDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared", "data", "scifact")
			if _, err := os.Stat(filepath.Join(d, "corpus.jsonl.gz")); err == nil {
				return d
			}
			return ""
		}
		up := filepath.Dir(dir)
		if up == dir {
			return ""
		}
		dir = up
	}
}

// loadProse returns about n bytes of prose: SciFact abstracts joined as
// paragraphs (cycled if the corpus is smaller), and their titles; ok is false
// when the data set is absent.
var proseOnce = sync.OnceValues(func() ([]string, [][2]string) {
	d := scifactDir()
	if d == "" {
		return nil, nil
	}
	f, err := os.Open(filepath.Join(d, "corpus.jsonl.gz"))
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, nil
	}
	var abstracts []string
	var docs [][2]string
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var doc struct{ Title, Text string }
		if json.Unmarshal(sc.Bytes(), &doc) == nil && strings.TrimSpace(doc.Text) != "" {
			abstracts = append(abstracts, strings.TrimSpace(doc.Text))
			docs = append(docs, [2]string{doc.Title, strings.TrimSpace(doc.Text)})
		}
	}
	return abstracts, docs
})

func prose(n int) (string, bool) {
	abstracts, _ := proseOnce()
	if len(abstracts) == 0 {
		return "", false
	}
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString(abstracts[i%len(abstracts)])
		b.WriteString("\n\n")
	}
	return b.String(), true
}

// markdownProse is like prose but each abstract sits under a "## title"
// heading, every tenth under a "# Part" heading.
func markdownProse(n int) (string, bool) {
	_, docs := proseOnce()
	if len(docs) == 0 {
		return "", false
	}
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		if i%10 == 0 {
			b.WriteString("# Part\n\n")
		}
		d := docs[i%len(docs)]
		b.WriteString("## " + strings.ReplaceAll(d[0], "\n", " ") + "\n\n" + d[1] + "\n\n")
	}
	return b.String(), true
}

// BenchmarkChunkers measures each chunker's throughput at 512 tokens on
// about 10 MB of SciFact prose, next to the raw cl100k encode of the same
// text. Compare MB/s: the chunkers tokenize each byte about once.
//
//	go test ./chunk -run '^$' -bench BenchmarkChunkers -benchtime 3x
func BenchmarkChunkers(b *testing.B) {
	text, ok := prose(10 << 20)
	if !ok {
		b.Skip("SciFact corpus not found at ../shared/data/scifact")
	}
	ctx := context.Background()
	tok := tokenizer.CL100K()
	b.Run("encode-cl100k", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			_ = tok.Encode(text)
		}
	})
	for _, c := range benchChunkers() {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			done := perMB(b, len(text))
			for b.Loop() {
				if _, err := c.c.Chunk(ctx, text); err != nil {
					b.Fatal(err)
				}
			}
			done()
		})
	}
	// Markdown on Markdown: the same abstracts under "## title" headings.
	if md, ok := markdownProse(10 << 20); ok {
		c := chunk.NewMarkdown(chunk.MarkdownOptions{Size: 512})
		b.Run("markdown-headings", func(b *testing.B) {
			b.SetBytes(int64(len(md)))
			for b.Loop() {
				if _, err := c.Chunk(ctx, md); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type namedChunker struct {
	name string
	c    chunk.Chunker
}

// benchChunkers returns every chunker at 512 tokens with the default
// tokenizer.
func benchChunkers() []namedChunker { return benchChunkersWith(nil) }

// benchChunkersWith returns every chunker at 512 tokens sized by tok (nil:
// the default).
func benchChunkersWith(tok tokenizer.Tokenizer) []namedChunker {
	return []namedChunker{
		{"recursive", chunk.NewRecursive(chunk.RecursiveOptions{Size: 512, Tokenizer: tok})},
		{"markdown", chunk.NewMarkdown(chunk.MarkdownOptions{Size: 512, Tokenizer: tok})},
		{"tokens", chunk.NewTokens(chunk.TokensOptions{Size: 512, Tokenizer: tok})},
		{"sentence", chunk.NewSentence(chunk.SentenceOptions{Size: 512, Tokenizer: tok})},
		// Semantic with a byte-histogram embedder: a real model's time
		// would dominate; this measures the chunker's own work (the tests'
		// bag-of-words embedder allocates more than the chunker does).
		{"semantic-histogram", chunk.NewSemantic(byteHistogram, chunk.SemanticOptions{Size: 512, Tokenizer: tok})},
	}
}

// byteHistogram is a cheap deterministic embedder for benchmarks: each
// text's vector counts its bytes in 64 buckets (normalized), allocating
// only the vectors.
var byteHistogram = embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, 64)
		for k := 0; k < len(t); k++ {
			v[t[k]%64]++
		}
		var n float32
		for _, x := range v {
			n += x * x
		}
		if n > 0 {
			n = float32(math.Sqrt(float64(n)))
			for k := range v {
				v[k] /= n
			}
		}
		out[i] = v
	}
	return out, ctx.Err()
})
