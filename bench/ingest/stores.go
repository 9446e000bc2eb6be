package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
	"github.com/ragkit-go/rag/store/flat"
)

// storeRows are one round's store rows: the in-memory flat store, and the
// persistent chromem and flat stores with the time their Close took.
type storeRows struct {
	flatMem, chromemDisk, flatDisk result
	chromemClose, flatClose        time.Duration
}

// runStores runs the same workload as the first row into an in-memory flat
// store and into persistent chromem and flat stores, each in a fresh
// temporary directory (on the file system of os.TempDir, with fsync on).
func runStores(base string, texts []string, stats func() openaitest.Stats, round int) storeRows {
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: base, APIKey: "bench"}, Dimensions: *dims})
	// into measures the ingestion alone, which returns once every document
	// is durable, and times Close apart: the flat store folds its log into
	// its snapshot there, the chromem store leaves its log for New.
	into := func(name string, open func(dir string) (store.Store, func() error)) (result, time.Duration) {
		dir, err := os.MkdirTemp("", "rag-bench-store-*")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		st, closeStore := open(dir)
		r := measure(stats, func() int { return profiled(name, round, func() int { return runOursInto(e, st, texts) }) })
		t0 := time.Now()
		if err := closeStore(); err != nil {
			log.Fatal(err)
		}
		return r, time.Since(t0)
	}
	var rows storeRows
	rows.flatMem, _ = into("flat-memory", func(string) (store.Store, func() error) {
		s, err := flat.New(flat.Options{})
		if err != nil {
			log.Fatal(err)
		}
		return s, s.Close
	})
	rows.chromemDisk, rows.chromemClose = into("chromem-disk", func(dir string) (store.Store, func() error) {
		s, err := chromem.New(chromem.Options{Path: dir})
		if err != nil {
			log.Fatal(err)
		}
		return s, s.Close
	})
	rows.flatDisk, rows.flatClose = into("flat-disk", func(dir string) (store.Store, func() error) {
		s, err := flat.New(flat.Options{Path: filepath.Join(dir, "store.flat")})
		if err != nil {
			log.Fatal(err)
		}
		return s, s.Close
	})
	return rows
}

// printStores prints the store rows, each persistent row with its
// throughput as a share of its in-memory twin's (the default in-memory
// chromem row, mem, for chromem) in the same round: the median share
// over the rounds and its range.
func printStores(rounds []storeRows, mem []result, limit float64) {
	pick := func(f func(storeRows) result) []result {
		out := make([]result, len(rounds))
		for i, r := range rounds {
			out[i] = f(r)
		}
		return out
	}
	share := func(disk func(storeRows) result, twin func(i int) result) string {
		ss := make([]float64, len(rounds))
		for i, r := range rounds {
			ss[i] = 100 * disk(r).rate() / twin(i).rate()
		}
		slices.Sort(ss)
		if len(ss) == 1 {
			return fmt.Sprintf("%.0f%%", ss[0])
		}
		return fmt.Sprintf("%.0f%% (%.0f–%.0f%%)", ss[len(ss)/2], ss[0], ss[len(ss)-1])
	}
	closing := func(f func(storeRows) time.Duration) float64 {
		ds := make([]time.Duration, len(rounds))
		for i, r := range rounds {
			ds[i] = f(r)
		}
		slices.Sort(ds)
		return ds[len(ds)/2].Seconds()
	}
	flatMem := func(r storeRows) result { return r.flatMem }
	chromemDisk := func(r storeRows) result { return r.chromemDisk }
	flatDisk := func(r storeRows) result { return r.flatDisk }
	median(pick(flatMem)).print("rag into an in-memory flat store", limit)
	median(pick(chromemDisk)).print(fmt.Sprintf("rag into a persistent chromem store (%s of in-memory; Close %.2f s)",
		share(chromemDisk, func(i int) result { return mem[i] }), closing(func(r storeRows) time.Duration { return r.chromemClose })), limit)
	median(pick(flatDisk)).print(fmt.Sprintf("rag into a persistent flat store (%s of in-memory flat; Close %.2f s)",
		share(flatDisk, func(i int) result { return rounds[i].flatMem }), closing(func(r storeRows) time.Duration { return r.flatClose })), limit)
}

// profiled runs run, in the first round, under a CPU profile written to
// -cpuprofile with "."+name appended, when that flag is set.
func profiled(name string, round int, run func() int) int {
	if *cpuprofile == "" || round > 0 {
		return run()
	}
	f, err := os.Create(*cpuprofile + "." + name)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	pprof.StartCPUProfile(f)
	defer pprof.StopCPUProfile()
	return run()
}
