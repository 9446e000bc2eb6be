package rag

import (
	"testing"
)

func TestCleanRewrite(t *testing.T) {
	for in, want := range map[string]string{
		"What causes tides?":                            "What causes tides?",
		"\n  Standalone question: \"Why?\"\nExtra line": "Why?",
		"question: what is Go?":                         "what is Go?",
		"   \n":                                         "",
	} {
		if got := cleanRewrite(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
