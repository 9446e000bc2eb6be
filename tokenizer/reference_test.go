package tokenizer

import (
	"sync"

	"github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
)

// tiktokenizer is a Tokenizer on a tiktoken encoding.
type tiktokenizer struct{ enc *tiktoken.Tiktoken }

func (t tiktokenizer) Encode(text string) []int   { return t.enc.EncodeOrdinary(text) }
func (t tiktokenizer) Decode(tokens []int) string { return t.enc.Decode(tokens) }
func (t tiktokenizer) Count(text string) int      { return len(t.enc.EncodeOrdinary(text)) }

var loaderOnce sync.Once

func loadEncoding(name string) (Tokenizer, error) {
	loaderOnce.Do(func() { tiktoken.SetBpeLoader(tiktokenloader.NewOfflineLoader()) })
	enc, err := tiktoken.GetEncoding(name)
	if err != nil {
		return nil, err
	}
	return tiktokenizer{enc}, nil
}
