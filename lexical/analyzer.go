package lexical

import (
	"hash/crc32"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Analyzer turns a text into the terms that are indexed and searched.
// The same analyzer must be used to index and to search.
//
// Concurrency: Analyze may be called concurrently from many goroutines.
// It must be deterministic: the same text always gives the same terms.
type Analyzer interface {
	Analyze(text string) []string
}

// Namer is implemented by analyzers that can name their configuration.
// An index saved with one analyzer refuses to load into an index whose
// analyzer has another name (ErrAnalyzerMismatch); analyzers without a
// name are saved with the empty name, which matches only itself.
type Namer interface {
	Name() string
}

// AnalyzerFunc adapts a function to the Analyzer interface.
type AnalyzerFunc func(text string) []string

// Analyze calls f(text).
func (f AnalyzerFunc) Analyze(text string) []string { return f(text) }

// EnglishStopWords is Lucene's English stop-word list
// (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET), which Anserini's BM25
// baselines use.
var EnglishStopWords = []string{
	"a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in",
	"into", "is", "it", "no", "not", "of", "on", "or", "such", "that", "the",
	"their", "then", "there", "these", "they", "this", "to", "was", "will",
	"with",
}

var englishStopSet = toSet(EnglishStopWords)

func toSet(words []string) map[string]struct{} {
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}

// English is the default analyzer, modelled on Lucene's EnglishAnalyzer as
// Anserini configures it for its BM25 baselines:
//
//  1. split the text into words at Unicode word boundaries (Tokenize);
//  2. drop a trailing possessive "'s";
//  3. lower-case;
//  4. drop stop words;
//  5. stem with the Porter algorithm.
//
// The zero value uses EnglishStopWords and stems. English is safe for
// concurrent use once constructed; do not modify StopWords afterwards.
type English struct {
	// StopWords replaces EnglishStopWords when non-nil; an empty non-nil
	// slice keeps every word. Stop words are matched after lower-casing,
	// before stemming.
	StopWords []string
	// NoStemming turns the Porter stemmer off.
	NoStemming bool

	stop map[string]struct{} // built by NewEnglish
}

// NewEnglish returns e with its stop-word set built once, so that Analyze
// does not rebuild it on every call when StopWords is customised. (With
// the default StopWords there is nothing to build.)
func NewEnglish(e English) English {
	if e.StopWords != nil {
		e.stop = toSet(e.StopWords)
	}
	return e
}

func (e English) stopSet() map[string]struct{} {
	switch {
	case e.StopWords == nil:
		return englishStopSet
	case e.stop != nil:
		return e.stop
	default:
		return toSet(e.StopWords)
	}
}

// Analyze returns the terms of text, in order, repeated as they occur.
func (e English) Analyze(text string) []string {
	stop := e.stopSet()
	words := Tokenize(text)
	out := words[:0]
	for _, w := range words {
		w = strings.ToLower(trimPossessive(w))
		if _, ok := stop[w]; ok || w == "" {
			continue
		}
		if !e.NoStemming {
			w = Porter(w)
		}
		out = append(out, w)
	}
	return out
}

// Name describes the configuration, such as "english:stop=lucene:porter".
func (e English) Name() string {
	s := "english:stop="
	switch {
	case e.StopWords == nil:
		s += "lucene"
	case len(e.StopWords) == 0:
		s += "none"
	default:
		words := append([]string(nil), e.StopWords...)
		sort.Strings(words)
		s += "crc32:" + strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(strings.Join(words, "\x00")))), 16)
	}
	if e.NoStemming {
		return s + ":nostem"
	}
	return s + ":porter"
}

func trimPossessive(w string) string {
	for _, suf := range [...]string{"'s", "'S", "’s", "’S"} {
		if len(w) > len(suf) && strings.HasSuffix(w, suf) {
			return w[:len(w)-len(suf)]
		}
	}
	return w
}

// Tokenize splits text into words, a close approximation of the Unicode
// word boundaries (UAX #29) that Lucene's StandardTokenizer finds:
//
//   - a word is a run of letters, digits, combining marks and connector
//     punctuation such as "_" (so "h1n1" and "snake_case" are one word);
//   - '.', ':' (between letters), '\” and '’' join two letters ("u.s.a",
//     "don't"); '.', ',', ';', '\” and '’' join two digits ("3.14",
//     "1,000");
//   - every other character separates words, including '-' and '/';
//   - each Han ideograph and each Hiragana character is a word of its own.
//
// Case is kept.
func Tokenize(text string) []string {
	var out []string
	start := -1 // byte offset of the current word, or -1
	prev := rune(0)
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case isIdeographic(r):
			if start >= 0 {
				out = append(out, text[start:i])
				start = -1
			}
			out = append(out, text[i:i+size])
		case isWordRune(r):
			if start < 0 {
				start = i
			}
		case start >= 0 && joins(prev, r, text[i+size:]):
			// Stays inside the word; the next rune is a word rune.
		default:
			if start >= 0 {
				out = append(out, text[start:i])
				start = -1
			}
		}
		prev = r
		i += size
	}
	if start >= 0 {
		out = append(out, text[start:])
	}
	return out
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsNumber(r) ||
		unicode.IsMark(r) || unicode.Is(unicode.Pc, r)
}

func isIdeographic(r rune) bool {
	if r < 0x2E80 { // below the CJK blocks
		return false
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r)
}

// joins reports whether the punctuation r, between prev and the text
// after it, stays inside a word.
func joins(prev, r rune, after string) bool {
	next, _ := utf8.DecodeRuneInString(after)
	if isIdeographic(next) || isIdeographic(prev) {
		return false
	}
	letters := unicode.IsLetter(prev) && unicode.IsLetter(next)
	digits := unicode.IsDigit(prev) && unicode.IsDigit(next)
	switch r {
	case '.', '\'', '’':
		return letters || digits
	case ':':
		return letters
	case ',', ';':
		return digits
	}
	return false
}
