package cite

import (
	"strings"
	"unicode"

	"github.com/ragkit-go/rag/document"
)

// Locator says where in a document a passage lies, the way a reference
// does: "p. 12" for page 12, "slide 4", "sheet Q3", a chapter or
// section by its title ("chapter 3" when the label is only a number), or
// kind and label for a kind it does not know. It is "" when label is.
func Locator(kind, label string) string {
	label = strings.TrimSpace(label)
	if label == "" {
		return ""
	}
	numeric := strings.IndexFunc(label, func(r rune) bool { return !unicode.IsDigit(r) }) < 0
	switch kind {
	case document.SpanPage:
		return "p. " + label
	case document.SpanChapter, document.SpanSection:
		if numeric {
			return kind + " " + label
		}
		return label
	case "":
		return label
	}
	return kind + " " + label
}
