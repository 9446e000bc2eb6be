package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
	"github.com/ragkit-go/rag/store/flat"
)

// runStores runs the same workload as the first row into an in-memory flat
// store and into persistent chromem and flat stores, each in a fresh
// temporary directory (on the file system of os.TempDir, with fsync on),
// and prints each persistent row's throughput as a share of its in-memory
// twin's (the default in-memory chromem row, mem, for chromem) and the
// time its Close took.
func runStores(base string, texts []string, stats func() openaitest.Stats, limit float64, mem result) {
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: base, APIKey: "bench"}, Dimensions: *dims})
	// into measures the ingestion alone, which returns once every document
	// is durable, and times Close apart: the flat store folds its log into
	// its snapshot there, the chromem store leaves its log for New.
	into := func(open func(dir string) (store.Store, func() error)) (result, time.Duration) {
		dir, err := os.MkdirTemp("", "rag-bench-store-*")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		st, closeStore := open(dir)
		r := measure(stats, func() int { return runOursInto(e, st, texts) })
		t0 := time.Now()
		if err := closeStore(); err != nil {
			log.Fatal(err)
		}
		return r, time.Since(t0)
	}
	flatMem, _ := into(func(string) (store.Store, func() error) {
		s, err := flat.New(flat.Options{})
		if err != nil {
			log.Fatal(err)
		}
		return s, s.Close
	})
	flatMem.print("rag into an in-memory flat store", limit)
	chromemDisk, chromemClose := into(func(dir string) (store.Store, func() error) {
		s, err := chromem.New(chromem.Options{Path: dir})
		if err != nil {
			log.Fatal(err)
		}
		return s, s.Close
	})
	chromemDisk.print(fmt.Sprintf("rag into a persistent chromem store (%.0f%% of in-memory; Close %.2f s)", 100*chromemDisk.rate()/mem.rate(), chromemClose.Seconds()), limit)
	flatDisk, flatClose := into(func(dir string) (store.Store, func() error) {
		s, err := flat.New(flat.Options{Path: filepath.Join(dir, "store.flat")})
		if err != nil {
			log.Fatal(err)
		}
		return s, s.Close
	})
	flatDisk.print(fmt.Sprintf("rag into a persistent flat store (%.0f%% of in-memory flat; Close %.2f s)", 100*flatDisk.rate()/flatMem.rate(), flatClose.Seconds()), limit)
}
