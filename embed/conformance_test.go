package embed_test

import (
	"testing"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/embed/embedtest"
	"github.com/ragkit-go/rag/openaitest"
)

func TestHashingConformance(t *testing.T) {
	for _, opts := range []embed.HashingOptions{{}, {Dimensions: 16, CharNGrams: 3}, {NoBigrams: true, KeepStopWords: true, Seed: 1}} {
		h := embed.NewHashing(opts)
		t.Run(h.Name(), func(t *testing.T) {
			embedtest.Run(t, h, embedtest.Options{Deterministic: true, LargeBatch: 1000})
		})
	}
	// Without the Dimensioner, through embed.Func.
	t.Run("Func", func(t *testing.T) {
		embedtest.Run(t, embed.Func(embed.NewHashing(embed.HashingOptions{}).Embed), embedtest.Options{Deterministic: true})
	})
}

func TestOpenAIConformance(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts embed.OpenAIOptions
	}{
		{"base64", embed.OpenAIOptions{}},
		{"float", embed.OpenAIOptions{FloatEncoding: true, Dimensions: 256}},
		{"split", embed.OpenAIOptions{MaxInputs: 5}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// The server refuses batches above the client's MaxInputs, so
			// the LargeBatch check proves the client splits them.
			srv := openaitest.NewServer(openaitest.Options{APIKey: "key", MaxInputs: max(tt.opts.MaxInputs, 0)})
			defer srv.Close()
			tt.opts.BaseURL, tt.opts.APIKey = srv.URL(), "key"
			e := embed.NewOpenAI(tt.opts)
			opts := embedtest.Options{
				Deterministic: true, // the server's vectors are Hashing's
				Calls:         func() int { return srv.Stats().Requests },
			}
			if tt.opts.MaxInputs > 0 {
				opts.LargeBatch = 3*tt.opts.MaxInputs + 2
			}
			embedtest.Run(t, e, opts)
			if st := srv.Stats(); st.Status[200] != st.Requests {
				t.Errorf("server answered %v to %d requests", st.Status, st.Requests)
			}
		})
	}
}
