package embed

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// requestFields is the request go-openai would send, for comparison.
type requestFields struct {
	Input          []string `json:"input"`
	Model          string   `json:"model"`
	EncodingFormat string   `json:"encoding_format,omitempty"`
	Dimensions     int      `json:"dimensions,omitempty"`
}

// jsonStringCases are strings whose encoding has a special case: escapes,
// control characters, HTML, U+2028/9, invalid UTF-8, multi-byte runes.
var jsonStringCases = []string{
	"", "plain prose, with punctuation.", `quote " and backslash \`, "tab\tnew\nline\rcr\bbs\fff",
	"\x00\x01\x1f\x7f", "<b>&amp;</b>", "line\u2028para\u2029", "bad \xff byte", "\xe2\x80", "truncated \xe2\x80",
	"héllo wörld ✓ 日本語 🙂", "\xed\xa0\x80 surrogate", "ends in \\",
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonStringCases {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

// TestAppendJSONStringEveryOffset: each byte that needs a second look,
// and its neighbours that do not, at every offset of the eight bytes
// appendJSONString reads at a time.
func TestAppendJSONStringEveryOffset(t *testing.T) {
	specials := []string{"\"", "&", "'", "<", ">", "=", "\\", "]", "\x00", "\x1f", " ", "\x7f", "\x80", "é", "\u2028", "\xff", "$", "%", ";", "?"}
	for _, sp := range specials {
		for at := range 24 {
			s := strings.Repeat("a", at) + sp + strings.Repeat("b", 23-at)
			want, _ := json.Marshal(s)
			if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
				t.Errorf("%q: got %s, want %s", s, got, want)
			}
		}
	}
}

func TestOpenAIRequestBody(t *testing.T) {
	for _, tc := range []struct {
		format string
		dims   int
	}{{"base64", 1536}, {"float", 0}, {"", 256}} {
		texts := append([]string{"first"}, jsonStringCases...)
		got := openAIRequestBody(texts, "text-embedding-3-small", tc.format, tc.dims)
		var sent requestFields
		if err := json.Unmarshal(got, &sent); err != nil {
			t.Fatalf("%s: not JSON: %v", got, err)
		}
		want := requestFields{Input: texts, Model: "text-embedding-3-small", EncodingFormat: tc.format, Dimensions: tc.dims}
		for i, s := range want.Input {
			if !utf8.ValidString(s) {
				want.Input[i] = string([]rune(s)) // how encoding/json sends it
			}
		}
		wantJSON, _ := json.Marshal(want)
		gotJSON, _ := json.Marshal(sent)
		if !bytes.Equal(gotJSON, wantJSON) {
			t.Errorf("body %s\ndecodes to %s\nwant       %s", got, gotJSON, wantJSON)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonStringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}

// BenchmarkOpenAIRequestBody: the body of a request of 256 passages of 60
// words, encoded in one pass and as go-openai encodes it (marshal, decode
// into a map, marshal again).
//
//	go test ./embed -run '^$' -bench BenchmarkOpenAIRequestBody -benchmem
func BenchmarkOpenAIRequestBody(b *testing.B) {
	texts := make([]string, 256)
	for i := range texts {
		texts[i] = strings.Repeat("Passage text of sixty words about proteins, cells and \"quoted\" results. ", 6)[:400]
	}
	b.Run("one-pass", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = openAIRequestBody(texts, "text-embedding-3-small", "base64", 1536)
		}
		b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N*len(texts)), "µs/text")
	})
	b.Run("go-openai", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			j, _ := json.Marshal(requestFields{Input: texts, Model: "text-embedding-3-small", EncodingFormat: "base64", Dimensions: 1536})
			var m map[string]any
			_ = json.Unmarshal(j, &m)
			_, _ = json.Marshal(m)
		}
		b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N*len(texts)), "µs/text")
	})
}
