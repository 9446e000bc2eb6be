package embed_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/provider"
)

// A server that answers floats to a base64 request works without an
// option: the first answer is decoded as floats, and the client asks for
// floats from then on.
func TestOpenAIFloatAnswersToBase64(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{FloatOnly: true, Dimensions: 8})
	t.Cleanup(srv.Close)
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL(), HTTPClient: srv.Client()}, Dimensions: 8})
	in := texts(5)
	want := hashing(t, 8, in)
	for round := range 2 {
		got, err := e.Embed(context.Background(), in)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for i := range want {
			if !slices.Equal(got[i], want[i]) {
				t.Fatalf("round %d: vector %d differs", round, i)
			}
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Encoding != "base64" || reqs[1].Encoding != "float" {
		t.Fatalf("%d requests, encodings %q then %q: want one base64 request, then floats", len(reqs), reqs[0].Encoding, reqs[len(reqs)-1].Encoding)
	}

	// A base64 server keeps getting base64 requests.
	b64 := openaitest.NewServer(openaitest.Options{Dimensions: 8})
	t.Cleanup(b64.Close)
	e = embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: b64.URL(), HTTPClient: b64.Client()}, Dimensions: 8})
	for range 2 {
		if _, err := e.Embed(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range b64.Requests() {
		if r.Encoding != "base64" {
			t.Fatalf("encoding %q", r.Encoding)
		}
	}
}

// An error in a 200 body is a *provider.Error with the status its code
// stands for, in either encoding.
func TestOpenAIInBandError(t *testing.T) {
	for _, floats := range []bool{false, true} {
		srv := openaitest.NewServer(openaitest.Options{Fault: func(openaitest.Request) *openaitest.Fault {
			return &openaitest.Fault{InBand: true, Code: "invalid_api_key", Message: "Incorrect API key provided."}
		}})
		t.Cleanup(srv.Close)
		e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL(), HTTPClient: srv.Client()}, FloatEncoding: floats})
		_, err := e.Embed(context.Background(), []string{"x"})
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.StatusCode != 401 || pe.Code != "invalid_api_key" || provider.Retryable(err) {
			t.Fatalf("floats %v: %v", floats, err)
		}
	}
}
