package lexical

import (
	"reflect"
	"testing"
)

func TestTokenize(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  Hello, world!  ", []string{"Hello", "world"}},
		{"0-dimensional biomaterials", []string{"0", "dimensional", "biomaterials"}},
		{"U.S.A. and don't stop", []string{"U.S.A", "and", "don't", "stop"}},
		{"pi is 3.14, 1,000 people; 2;3", []string{"pi", "is", "3.14", "1,000", "people", "2;3"}},
		{"ends with dot. Next", []string{"ends", "with", "dot", "Next"}},
		{"h1n1 snake_case CD4+ T-cells", []string{"h1n1", "snake_case", "CD4", "T", "cells"}},
		{"naïve café Ünïcödé", []string{"naïve", "café", "Ünïcödé"}},
		{"東京タワー is tall", []string{"東", "京", "タワー", "is", "tall"}},
		{"a,b 1.a 'quoted'", []string{"a", "b", "1", "a", "quoted"}},
		{"mind the gap:now", []string{"mind", "the", "gap:now"}},
	}
	for _, c := range cases {
		if got := Tokenize(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Tokenize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestEnglish(t *testing.T) {
	in := "The cat's hats were running into THE Connections of 1,000 U.S. cities"
	// Tokenize, drop possessive, lower-case, drop stop words (the, into,
	// of), Porter-stem the rest.
	// "U.S." is the token "U.S", which Porter leaves alone (not a-z only).
	want := []string{"cat", "hat", "were", "run", "connect", "1,000", "u.s", "citi"}
	if got := (English{}).Analyze(in); !reflect.DeepEqual(got, want) {
		t.Errorf("English.Analyze = %q, want %q", got, want)
	}
	noStem := English{NoStemming: true}.Analyze(in)
	if want := []string{"cat", "hats", "were", "running", "connections", "1,000", "u.s", "cities"}; !reflect.DeepEqual(noStem, want) {
		t.Errorf("NoStemming: %q, want %q", noStem, want)
	}
	custom := NewEnglish(English{StopWords: []string{"cat", "were"}}).Analyze(in)
	if want := []string{"the", "hat", "run", "into", "the", "connect", "of", "1,000", "u.s", "citi"}; !reflect.DeepEqual(custom, want) {
		t.Errorf("custom stop words: %q, want %q", custom, want)
	}
	// An unprepared English with custom stop words behaves the same.
	if got := (English{StopWords: []string{"cat", "were"}}).Analyze(in); !reflect.DeepEqual(got, custom) {
		t.Errorf("English without NewEnglish: %q, want %q", got, custom)
	}
	if got := (English{StopWords: []string{}}).Analyze("the a"); !reflect.DeepEqual(got, []string{"the", "a"}) {
		t.Errorf("empty stop list: %q", got)
	}
}

func TestEnglishNames(t *testing.T) {
	names := map[string]bool{}
	for _, e := range []English{{}, {NoStemming: true}, {StopWords: []string{}}, {StopWords: []string{"x"}}, {StopWords: []string{"y"}}} {
		n := e.Name()
		if names[n] {
			t.Errorf("two configurations share the name %q", n)
		}
		names[n] = true
	}
	if (English{StopWords: []string{"b", "a"}}).Name() != (English{StopWords: []string{"a", "b"}}).Name() {
		t.Error("stop-word order changes the name")
	}
	if got := (English{}).Name(); got != "english:stop=lucene:porter" {
		t.Errorf("default name %q", got)
	}
}
