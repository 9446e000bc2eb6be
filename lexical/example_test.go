package lexical_test

import (
	"bytes"
	"fmt"

	"github.com/ragkit-go/rag/lexical"
)

func Example() {
	ix := lexical.New(lexical.Options{}) // BM25 k1=0.9 b=0.4, English analyzer
	ix.Upsert("guide", []lexical.Entry{
		{ID: "guide#0", Text: "Installing the Go toolchain on Linux."},
		{ID: "guide#1", Text: "Error E1234 means the cache directory is not writable."},
	})
	ix.Upsert("faq", []lexical.Entry{
		{ID: "faq#0", Text: "Why is the cache slow? Check the cache size."},
	})
	for _, h := range ix.Search("what does error E1234 mean", 2, nil) {
		fmt.Println(h.ID, h.DocID)
	}
	// Output:
	// guide#1 guide
}

func ExampleIndex_Search_filter() {
	ix := lexical.New(lexical.Options{})
	ix.Upsert("a", []lexical.Entry{{ID: "a#0", Text: "cache invalidation"}})
	ix.Upsert("b", []lexical.Entry{{ID: "b#0", Text: "cache cache warming"}})
	onlyA := func(id, docID string) bool { return docID == "a" }
	for _, h := range ix.Search("cache", 10, onlyA) {
		fmt.Println(h.ID)
	}
	// Output:
	// a#0
}

func ExampleEnglish() {
	fmt.Println(lexical.English{}.Analyze("The runners' shoes were running into connections"))
	fmt.Println(lexical.English{NoStemming: true}.Analyze("The runners' shoes"))
	// Output:
	// [runner shoe were run connect]
	// [runners shoes]
}

func ExampleIndex_WriteTo() {
	ix := lexical.New(lexical.Options{})
	ix.Upsert("a", []lexical.Entry{{ID: "a#0", Text: "persisted words"}})
	var buf bytes.Buffer
	ix.WriteTo(&buf) // or ix.Save(path) for an atomic file write

	back := lexical.New(lexical.Options{})
	if _, err := back.ReadFrom(&buf); err != nil {
		fmt.Println(err)
	}
	fmt.Println(back.Len(), back.Search("word", 1, nil)[0].ID)
	// Output:
	// 1 a#0
}
