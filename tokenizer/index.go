package tokenizer

import "context"

// Index tokenizes text once and returns the end offset of each token and
// an exact counter of the tokens of any range of text: tok's own Index if
// it is an Indexer, else a fallback on Encode. For a tokenizer whose tokens
// decode one by one into the bytes they came from (byte-level BPE) the
// fallback's offsets are exact; for any other they are spread evenly over
// the text, good enough to choose where to cut when every piece is then
// checked with Count.
func Index(tok Tokenizer, text string) (ends []int32, count func(s, e int) int) {
	if ix, ok := tok.(Indexer); ok {
		return ix.Index(text)
	}
	return genericIndex(tok, text)
}

// IndexContext is Index that gives up with ctx's error when ctx is done:
// promptly for a ContextIndexer (CL100K and Runes look at ctx every few
// tens of kilobytes), else before and after tokenizing, which then runs to
// its end.
func IndexContext(ctx context.Context, tok Tokenizer, text string) (ends []int32, count func(s, e int) int, err error) {
	if ix, ok := tok.(ContextIndexer); ok {
		return ix.IndexContext(ctx, text)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	ends, count = Index(tok, text)
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return ends, count, nil
}

// genericIndex is Index for a tokenizer that is not an Indexer.
func genericIndex(tok Tokenizer, text string) ([]int32, func(s, e int) int) {
	count := func(s, e int) int { return tok.Count(text[s:e]) }
	if len(text) == 0 {
		return nil, count
	}
	ids := tok.Encode(text)
	if len(ids) == 0 {
		return []int32{int32(len(text))}, count
	}
	lens := make(map[int]int)
	ends := make([]int32, len(ids))
	off := 0
	for i, id := range ids {
		n, ok := lens[id]
		if !ok {
			n = len(tok.Decode([]int{id}))
			lens[id] = n
		}
		off += n
		ends[i] = int32(min(off, len(text)))
	}
	if off != len(text) {
		for i := range ends {
			ends[i] = int32(int64(len(text)) * int64(i+1) / int64(len(ids)))
		}
	}
	ends[len(ends)-1] = int32(len(text))
	return ends, count
}
