package document_test

import (
	"errors"
	"fmt"

	"github.com/ragkit-go/rag/document"
)

// A loader or a queue builds documents and checks them with the same rules
// the pipeline applies.
func ExampleValidate() {
	d := document.Document{Title: "Notes", Content: "Tides follow the moon.", Metadata: map[string]any{"year": 2026}}
	if d.ID == "" {
		d.ID = document.ID(d.Content)
	}
	err := document.Validate(&d)
	fmt.Println(err, d.Metadata["year"], document.RecordID(d.ID, 0)[32:])

	empty := document.Document{Content: "  "}
	fmt.Println(errors.Is(document.Validate(&empty), document.ErrEmptyContent))
	// Output:
	// <nil> 2026 #0
	// true
}
