package chunk

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ragkit-go/rag/tokenizer"
)

// SentenceOptions configures a Sentence chunker. The zero value is ready
// to use.
type SentenceOptions struct {
	// Size is the most tokens a chunk may hold. Zero means DefaultSize.
	Size int
	// Overlap is the most tokens a chunk may repeat from the end of the one
	// before, in whole sentences. Zero means DefaultOverlap (usually one or
	// two sentences); negative means none. It is capped at Size/2.
	Overlap int
	// Tokenizer measures sizes. Nil means tokenizer.CL100K().
	Tokenizer tokenizer.Tokenizer
	// Abbreviations are words, without their final period and in lower
	// case, after which a period does not end a sentence ("dr", "e.g"),
	// in addition to DefaultAbbreviations.
	Abbreviations []string
}

// DefaultAbbreviations are the abbreviations after which Sentence never
// ends a sentence at a period: titles, and short forms usually followed by
// a name or a number.
var DefaultAbbreviations = []string{
	"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "rev", "gen", "col", "capt", "lt", "sgt", "hon", "gov", "sen", "rep", "pres",
	"e.g", "i.e", "eg", "ie", "cf", "vs", "viz", "approx", "ca", "fig", "figs", "eq", "eqs", "no", "nos", "vol", "vols", "p", "pp", "ch", "sec", "ref", "refs",
	"al", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
}

// Sentence packs whole sentences into chunks of up to Size tokens. A
// sentence ends at '.', '!', '?' or '…' followed by white space (after any
// closing quotes or brackets, which stay with it), at a CJK 。！？, or at a
// blank line. A period does not end a sentence after an abbreviation or an
// initial ("Dr. Smith", "J. R. R. Tolkien", "e.g. this"), before a lower-case
// word ("approx. five"), inside a number ("3.14") or after a list number at
// the start of a line ("1. First"). A sentence longer than Size is split at
// white space, then between tokens.
//
// Chunks are trimmed of surrounding white space: Text == content[Start:End]
// and Tokens == Tokenizer.Count(Text).
//
// A Sentence is safe for concurrent use.
type Sentence struct {
	size, overlap int
	tok           tokenizer.Tokenizer
	sentences     level
}

var _ Chunker = (*Sentence)(nil)

// NewSentence returns a Sentence chunker with the given options.
func NewSentence(opts SentenceOptions) *Sentence {
	size, overlap := sizes(opts.Size, opts.Overlap, DefaultOverlap)
	c := &Sentence{size: size, overlap: overlap, tok: opts.Tokenizer}
	if c.tok == nil {
		c.tok = tokenizer.CL100K()
	}
	c.sentences = sentenceLevel(abbreviations(opts.Abbreviations))
	return c
}

// Chunk splits text. See Chunker for the contract.
func (c *Sentence) Chunk(ctx context.Context, text string) ([]Chunk, error) {
	s, e, err := start(ctx, text)
	if err != nil || s == e {
		return nil, err
	}
	m, err := newMeasure(ctx, c.tok, text)
	if err != nil {
		return nil, err
	}
	p := &packer{
		ctx: ctx, m: m, size: c.size, overlap: c.overlap,
		levels:        []level{c.sentences, words},
		cutLevels:     []level{c.sentences, words},
		overlapLevels: []level{c.sentences},
	}
	spans, err := p.packStream(s, e)
	if err != nil {
		return nil, err
	}
	return p.chunks(spans, nil), nil
}

// sentenceLevel returns a level that cuts after sentences, as documented
// on Sentence, with the given abbreviations.
func sentenceLevel(abbr map[string]bool) level {
	return func(text string, s, from, e int, cuts []int, limit int) []int {
		add := func(k int) {
			if k > s && k < e && (len(cuts) == 0 || cuts[len(cuts)-1] < k) {
				cuts = append(cuts, k)
			}
		}
		i := from
		for i < e && (limit <= 0 || len(cuts) < limit) {
			c := text[i]
			if !sentenceLead[c] {
				i++
				continue
			}
			if c == '\n' {
				// A blank line ends a sentence.
				k, nl := i, 0
				for k < e {
					sp, n := isSpaceAt(text, k)
					if !sp {
						break
					}
					if text[k] == '\n' {
						nl++
					}
					k += n
				}
				if nl >= 2 {
					add(k)
				}
				i = max(k, i+1)
				continue
			}
			r, n, ok := markAt(text, i)
			if !ok {
				i += n
				continue
			}
			// The run of marks ("?!", "...") and closers after it.
			j := i + n
			single := r == '.'
			for j < e {
				r2, n2, ok := markAt(text, j)
				if !ok {
					break
				}
				single = false
				if isFullStop(r2) {
					r = r2
				}
				j += n2
			}
			j = skipClosers(text, j, e)
			k := skipSpace(text, j, e)
			switch {
			case isFullStop(r):
				add(k)
			case k == j || k >= e:
				// No space after: "3.14", "e.g.x", or the end.
			case startsLower(text[k:e]):
				// "approx. five", `"Stop!" he said`.
			case single && !sentenceEndAfter(text, s, i, abbr):
			default:
				add(k)
			}
			i = max(k, i+n)
		}
		return cuts
	}
}

// sentenceLead marks the bytes at which a sentence level looks: a line
// feed or the start of a sentence mark.
var sentenceLead = leadBytes([]rune(sentenceMarks + "\n"))

// startsLower reports whether s starts with a lower-case letter.
func startsLower(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLower(r)
}

// sentenceEndAfter reports whether the period at text[dot] ends a
// sentence, judging by the word before it (which starts at or after s).
func sentenceEndAfter(text string, s, dot int, abbr map[string]bool) bool {
	w := dot
	for w > s {
		r, n := utf8.DecodeLastRuneInString(text[s:w])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '.' {
			break
		}
		w -= n
	}
	word := text[w:dot]
	if word == "" {
		return true
	}
	if n := utf8.RuneCountInString(word); n == 1 {
		r, _ := utf8.DecodeRuneInString(word)
		if unicode.IsLetter(r) {
			return false // an initial: "J. Smith"
		}
	}
	if abbr[strings.ToLower(word)] {
		return false
	}
	if isDigits(word) {
		// "1. First" at the start of a line is a list number.
		k := w
		for k > 0 {
			r, n := utf8.DecodeLastRuneInString(text[:k])
			if r == '\n' {
				return false
			}
			if !unicode.IsSpace(r) {
				return true
			}
			k -= n
		}
		return false
	}
	return true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// abbreviations returns the set of DefaultAbbreviations and extra, lower
// case and without their final period.
func abbreviations(extra []string) map[string]bool {
	abbr := make(map[string]bool, len(DefaultAbbreviations)+len(extra))
	for _, a := range DefaultAbbreviations {
		abbr[a] = true
	}
	for _, a := range extra {
		abbr[strings.ToLower(strings.TrimSuffix(a, "."))] = true
	}
	return abbr
}
