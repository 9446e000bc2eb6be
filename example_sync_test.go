package rag_test

import (
	"context"
	"fmt"
	"testing/fstest"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/loader"
)

// Sync a directory twice: the second time nothing is read; then a file
// is removed, and its document with it. Any fs.FS works: os.DirFS(dir),
// an embed.FS, a zip.Reader.
func ExamplePipeline_Sync() {
	ctx := context.Background()
	p, err := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{})})
	if err != nil {
		panic(err)
	}
	// loader.Default knows the module's formats; this registry reads
	// only .txt files, as they are.
	reg := &loader.Registry{}
	reg.Register("text", loader.LoaderFunc(func(_ context.Context, f *loader.File) ([]document.Document, error) {
		return []document.Document{{Content: string(f.Data)}}, nil
	}), []string{".txt"}, nil)

	mod := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tree := fstest.MapFS{
		"tides.txt":       {Data: []byte("The Moon's gravity raises the tides."), ModTime: mod},
		"notes/bread.txt": {Data: []byte("Wild yeast makes sourdough rise."), ModTime: mod},
		"photo.jpg":       {Data: []byte("\xff\xd8\xff\xe0 not text"), ModTime: mod},
	}
	opts := &rag.SyncOptions{Root: "notes", Registry: reg}
	show := func(rep *rag.SyncReport) {
		fmt.Printf("stored %d, unchanged %d, deleted %d, failed %d, parsed %d\n", rep.Stored, rep.Unchanged, rep.Deleted, rep.Failed, rep.Parsed)
	}
	rep, err := p.Sync(ctx, tree, opts)
	if err != nil {
		panic(err)
	}
	show(rep)
	for _, f := range rep.Files {
		if f.Status == rag.FileFailed {
			fmt.Println(f.Err)
		}
	}
	rep, _ = p.Sync(ctx, tree, opts)
	show(rep)
	delete(tree, "tides.txt")
	rep, _ = p.Sync(ctx, tree, opts)
	show(rep)
	// Output:
	// stored 2, unchanged 0, deleted 0, failed 1, parsed 3
	// rag: sync: photo.jpg: loader: "photo.jpg": loader: unsupported file type
	// stored 0, unchanged 2, deleted 0, failed 1, parsed 1
	// stored 0, unchanged 1, deleted 1, failed 1, parsed 1
}
