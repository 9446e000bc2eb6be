package openaitest

import (
	"encoding/json"
	"testing"
)

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	r := embeddingResponse{Object: "list", Model: "m\"odel<>", Usage: usage{PromptTokens: 7, TotalTokens: 7},
		Data: []embeddingItem{{Object: "embedding", Index: 1, Embedding: "AACAPw=="}, {Object: "embedding", Index: 0, Embedding: []float32{0.1, -2.5e-8, 3}}}}
	want, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	got := r.appendJSON(nil)
	if string(got) != string(want)+"\n" {
		t.Fatalf("appendJSON:\n%s\nencoding/json:\n%s", got, want)
	}
}

func TestAppendFloat32MatchesEncodingJSON(t *testing.T) {
	for _, x := range []float32{0, 1, -1, 0.1, 1e-6, 9.99e-7, 1e-7, -2.5e-8, 1e20, 1e21, 3.4e38, 1.4e-45, 123456.79, -0.000123} {
		want, _ := json.Marshal(x)
		if got := appendFloat32(nil, x); string(got) != string(want) {
			t.Errorf("%v: %s, encoding/json %s", x, got, want)
		}
	}
}
