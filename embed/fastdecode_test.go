package embed

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func b64(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// answer writes an embeddings answer with the items in the given order,
// keys in an order drawn from rng, and optional extra keys and spaces.
func answer(rng *rand.Rand, vecs [][]float32, order []int, sp string) string {
	var items []string
	for _, i := range order {
		fields := []string{
			fmt.Sprintf(`"object"%s:%s"embedding"`, sp, sp),
			fmt.Sprintf(`"index"%s:%s%d`, sp, sp, i),
			fmt.Sprintf(`"embedding"%s:%s"%s"`, sp, sp, b64(vecs[i])),
		}
		if rng.IntN(2) == 0 {
			fields = append(fields, `"extra":{"a":[1,2,{"b":"c\"}"}],"d":null,"e":-1.5e3,"f":true}`)
		}
		rng.Shuffle(len(fields), func(a, b int) { fields[a], fields[b] = fields[b], fields[a] })
		items = append(items, "{"+sp+strings.Join(fields, ","+sp)+sp+"}")
	}
	top := []string{
		`"object":"list"`,
		`"data":[` + sp + strings.Join(items, ","+sp) + sp + `]`,
		`"model":"text-embedding-3-small"`,
		`"usage":{"prompt_tokens":5,"total_tokens":5}`,
	}
	rng.Shuffle(len(top), func(a, b int) { top[a], top[b] = top[b], top[a] })
	return sp + "{" + sp + strings.Join(top, ","+sp) + sp + "}" + sp
}

func TestDecodeBase64Embeddings(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n, dim := 1+rng.IntN(9), 1+rng.IntN(40)
		vecs := make([][]float32, n)
		for i := range vecs {
			vecs[i] = make([]float32, dim)
			for j := range vecs[i] {
				vecs[i][j] = float32(rng.NormFloat64())
			}
		}
		order := rng.Perm(n)
		sp := []string{"", " ", "\n\t "}[trial%3]
		body := answer(rng, vecs, order, sp)
		got, usage, err := decodeBase64Embeddings([]byte(body))
		if err != nil {
			t.Fatalf("trial %d: %v\n%s", trial, err, body)
		}
		if string(usage) != `{"prompt_tokens":5,"total_tokens":5}` {
			t.Fatalf("usage %q", usage)
		}
		for i := range vecs {
			if !slices.Equal(got[i], vecs[i]) {
				t.Fatalf("trial %d: vector %d = %v, want %v", trial, i, got[i], vecs[i])
			}
			if cap(got[i]) != dim {
				t.Fatalf("vector %d has capacity %d: appending would write into the next", i, cap(got[i]))
			}
		}
		// The stand-in is valid JSON with no items and the usage.
		var s struct {
			Data  []struct{ Index int } `json:"data"`
			Usage json.RawMessage       `json:"usage"`
		}
		if err := json.Unmarshal(standIn(usage), &s); err != nil || len(s.Data) != 0 || !bytes.Equal(s.Usage, usage) {
			t.Fatalf("stand-in: %v %+v", err, s)
		}
	}
}

func TestDecodeBase64EmbeddingsRefuses(t *testing.T) {
	good := answer(rand.New(rand.NewPCG(3, 4)), [][]float32{{1, 2}, {3, 4}}, []int{0, 1}, "")
	if _, _, err := decodeBase64Embeddings([]byte(good)); err != nil {
		t.Fatalf("good answer refused: %v", err)
	}
	for name, body := range map[string]string{
		"empty":            ``,
		"truncated":        good[:len(good)/2],
		"trailing":         good + "x",
		"no data":          `{"object":"list"}`,
		"empty data":       `{"data":[]}`,
		"float encoding":   `{"data":[{"index":0,"embedding":[0.1,0.2]}]}`,
		"index missing":    `{"data":[{"embedding":"AACAPw=="}]}`,
		"index twice":      `{"data":[{"index":0,"embedding":"AACAPw=="},{"index":0,"embedding":"AACAPw=="}]}`,
		"index too big":    `{"data":[{"index":1,"embedding":"AACAPw=="}]}`,
		"ragged":           `{"data":[{"index":0,"embedding":"AACAPw=="},{"index":1,"embedding":"AACAPwAAgD8="}]}`,
		"bad base64":       `{"data":[{"index":0,"embedding":"!!!!"}]}`,
		"partial float":    `{"data":[{"index":0,"embedding":"AACA"}]}`,
		"escaped string":   `{"data":[{"index":0,"embedding":"AAC\/Pw=="}]}`,
		"escaped quote":    `{"data":[{"index":0,"embedding":"AACAPw==\"x"}]}`,
		"raw newline":      "{\"data\":[{\"index\":0,\"embedding\":\"AACA\nPw==\"}]}",
		"raw return":       "{\"data\":[{\"index\":0,\"embedding\":\"AACAPw==\r\"}]}",
		"raw tab":          "{\"data\":[{\"index\":0,\"embedding\":\"AACA\tPw==\"}]}",
		"missing comma":    `{"data":[{"index":0 "embedding":"AACAPw=="}]}`,
		"unclosed extra":   `{"x":{"a":[1,2}, "data":[{"index":0,"embedding":"AACAPw=="}]}`,
		"negative index":   `{"data":[{"index":-1,"embedding":"AACAPw=="}]}`,
		"not an object":    `[1,2,3]`,
		"unterminated key": `{"data`,
	} {
		if _, _, err := decodeBase64Embeddings([]byte(body)); err == nil {
			t.Errorf("%s: accepted %q", name, body)
		}
	}
}

// FuzzDecodeBase64Embeddings: the fast decoder never panics, and whatever
// it accepts, encoding/json reads the same way.
func FuzzDecodeBase64Embeddings(f *testing.F) {
	f.Add(answer(rand.New(rand.NewPCG(5, 6)), [][]float32{{1, 2, 3}, {4, 5, 6}}, []int{1, 0}, " "))
	f.Add(`{"data":[{"index":0,"embedding":"AACAPw=="}],"usage":{"a":1}}`)
	f.Fuzz(func(t *testing.T, body string) {
		vecs, _, err := decodeBase64Embeddings([]byte(body))
		if err != nil {
			return
		}
		var ref struct {
			Data []struct {
				Index     int    `json:"index"`
				Embedding string `json:"embedding"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(body), &ref); err != nil {
			t.Fatalf("accepted what encoding/json refuses (%v): %q", err, body)
		}
		for _, d := range ref.Data {
			raw, err := base64.StdEncoding.DecodeString(d.Embedding)
			if err != nil || len(raw) != 4*len(vecs[d.Index]) {
				t.Fatalf("vector %d disagrees: %v", d.Index, err)
			}
			for j := range vecs[d.Index] {
				if math.Float32bits(vecs[d.Index][j]) != binary.LittleEndian.Uint32(raw[4*j:]) {
					t.Fatalf("vector %d component %d disagrees", d.Index, j)
				}
			}
		}
	})
}

// TestDecodeFloats: every length of vector decodes as base64.Decode and
// a conversion read it, and a bad character anywhere is refused.
func TestDecodeFloats(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for dim := range 40 {
		want := make([]float32, dim)
		raw := make([]byte, 0, 4*dim)
		for i := range want {
			want[i] = float32(rng.NormFloat64())
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(want[i]))
		}
		s := []byte(base64.StdEncoding.EncodeToString(raw))
		got := make([]float32, dim)
		if !decodeFloats(got, s) || !slices.Equal(got, want) {
			t.Fatalf("dim %d: got %v, want %v", dim, got, want)
		}
		if decodeFloats(make([]float32, dim+1), s) {
			t.Fatalf("dim %d: accepted as %d components", dim, dim+1)
		}
		for i := range s {
			for _, bad := range []byte{'!', '\n', '\\', 0, 0xff, '='} {
				if s[i] == bad {
					continue
				}
				c := slices.Clone(s)
				c[i] = bad
				v := make([]float32, dim)
				if !decodeFloats(v, c) {
					continue
				}
				// Accepted: only as what it is, a base64 of dim floats.
				ref := make([]byte, len(c))
				n, err := base64.StdEncoding.Decode(ref, c)
				if err != nil || n != 4*dim {
					t.Fatalf("dim %d: accepted %q (%q at %d), which base64 reads as %d bytes, %v", dim, c, bad, i, n, err)
				}
				for k := range v {
					if math.Float32bits(v[k]) != binary.LittleEndian.Uint32(ref[4*k:]) {
						t.Fatalf("dim %d: %q decoded to %v", dim, c, v)
					}
				}
			}
		}
	}
}

// BenchmarkDecodeFloats: one 1,536-dimension vector, by decodeFloats and
// by base64.Decode followed by a conversion (the way before it).
//
//	go test ./embed -run '^$' -bench BenchmarkDecodeFloats -count 8
func BenchmarkDecodeFloats(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	raw := make([]byte, 4*1536)
	for i := range 1536 {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(rng.NormFloat64())))
	}
	s := []byte(base64.StdEncoding.EncodeToString(raw))
	v := make([]float32, 1536)
	b.Run("decodeFloats", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			if !decodeFloats(v, s) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("base64+convert", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		buf := make([]byte, len(raw)+4)
		for b.Loop() {
			n, err := base64.StdEncoding.Decode(buf, s)
			if err != nil || n != len(raw) {
				b.Fatal(err)
			}
			for j := range v {
				v[j] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:]))
			}
		}
	})
}
