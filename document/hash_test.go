package document_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ragkit-go/rag/document"
)

// streamedHash is Hash as it was first written, field by field into a
// hash.Hash: stores hold hashes made by it, so Hash must give the same.
func streamedHash(d *document.Document, salts ...string) string {
	h := sha256.New()
	str := func(s string) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	for _, s := range salts {
		str(s)
	}
	str(d.Content)
	str(d.Title)
	str(d.Source)
	str(fmt.Sprint(len(d.Tags)))
	for _, t := range d.Tags {
		str(t)
	}
	for _, k := range slices.Sorted(maps.Keys(d.Metadata)) {
		str(k)
		switch x := d.Metadata[k].(type) {
		case string:
			str("s" + x)
		case bool:
			str(fmt.Sprint("b", x))
		case float64:
			str(fmt.Sprint("f", math.Float64bits(x)))
		case time.Time:
			str("t" + x.UTC().Format(time.RFC3339Nano))
		case []string:
			str(fmt.Sprint("l", len(x)))
			for _, s := range x {
				str(s)
			}
		default:
			str(fmt.Sprintf("?%T%v", x, x))
		}
	}
	if len(d.Spans) > 0 {
		str(fmt.Sprint("spans", len(d.Spans)))
		for _, sp := range d.Spans {
			str(sp.Kind)
			str(sp.Label)
			str(fmt.Sprint(sp.Start, ",", sp.End))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestIDUnchanged: IDs derived from content are still the first 32 hex
// digits of its SHA-256, as stores hold them.
func TestIDUnchanged(t *testing.T) {
	for _, content := range []string{"", "some text", strings.Repeat("é long text ", 500)} {
		sum := sha256.Sum256([]byte(content))
		if got, want := document.ID(content), hex.EncodeToString(sum[:])[:32]; got != want {
			t.Fatalf("ID of %d bytes = %s, want %s", len(content), got, want)
		}
	}
}

// TestHashUnchanged: Hash gives the hashes stores already hold, for
// documents with every kind of field, metadata value and span.
func TestHashUnchanged(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		const letters = "abcé \n\"日"
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(string([]rune(letters)[rng.IntN(8)]))
		}
		return b.String()
	}
	for i := range 500 {
		d := document.Document{Content: strings.Repeat(word()+"x", 1+rng.IntN(200)), Title: word(), Source: word()}
		for range rng.IntN(3) {
			d.Tags = append(d.Tags, word())
		}
		if n := rng.IntN(12); n > 0 { // past the 8 keys Hash sorts without allocating
			d.Metadata = map[string]any{}
			for k := range n {
				key := fmt.Sprint(word(), k)
				switch rng.IntN(6) {
				case 0:
					d.Metadata[key] = word()
				case 1:
					d.Metadata[key] = rng.IntN(2) == 0
				case 2:
					d.Metadata[key] = rng.NormFloat64() * 1e6
				case 3:
					d.Metadata[key] = time.Unix(rng.Int64N(1e10), rng.Int64N(1e9)).In(time.FixedZone("z", 3600))
				case 4:
					d.Metadata[key] = []string{word(), word()}
				case 5:
					d.Metadata[key] = int32(rng.IntN(100)) // not normalised: the fallback
				}
			}
		}
		for s := range rng.IntN(3) {
			d.Spans = append(d.Spans, document.Span{Kind: document.SpanPage, Label: fmt.Sprint(s + 1), Start: s * 10, End: s*10 + 5 + rng.IntN(5)})
		}
		salts := []string{"openai:m:1536", word()}[:rng.IntN(3)]
		if got, want := document.Hash(&d, salts...), streamedHash(&d, salts...); got != want {
			t.Fatalf("document %d: Hash = %s, the stored hashes are %s (%+v)", i, got, want, d)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	d := document.Document{Content: strings.Repeat("a passage of prose, ", 25), Title: "Title"}
	b.ReportAllocs()
	for b.Loop() {
		document.Hash(&d, "openai:text-embedding-3-small:1536")
	}
}
