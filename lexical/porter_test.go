package lexical

import "testing"

// The examples of Porter's paper ("An algorithm for suffix stripping",
// 1980), step by step, with the stems the full algorithm gives.
func TestPorterPaperExamples(t *testing.T) {
	cases := map[string]string{
		// Step 1a
		"caresses": "caress", "ponies": "poni", "ties": "ti", "caress": "caress", "cats": "cat",
		// Step 1b
		"feed": "feed", "agreed": "agre", "plastered": "plaster", "bled": "bled",
		"motoring": "motor", "sing": "sing",
		"conflated": "conflat", "troubled": "troubl", "sized": "size", "hopping": "hop",
		"tanned": "tan", "falling": "fall", "hissing": "hiss", "fizzed": "fizz",
		"failing": "fail", "filing": "file",
		// Step 1c
		"happy": "happi", "sky": "sky",
		// Step 2
		"relational": "relat", "conditional": "condit", "rational": "ration",
		"valenci": "valenc", "hesitanci": "hesit", "digitizer": "digit",
		"conformabli": "conform", "radicalli": "radic", "differentli": "differ",
		"vileli": "vile", "analogousli": "analog", "vietnamization": "vietnam",
		"predication": "predic", "operator": "oper", "feudalism": "feudal",
		"decisiveness": "decis", "hopefulness": "hope", "callousness": "callous",
		"formaliti": "formal", "sensitiviti": "sensit", "sensibiliti": "sensibl",
		// Step 3
		"triplicate": "triplic", "formative": "form", "formalize": "formal",
		"electriciti": "electr", "electrical": "electr", "hopeful": "hope", "goodness": "good",
		// Step 4
		"revival": "reviv", "allowance": "allow", "inference": "infer", "airliner": "airlin",
		"gyroscopic": "gyroscop", "adjustable": "adjust", "defensible": "defens",
		"irritant": "irrit", "replacement": "replac", "adjustment": "adjust",
		"dependent": "depend", "adoption": "adopt", "homologou": "homolog",
		"communism": "commun", "activate": "activ", "angulariti": "angular",
		"homologous": "homolog", "effective": "effect", "bowdlerize": "bowdler",
		// Step 5
		"probate": "probat", "rate": "rate", "cease": "ceas", "controll": "control", "roll": "roll",
		// Multi-step examples of the paper's introduction.
		"generalizations": "gener", "oscillators": "oscil",
		"connect": "connect", "connected": "connect", "connecting": "connect",
		"connection": "connect", "connections": "connect",
	}
	for in, want := range cases {
		if got := Porter(in); got != want {
			t.Errorf("Porter(%q) = %q, want %q", in, got, want)
		}
	}
}

// The C reference implementation departs from the paper in step 2; these
// words show the departures, which Lucene's PorterStemmer shares.
func TestPorterReferenceDepartures(t *testing.T) {
	cases := map[string]string{
		"archaeology": "archaeolog", // logi -> log (paper: no rule)
		"possibly":    "possibl",    // bli -> ble, then e removed in step 5
		"biology":     "biologi",    // y -> i, stem too short for step 4
	}
	for in, want := range cases {
		if got := Porter(in); got != want {
			t.Errorf("Porter(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPorterLeavesSomeWordsAlone(t *testing.T) {
	for _, w := range []string{"", "a", "is", "as", "naïve", "h1n1", "1,000", "über"} {
		if got := Porter(w); got != w {
			t.Errorf("Porter(%q) = %q, want unchanged", w, got)
		}
	}
	// Idempotence is not a property of Porter in general, but stems must
	// never be longer than the word (only the step 1b -e can add a letter,
	// after removing at least two).
	for _, w := range []string{"hopping", "sized", "conflated", "filing", "troubled", "agreed"} {
		if len(Porter(w)) > len(w) {
			t.Errorf("Porter(%q) = %q is longer", w, Porter(w))
		}
	}
}
