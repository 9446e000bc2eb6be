// Command stores benchmarks top-k vector search: store/flat (float32 and
// int8-quantized), chromem-go used directly, and our store/chromem wrapper
// (unless -wrapper=false), against the lower bound that this machine's
// memory bandwidth sets.
//
//	go run ./bench/stores                       # 100,000 × 1,536 and × 384
//	go run ./bench/stores -n 20000 -dims 384    # a quick run
//	go run ./bench/stores -only store/flat      # one store
//
// For each dimension it writes n random unit vectors (fixed seed) into each
// store, measures the heap the store added (runtime.MemStats.HeapAlloc after
// a GC, divided by n), then times -queries top-k searches one after another
// and reports the median and the fastest. The bound is the bytes a search
// must read (4·n·d for float32, n·d for int8 codes) divided by the memory
// bandwidth: the better of a multi-threaded sequential read-sum over a
// 1 GiB buffer and the same pass reading one word a cache line. Results go
// to stdout as a Markdown table; progress to stderr. Peak memory is about
// three times the float32 vectors (2 GB at the default sizes).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/philippgille/chromem-go"

	"github.com/ragkit-go/rag/store"
	ourchromem "github.com/ragkit-go/rag/store/chromem"
	"github.com/ragkit-go/rag/store/flat"
)

// A candidate is one store under test. build loads vecs into a new store
// and returns its search function.
type candidate struct {
	name  string
	bytes func(n, dim int) int64 // bytes one search must read at least
	build func(ctx context.Context, vecs [][]float32) (search func(q []float32, k int) ([]string, error), err error)
}

func main() {
	var (
		n       = flag.Int("n", 100_000, "vectors per collection")
		dimsArg = flag.String("dims", "1536,384", "comma-separated vector dimensions")
		queries = flag.Int("queries", 50, "timed queries per store and dimension")
		k       = flag.Int("k", 10, "results per query")
		seed    = flag.Uint64("seed", 1, "random seed")
		bwMiB   = flag.Int("bw-mib", 1024, "size of the bandwidth test buffer in MiB")
		only    = flag.String("only", "", "comma-separated store names to run (default all)")
		wrapper = flag.Bool("wrapper", true, "also run store/chromem, our store.Store over chromem-go")
	)
	flag.Parse()
	log.SetFlags(0)
	var dims []int
	for _, f := range strings.Split(*dimsArg, ",") {
		d, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || d <= 0 {
			log.Fatalf("bad -dims %q", *dimsArg)
		}
		dims = append(dims, d)
	}

	bw, readSum, perLine := bandwidth(*bwMiB << 20)
	log.Printf("memory bandwidth, %d goroutines over %d MiB: read-sum %.1f GB/s, one word a cache line %.1f GB/s",
		runtime.GOMAXPROCS(0), *bwMiB, readSum/1e9, perLine/1e9)

	cands := []candidate{
		{name: "store/flat", bytes: f32Bytes, build: buildFlat(flat.Options{})},
		{name: "store/flat quantized", bytes: int8Bytes, build: buildFlat(flat.Options{Quantize: true})},
		{name: "chromem-go", bytes: f32Bytes, build: buildChromem},
	}
	if *wrapper {
		cands = append(cands, candidate{name: "store/chromem", bytes: f32Bytes, build: buildWrapper})
	}
	if *only != "" {
		keep := strings.Split(*only, ",")
		cands = slices.DeleteFunc(cands, func(c candidate) bool { return !slices.Contains(keep, c.name) })
	}

	ctx := context.Background()
	var rows []row
	for _, dim := range dims {
		log.Printf("generating %d × %d unit vectors (seed %d)", *n, dim, *seed)
		vecs := unitVectors(*n, dim, rand.New(rand.NewPCG(*seed, uint64(dim))))
		qs := unitVectors(*queries+3, dim, rand.New(rand.NewPCG(*seed+1, uint64(dim))))
		var exact [][]string // the float32 flat answers, to measure recall
		for _, c := range cands {
			r, answers, err := measure(ctx, c, vecs, qs, *k)
			if err != nil {
				log.Fatalf("%s, dim %d: %v", c.name, dim, err)
			}
			r.dim, r.n, r.k = dim, *n, *k
			r.bound = time.Duration(float64(c.bytes(*n, dim)) / bw * 1e9)
			if c.name == "store/flat" {
				exact = answers
			} else if exact != nil {
				r.recall = recall(answers, exact)
			}
			log.Printf("%-22s dim %5d: p50 %v, %.0f B/vector, recall %.3f", c.name, dim, r.p50, r.bytesPerVec, r.recall)
			rows = append(rows, r)
		}
		vecs = nil
		runtime.GC()
		debug.FreeOSMemory()
	}
	printTable(rows, readSum, perLine)
}

func f32Bytes(n, dim int) int64  { return int64(n) * int64(dim) * 4 }
func int8Bytes(n, dim int) int64 { return int64(n) * int64(dim) }

// bandwidth returns the memory bandwidth in bytes per second: the better
// of two passes over a buffer of size bytes by GOMAXPROCS goroutines, each
// reading a disjoint part sequentially, best of five runs each. The first
// pass sums every word; the second reads one word a cache line (the memory
// system still moves whole lines), which on some machines is needed to
// saturate memory without SIMD. The better figure gives the tighter bound.
func bandwidth(size int) (best, readSum, perLine float64) {
	buf := make([]uint64, size/8)
	for i := range buf {
		buf[i] = uint64(i)
	}
	readSum = passes(buf, sum)
	perLine = passes(buf, sumLines)
	buf = nil
	runtime.GC()
	debug.FreeOSMemory()
	return max(readSum, perLine), readSum, perLine
}

var sink []uint64

func passes(buf []uint64, f func([]uint64) uint64) float64 {
	g := runtime.GOMAXPROCS(0)
	sink = make([]uint64, g)
	best := time.Duration(math.MaxInt64)
	for range 5 {
		start := time.Now()
		var wg sync.WaitGroup
		for i := range g {
			part := buf[i*len(buf)/g : (i+1)*len(buf)/g]
			wg.Go(func() { sink[i] = f(part) })
		}
		wg.Wait()
		best = min(best, time.Since(start))
	}
	return float64(len(buf)*8) / best.Seconds()
}

// sum adds up every word of b, with eight independent accumulators.
func sum(b []uint64) uint64 {
	var s0, s1, s2, s3, s4, s5, s6, s7 uint64
	for i := 0; i+8 <= len(b); i += 8 {
		c := b[i : i+8 : i+8]
		s0 += c[0]
		s1 += c[1]
		s2 += c[2]
		s3 += c[3]
		s4 += c[4]
		s5 += c[5]
		s6 += c[6]
		s7 += c[7]
	}
	return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7
}

// sumLines adds up the first word of every 64-byte cache line of b.
func sumLines(b []uint64) uint64 {
	var s0, s1, s2, s3 uint64
	for i := 0; i+32 <= len(b); i += 32 {
		c := b[i : i+32 : i+32]
		s0 += c[0]
		s1 += c[8]
		s2 += c[16]
		s3 += c[24]
	}
	return s0 + s1 + s2 + s3
}

// unitVectors returns n random unit vectors of dimension dim, backed by one
// slab.
func unitVectors(n, dim int, rng *rand.Rand) [][]float32 {
	slab := make([]float32, n*dim)
	out := make([][]float32, n)
	for i := range out {
		v := slab[i*dim : (i+1)*dim : (i+1)*dim]
		var ss float64
		for j := range v {
			x := rng.NormFloat64()
			v[j] = float32(x)
			ss += x * x
		}
		inv := float32(1 / math.Sqrt(ss))
		for j := range v {
			v[j] *= inv
		}
		out[i] = v
	}
	return out
}

type row struct {
	name        string
	dim, n      int
	p50, best   time.Duration
	bound       time.Duration
	bytesPerVec float64
	recall      float64 // recall@k against store/flat; 0 for flat itself
	k           int
}

// measure builds c over vecs and times the queries qs (the first three are
// warm-up). It returns the result IDs of the timed queries.
func measure(ctx context.Context, c candidate, vecs, qs [][]float32, k int) (row, [][]string, error) {
	runtime.GC()
	debug.FreeOSMemory()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	search, err := c.build(ctx, vecs)
	if err != nil {
		return row{}, nil, err
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	r := row{name: c.name, bytesPerVec: float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(len(vecs))}

	var times []time.Duration
	var answers [][]string
	for i, q := range qs {
		start := time.Now()
		ids, err := search(q, k)
		d := time.Since(start)
		if err != nil {
			return row{}, nil, err
		}
		if len(ids) != k {
			return row{}, nil, fmt.Errorf("query %d returned %d results, want %d", i, len(ids), k)
		}
		if i >= 3 {
			times = append(times, d)
			answers = append(answers, ids)
		}
	}
	slices.Sort(times)
	r.p50, r.best = times[len(times)/2], times[0]
	runtime.KeepAlive(search)
	return r, answers, nil
}

func recall(got, want [][]string) float64 {
	hit, total := 0, 0
	for i := range want {
		for _, id := range want[i] {
			total++
			if slices.Contains(got[i], id) {
				hit++
			}
		}
	}
	return float64(hit) / float64(total)
}

func docID(i int) string { return "doc-" + strconv.Itoa(i) }

// storeDocs turns vectors into one single-record document each.
func storeDocs(vecs [][]float32) []store.StoredDocument {
	docs := make([]store.StoredDocument, len(vecs))
	for i, v := range vecs {
		id := docID(i)
		docs[i] = store.StoredDocument{ID: id, Records: []store.Record{{ID: id, DocID: id, Text: id, Vector: v}}}
	}
	return docs
}

// searchStore adapts a store.Store to the benchmark.
func searchStore(s store.Store) func(q []float32, k int) ([]string, error) {
	return func(q []float32, k int) ([]string, error) {
		rs, err := s.Search(context.Background(), store.Query{Vector: q, TopK: k})
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(rs))
		for i, r := range rs {
			ids[i] = r.ID
		}
		return ids, nil
	}
}

func buildFlat(opts flat.Options) func(ctx context.Context, vecs [][]float32) (func([]float32, int) ([]string, error), error) {
	return func(ctx context.Context, vecs [][]float32) (func([]float32, int) ([]string, error), error) {
		s, err := flat.New(opts)
		if err != nil {
			return nil, err
		}
		if err := s.Upsert(ctx, storeDocs(vecs)); err != nil {
			return nil, err
		}
		return searchStore(s), nil
	}
}

// buildWrapper loads the vectors into our store/chromem wrapper, in
// memory.
func buildWrapper(ctx context.Context, vecs [][]float32) (func([]float32, int) ([]string, error), error) {
	s, err := ourchromem.New(ourchromem.Options{})
	if err != nil {
		return nil, err
	}
	if err := s.Upsert(ctx, storeDocs(vecs)); err != nil {
		return nil, err
	}
	return searchStore(s), nil
}

// buildChromem loads the vectors into a chromem-go collection with
// precomputed embeddings. chromem-go keeps the slices it is given, so each
// document gets its own copy, as it would from an embedder.
func buildChromem(ctx context.Context, vecs [][]float32) (func([]float32, int) ([]string, error), error) {
	db := chromem.NewDB()
	noEmbed := func(context.Context, string) ([]float32, error) {
		return nil, fmt.Errorf("chromem-go asked to embed: the benchmark passes embeddings")
	}
	col, err := db.CreateCollection("bench", nil, noEmbed)
	if err != nil {
		return nil, err
	}
	const batch = 10_000
	for lo := 0; lo < len(vecs); lo += batch {
		hi := min(lo+batch, len(vecs))
		docs := make([]chromem.Document, 0, hi-lo)
		for i := lo; i < hi; i++ {
			docs = append(docs, chromem.Document{ID: docID(i), Content: docID(i), Embedding: slices.Clone(vecs[i])})
		}
		if err := col.AddDocuments(ctx, docs, runtime.GOMAXPROCS(0)); err != nil {
			return nil, err
		}
	}
	return func(q []float32, k int) ([]string, error) {
		rs, err := col.QueryEmbedding(context.Background(), q, k, nil, nil)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(rs))
		for i, r := range rs {
			ids[i] = r.ID
		}
		return ids, nil
	}, nil
}

func printTable(rows []row, readSum, perLine float64) {
	fmt.Printf("\nTop-%d search, %s, GOMAXPROCS=%d, memory bandwidth %.1f GB/s (sequential read-sum %.1f GB/s, one word a cache line %.1f GB/s).\n\n",
		rows[0].k, runtime.GOARCH, runtime.GOMAXPROCS(0), max(readSum, perLine)/1e9, readSum/1e9, perLine/1e9)
	fmt.Printf("| store | n × dim | p50 latency | fastest | bandwidth bound | p50 × bound | × store/flat | heap B/vector | recall@%d |\n", rows[0].k)
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	flatP50 := map[int]time.Duration{}
	for _, r := range rows {
		if r.name == "store/flat" {
			flatP50[r.dim] = r.p50
		}
	}
	for _, r := range rows {
		vsFlat := "1.00"
		if f := flatP50[r.dim]; f > 0 && r.name != "store/flat" {
			vsFlat = fmt.Sprintf("%.2f", float64(r.p50)/float64(f))
		}
		rec := "exact"
		if r.name != "store/flat" {
			rec = fmt.Sprintf("%.3f", r.recall)
		}
		fmt.Printf("| %s | %d × %d | %s | %s | %s | %.2f | %s | %.0f | %s |\n",
			r.name, r.n, r.dim, ms(r.p50), ms(r.best), ms(r.bound), float64(r.p50)/float64(r.bound), vsFlat, r.bytesPerVec, rec)
	}
	fmt.Println("\np50 and fastest of the timed queries, run one after another; other processes on the machine add noise to both.")
	fmt.Println("bandwidth bound: bytes a search must read ÷ bandwidth; 4·n·dim bytes for float32, n·dim for int8 codes.")
	fmt.Println("× store/flat: p50 latency ÷ store/flat's p50 at the same dimension (chromem-go's row is how many times slower it is).")
	fmt.Printf("recall@%d: share of store/flat's exact top %d that the store returned.\n", rows[0].k, rows[0].k)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }
