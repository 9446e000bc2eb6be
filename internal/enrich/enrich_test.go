package enrich

import (
	"slices"
	"strings"
	"testing"
)

func TestParseEnrichment(t *testing.T) {
	for _, c := range []struct {
		reply   string
		max     int
		summary string
		tags    []string
	}{
		{"SUMMARY: Zebras have stripes.\nTAGS: Animals, #Stripes, animals, africa", 5, "Zebras have stripes.", []string{"animals", "stripes", "africa"}},
		{"**Summary:** A long\nsummary on two lines.\n**Tags:** a; b", 5, "A long summary on two lines.", []string{"a", "b"}},
		{"Just a summary without labels.", 5, "Just a summary without labels.", nil},
		{"SUMMARY: s\nTAGS: a, b, c, d", 2, "s", []string{"a", "b"}},
		{"SUMMARY: s\nTAGS: a, b", -1, "s", nil},
		{"TAGS: " + strings.Repeat("x", 41) + ", ok", 5, "", []string{"ok"}},
	} {
		s, tags := parseEnrichment(c.reply, c.max)
		if s != c.summary || !slices.Equal(tags, c.tags) {
			t.Errorf("%q: %q %q, want %q %q", c.reply, s, tags, c.summary, c.tags)
		}
	}
}
