package tokenizer

import (
	"context"
	"strings"
	"unicode/utf8"
)

// Runes returns a Tokenizer whose tokens are Unicode code points: Encode
// returns the runes of the text, Count its number of runes. Use it to size
// chunks in characters instead of model tokens.
//
// Decode(Encode(text)) == text for valid UTF-8 (the only text chunkers
// accept).
func Runes() Tokenizer { return runeTokenizer{} }

type runeTokenizer struct{}

func (runeTokenizer) Encode(text string) []int {
	out := make([]int, 0, len(text))
	for _, r := range text {
		out = append(out, int(r))
	}
	return out
}

func (runeTokenizer) Decode(tokens []int) string {
	var b strings.Builder
	b.Grow(len(tokens))
	for _, t := range tokens {
		b.WriteRune(rune(t))
	}
	return b.String()
}

func (runeTokenizer) Count(text string) int { return utf8.RuneCountInString(text) }

// Index builds the token offsets of text, one entry per rune.
func (r runeTokenizer) Index(text string) (ends []int32, count func(s, e int) int) {
	ends, count, _ = r.IndexContext(context.Background(), text)
	return ends, count
}

// IndexContext is Index, stopping with ctx's error when ctx is done; it
// looks every checkBytes of text.
func (runeTokenizer) IndexContext(ctx context.Context, text string) (ends []int32, count func(s, e int) int, err error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	ends = make([]int32, 0, len(text))
	check := checkBytes
	for i := range text {
		if i >= check {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			check = i + checkBytes
		}
		if i > 0 {
			ends = append(ends, int32(i))
		}
	}
	if len(text) > 0 {
		ends = append(ends, int32(len(text)))
	}
	return ends, func(s, e int) int { return utf8.RuneCountInString(text[s:e]) }, nil
}

var _ ContextIndexer = runeTokenizer{}
