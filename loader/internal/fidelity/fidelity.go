// Package fidelity measures how closely a loader's extraction matches an
// independent extractor's (poppler's pdftotext, pandoc): word-level F1,
// and the test plumbing that finds those tools.
package fidelity

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"unicode"
)

// Words splits s into lower-cased words: maximal runs of letters and
// digits. Punctuation, white space and layout do not count, so two
// extractions that differ only in line breaks or bullets score 1.
func Words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// F1 is the word-level F1 score of got against want, as bags of words
// (order ignored, repeats counted): 2PR/(P+R). Two empty texts score 1.
func F1(got, want string) float64 {
	g, w := Words(got), Words(want)
	if len(g) == 0 && len(w) == 0 {
		return 1
	}
	if len(g) == 0 || len(w) == 0 {
		return 0
	}
	bag := make(map[string]int, len(w))
	for _, x := range w {
		bag[x]++
	}
	common := 0
	for _, x := range g {
		if bag[x] > 0 {
			bag[x]--
			common++
		}
	}
	if common == 0 {
		return 0
	}
	p, r := float64(common)/float64(len(g)), float64(common)/float64(len(w))
	return 2 * p * r / (p + r)
}

// Tool returns the path of an external program a fidelity test needs.
// Outside CI a missing tool skips the test with a reason; in CI (CI=true),
// where .ci/run installs the tools, it fails it.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found on PATH, and CI=true: .ci/run should have installed it", name)
	}
	t.Skipf("%s not found on PATH (install it to run this test; .ci/run does)", name)
	return ""
}
