// Command ingest benchmarks the ingestion pipeline against a fake
// OpenAI-compatible server with a fixed latency per request, and pushes the
// same texts through chromem-go's own Collection.AddDocuments for
// comparison. It prints a Markdown table.
//
//	go run ./bench/ingest                   # 20,000 chunks, 100 ms, 1,536 dimensions
//	go run ./bench/ingest -chunks 5000 -peer-chunks 500
//	go run ./bench/ingest -peers=false      # our rows only: in memory, and into persistent stores
//
// The store rows (-stores, on by default) run the same workload into an
// in-memory flat store and into persistent chromem and flat stores in a
// fresh temporary directory, fsync on; an Upsert returns once durable, so
// the ingestion is timed alone, and Close is timed apart.
//
// The server runs in a child process, so the CPU time and allocations
// measured are the client's alone. The texts are SciFact abstracts from
// ../shared/data/scifact when present (split into ~80-token passages), or
// generated prose otherwise.
package main

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	chromemgo "github.com/philippgille/chromem-go"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/tokenizer"
)

var (
	nChunks     = flag.Int("chunks", 20000, "chunks to ingest")
	peerChunks  = flag.Int("peer-chunks", 2000, "chunks for chromem-go (one request per text, so slow)")
	latency     = flag.Duration("latency", 100*time.Millisecond, "server latency per request")
	dims        = flag.Int("dims", 1536, "vector dimensions")
	concurrency = flag.Int("concurrency", 8, "requests in flight")
	batchSize   = flag.Int("batch", 256, "inputs per request")
	serve       = flag.Bool("serve", false, "internal: run the fake server and print its addresses")
	lcgDir      = flag.String("langchaingo", "bench/langchaingo", "directory of the langchaingo benchmark module")
	cpuprofile  = flag.String("cpuprofile", "", "write a CPU profile of our pipeline's run to this file")
	memprofile  = flag.String("memprofile", "", "write a profile of the allocations of our pipeline's first round (every allocation sampled) to this file")
	data        = flag.String("data", "../shared/data/scifact/corpus.jsonl.gz", "SciFact corpus")
	peers       = flag.Bool("peers", true, "also run chromem-go, langchaingo and the sleeping embedder")
	stores      = flag.Bool("stores", true, "also run the pipeline into persistent chromem and flat stores (in a temporary directory)")
	rounds      = flag.Int("rounds", 1, "rounds of our rows (the in-memory, abstracts and store rows), run one after the other; each row prints its median and range")
)

func main() {
	flag.Parse()
	if *serve {
		runServer()
		return
	}
	texts := loadTexts(*nChunks)
	abstracts := loadAbstracts()
	base, stats, stop := startServer()
	defer stop()

	fmt.Printf("ingest benchmark: %d chunks, %v latency, %d dimensions, %d cores", len(texts), *latency, *dims, runtime.NumCPU())
	if *rounds > 1 {
		fmt.Printf("; medians of %d rounds, range in brackets", *rounds)
	}
	fmt.Print("\n\n")
	fmt.Println("| pipeline | texts | seconds | texts/s | vs limit | client CPU µs/text | server CPU µs/text | allocs/text | KB alloc/text | requests | new conns |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

	limit := float64(*concurrency**batchSize) / latency.Seconds()
	var oursRows, abstractRows []result
	var storeRounds []storeRows
	for round := range *rounds {
		oursRows = append(oursRows, measure(stats, func() int {
			if *cpuprofile != "" && round == 0 {
				f, err := os.Create(*cpuprofile)
				if err != nil {
					log.Fatal(err)
				}
				pprof.StartCPUProfile(f)
				defer pprof.StopCPUProfile()
			}
			if *memprofile != "" && round == 0 {
				runtime.MemProfileRate = 1
				defer writeMemProfile(*memprofile)
			}
			return runOurs(base, texts)
		}))
		if len(abstracts) > 0 {
			abstractRows = append(abstractRows, measure(stats, func() int {
				return profiled("abstracts", round, func() int { return runAbstracts(base, abstracts) })
			}))
		}
		if *stores {
			storeRounds = append(storeRounds, runStores(base, texts, stats, round))
		}
	}
	ours := median(oursRows)
	ours.print("rag (this library)", limit)
	if len(abstractRows) > 0 {
		// The limit of a workload whose requests are not all full is not
		// the one above: the share is left out (a dash).
		median(abstractRows).print(fmt.Sprintf("rag, %d whole SciFact abstracts at default options (texts are abstracts)", len(abstracts)), 0)
	}
	if *stores {
		printStores(storeRounds, oursRows, limit)
	}
	printPerToken(ours, texts, abstractRows, abstracts)
	if !*peers {
		return
	}

	alone := measure(stats, func() int { return runOursOn(sleepingEmbedder{}, texts) })
	alone.print("rag, in-process embedder sleeping 100 ms a batch (no HTTP, no server)", limit)

	peer := measure(stats, func() int { return runChromem(base, texts[:min(*peerChunks, len(texts))]) })
	peer.print("chromem-go AddDocuments (concurrency 8)", 8/latency.Seconds())

	lcg, lcgErr := runLangchaingo(base, texts, stats)
	if lcgErr != nil {
		fmt.Printf("| langchaingo EmbedDocuments | not run: %v |\n", lcgErr)
	} else {
		lcg.print("langchaingo EmbedDocuments (batch 512, sequential; separate process)", 512/latency.Seconds())
	}

	fmt.Printf("\nlimit = requests in flight × inputs per request / latency (%d × %d / %v = %.0f texts/s; chromem-go sends one text per request: %.0f texts/s)\n",
		*concurrency, *batchSize, *latency, limit, 8/latency.Seconds())
	fmt.Printf("rag / chromem-go throughput: %.1f×\n", ours.rate()/peer.rate())
	if lcgErr == nil {
		fmt.Printf("rag / langchaingo throughput: %.1f× (langchaingo's CPU and allocations are not measured: it runs in its own process)\n", ours.rate()/lcg.rate())
	}
}

// printPerToken prints the client CPU of the passages and abstracts rows
// per 1,000 cl100k tokens of their texts: abstracts are longer, so their
// CPU a text is not comparable with the passages'.
func printPerToken(ours result, texts []string, abstractRows []result, abstracts []string) {
	line := func(name string, r result, ts []string) string {
		tok := tokenizer.CL100K()
		n := 0
		for _, t := range ts {
			n += tok.Count(t)
		}
		return fmt.Sprintf("%s %.0f tokens a text, %.1f µs per 1,000 tokens", name, float64(n)/float64(len(ts)), 1000*r.cpuPerText()*float64(len(ts))/float64(n))
	}
	out := line("client CPU per token (cl100k): passages", ours, texts)
	if len(abstractRows) > 0 {
		out += "; " + line("abstracts", median(abstractRows), abstracts)
	}
	fmt.Printf("\n%s\n", out)
}

// writeMemProfile writes the allocations sampled so far to path and stops
// sampling.
func writeMemProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		log.Fatal(err)
	}
	runtime.MemProfileRate = 0
}

// runLangchaingo runs bench/langchaingo (its own module) on the texts.
func runLangchaingo(base string, texts []string, stats func() openaitest.Stats) (result, error) {
	f, err := os.CreateTemp("", "texts-*.json")
	if err != nil {
		return result{}, err
	}
	defer os.Remove(f.Name())
	if err := json.NewEncoder(f).Encode(texts); err != nil {
		return result{}, err
	}
	f.Close()
	bin := filepath.Join(os.TempDir(), "rag-bench-langchaingo")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = *lcgDir
	if out, err := build.CombinedOutput(); err != nil {
		return result{}, fmt.Errorf("building %s: %v: %s", *lcgDir, err, out)
	}
	s0 := stats()
	out, err := exec.Command(bin, "-url", base, "-texts", f.Name()).Output()
	if err != nil {
		return result{}, fmt.Errorf("running: %v", err)
	}
	s1 := stats()
	var n int
	var secs float64
	if _, err := fmt.Sscan(string(out), &n, &secs); err != nil {
		return result{}, fmt.Errorf("reading %q: %v", out, err)
	}
	return result{texts: n, wall: time.Duration(secs * float64(time.Second)),
		requests: s1.EmbedRequests - s0.EmbedRequests, conns: s1.Connections - s0.Connections}, nil
}

type result struct {
	texts           int
	wall            time.Duration
	cpu             time.Duration
	serverCPU       time.Duration
	measuredLocally bool
	mallocs, bytes  uint64
	requests, conns int

	// Of a median of several rounds: the range of texts/s and of client
	// CPU µs/text over the rounds.
	rounds             int
	rateRange, cpuSpan [2]float64
}

// median returns the result of the round with the median wall time,
// with the client CPU the median of the rounds' and the ranges of the
// rounds' throughput and CPU.
func median(rs []result) result {
	byWall := slices.Clone(rs)
	slices.SortFunc(byWall, func(a, b result) int { return cmp.Compare(a.wall, b.wall) })
	m := byWall[len(byWall)/2]
	cpus := make([]float64, len(rs))
	for i, r := range rs {
		cpus[i] = r.cpuPerText()
	}
	slices.Sort(cpus)
	m.cpu = time.Duration(cpus[len(cpus)/2] * float64(m.texts) * float64(time.Microsecond))
	m.rounds = len(rs)
	m.rateRange = [2]float64{byWall[len(byWall)-1].rate(), byWall[0].rate()}
	m.cpuSpan = [2]float64{cpus[0], cpus[len(cpus)-1]}
	return m
}

func (r result) cpuPerText() float64 { return float64(r.cpu.Microseconds()) / float64(r.texts) }

func (r result) rate() float64 { return float64(r.texts) / r.wall.Seconds() }

func (r result) print(name string, limit float64) {
	n := float64(r.texts)
	per := func(x float64) string {
		if r.measuredLocally {
			return fmt.Sprintf("%.1f", x/n)
		}
		return "–" // measured in another process: not seen from here
	}
	rate, cpu := fmt.Sprintf("%.0f", r.rate()), per(float64(r.cpu.Microseconds()))
	if r.rounds > 1 {
		rate += fmt.Sprintf(" (%.0f–%.0f)", r.rateRange[0], r.rateRange[1])
		cpu += fmt.Sprintf(" (%.1f–%.1f)", r.cpuSpan[0], r.cpuSpan[1])
	}
	share := "–"
	if limit > 0 {
		share = fmt.Sprintf("%.0f%%", 100*r.rate()/limit)
	}
	fmt.Printf("| %s | %d | %.2f | %s | %s | %s | %s | %s | %s | %d | %d |\n",
		name, r.texts, r.wall.Seconds(), rate, share,
		cpu, per(float64(r.serverCPU.Microseconds())), per(float64(r.mallocs)), per(float64(r.bytes)/1024), r.requests, r.conns)
}

func measure(stats func() openaitest.Stats, run func() int) result {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	s0 := stats()
	c0, sc0 := cpuTime(), serverCPU()
	t0 := time.Now()
	n := run()
	wall := time.Since(t0)
	cpu, scpu := cpuTime()-c0, serverCPU()-sc0
	runtime.ReadMemStats(&m1)
	s1 := stats()
	return result{measuredLocally: true, texts: n, wall: wall, cpu: cpu, serverCPU: scpu, mallocs: m1.Mallocs - m0.Mallocs, bytes: m1.TotalAlloc - m0.TotalAlloc,
		requests: s1.EmbedRequests - s0.EmbedRequests, conns: s1.Connections - s0.Connections}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runOurs ingests every text as a document of one chunk, through the fake
// server.
func runOurs(base string, texts []string) int {
	return runOursOn(embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: base, APIKey: "bench"}, Dimensions: *dims}), texts)
}

// sleepingEmbedder answers after the latency without using the CPU: what
// the pipeline reaches when neither a server nor HTTP costs anything.
type sleepingEmbedder struct{}

func (sleepingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	select {
	case <-time.After(*latency):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return cheapVectors(ctx, texts)
}

func runOursOn(e embed.Embedder, texts []string) int {
	return runOursInto(e, nil, texts)
}

// runOursInto ingests into st (nil: the pipeline's default in-memory store).
func runOursInto(e embed.Embedder, st store.Store, texts []string) int {
	rep := ingestAll(rag.Options{Embedder: e, Store: st, Ingest: rag.IngestOptions{Concurrency: *concurrency, BatchSize: *batchSize, NoCache: true}}, "doc-", texts)
	if rep.Chunks != len(texts) {
		log.Fatalf("ingested %d chunks, want %d", rep.Chunks, len(texts))
	}
	return rep.Chunks
}

// runChromem adds the texts with chromem-go's own pipeline: it embeds each
// document with one request, concurrency 8.
func runChromem(base string, texts []string) int {
	normalized := true
	ef := chromemgo.NewEmbeddingFuncOpenAICompat(base, "bench", "text-embedding-3-small", &normalized)
	db := chromemgo.NewDB()
	c, err := db.CreateCollection("bench", nil, ef)
	if err != nil {
		log.Fatal(err)
	}
	docs := make([]chromemgo.Document, len(texts))
	for i, t := range texts {
		docs[i] = chromemgo.Document{ID: fmt.Sprint("doc-", i), Content: t}
	}
	if err := c.AddDocuments(context.Background(), docs, 8); err != nil {
		log.Fatal(err)
	}
	return c.Count()
}

// runAbstracts ingests each abstract as a document, at the pipeline's
// default options (the default chunker, batch limits, concurrency and
// cache), into the default in-memory store.
func runAbstracts(base string, abstracts []string) int {
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: base, APIKey: "bench"}, Dimensions: *dims})
	rep := ingestAll(rag.Options{Embedder: e}, "abstract-", abstracts)
	if rep.Stored != len(abstracts) {
		log.Fatalf("stored %d abstracts, want %d", rep.Stored, len(abstracts))
	}
	return rep.Stored
}

// ingestAll ingests each text as a document (ID prefix and its index) on
// a new pipeline of opts.
func ingestAll(opts rag.Options, prefix string, texts []string) *rag.IngestReport {
	p, err := rag.New(opts)
	if err != nil {
		log.Fatal(err)
	}
	docs := make([]rag.Document, len(texts))
	for i, t := range texts {
		docs[i] = rag.Document{ID: fmt.Sprint(prefix, i), Content: t}
	}
	rep, err := p.Ingest(context.Background(), docs...)
	if err != nil {
		log.Fatal(err)
	}
	return rep
}

// loadAbstracts returns the SciFact abstracts (title, then text), or none
// without the corpus.
func loadAbstracts() []string {
	f, err := os.Open(*data)
	if err != nil {
		return nil
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		log.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var d struct{ Title, Text string }
		if json.Unmarshal(sc.Bytes(), &d) == nil && strings.TrimSpace(d.Title+d.Text) != "" {
			out = append(out, d.Title+". "+d.Text)
		}
	}
	return out
}

// loadTexts returns n passages of about 80 tokens.
func loadTexts(n int) []string {
	prose := loadAbstracts()
	if prose == nil {
		fmt.Fprintf(os.Stderr, "no SciFact corpus at %s: using generated prose (and no abstracts row)\n", *data)
		for i := range 2000 {
			prose = append(prose, fmt.Sprintf("Passage %d describes how goroutines, channels and contexts cooperate to keep an ingestion pipeline busy while the provider answers slowly; it repeats with variation %d.", i, i*7))
		}
	}
	tok := tokenizer.CL100K()
	var out []string
	for pass := 0; len(out) < n; pass++ {
		for _, p := range prose {
			words := strings.Fields(p)
			for i := 0; i+1 < len(words) && len(out) < n; i += 60 {
				s := strings.Join(words[i:min(i+60, len(words))], " ")
				if pass > 0 {
					s = fmt.Sprintf("(%d) %s", pass, s)
				}
				if tok.Count(s) < 8000 {
					out = append(out, s)
				}
			}
			if len(out) >= n {
				break
			}
		}
	}
	return out
}

// startServer runs this program with -serve in a child process and returns
// the API base URL and a function reading the server's stats.
func startServer() (string, func() openaitest.Stats, func()) {
	exe, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	cmd := exec.Command(exe, "-serve", "-latency", latency.String(), "-dims", fmt.Sprint(*dims))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	var base, statsURL string
	if _, err := fmt.Fscan(out, &base, &statsURL); err != nil {
		log.Fatal("reading the server's addresses: ", err)
	}
	stats := func() openaitest.Stats {
		resp, err := http.Get(statsURL)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		var s openaitest.Stats
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			log.Fatal(err)
		}
		return s
	}
	serverPID = cmd.Process.Pid
	return base, stats, func() { cmd.Process.Kill(); cmd.Wait() }
}

// serverPID is the fake server's process, whose CPU time is read from /proc.
var serverPID int

// serverCPU returns the CPU time the server process has used so far, or 0
// where /proc is not available.
func serverCPU() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", serverPID))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	var utime, stime int64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ = 100
}

// runServer serves the fake API with a vector generator cheap enough not to
// compete with the client for the CPU, and its stats as JSON.
func runServer() {
	srv := openaitest.NewServer(openaitest.Options{
		Latency:     *latency,
		Dimensions:  *dims,
		Embedder:    embed.Func(cheapVectors),
		CountTokens: func(s string) int { return len(s) / 4 },
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) { json.NewEncoder(w).Encode(srv.Stats()) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.URL(), "http://"+ln.Addr().String()+"/stats")
	log.Fatal(http.Serve(ln, mux)) // until the parent kills it
}

// cheapVectors makes a deterministic unit vector per text from its bytes.
func cheapVectors(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, *dims)
		var h uint32 = 2166136261
		for j := 0; j < len(t); j++ {
			h = (h ^ uint32(t[j])) * 16777619
		}
		for j := range v {
			h ^= h << 13
			h ^= h >> 17
			h ^= h << 5
			v[j] = float32(int32(h)) / (1 << 31)
		}
		var n float32
		for _, x := range v {
			n += x * x
		}
		n = float32(1 / math.Sqrt(float64(n)))
		for j := range v {
			v[j] *= n
		}
		out[i] = v
	}
	return out, nil
}
