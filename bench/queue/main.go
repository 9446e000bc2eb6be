// Command queue measures durable ingestion through package queue (River on
// Postgres) with real worker processes, against a fake OpenAI-compatible
// provider (openaitest) on loopback, into a store in plain Postgres tables
// that the processes share. It prints Markdown tables.
//
//	export RAG_RIVER_DSN="$(bash .ci/postgres-start.sh)"
//	go run ./bench/queue                 # every measurement
//	go run ./bench/queue -run crash -docs 10000 -rounds 10
//	go run ./bench/queue -run scale,overhead,budget
//
// crash: documents enqueued in rounds while 3 worker processes work them;
// in each round one worker, chosen at random, is SIGKILLed at a random
// moment and restarted. Then every document is checked: present, its
// chunks neither duplicated nor missing, its status final and true.
//
// scale: the time 1, 2 and 3 worker processes take for the same documents
// against a provider answering in 400 ms (latency, not CPU, is the limit:
// small batches, few requests in flight per process).
//
// overhead: one worker process through the queue against a direct Ingest
// of the same documents by one process, same provider and store.
//
// budget: 3 worker processes sharing one queue.Budget against a provider
// that enforces a tokens-per-minute limit with 429s: the share of the
// budget used, and of requests refused.
//
// Each measurement runs on a database of its own, created on RAG_RIVER_DSN
// (or -dsn) and dropped afterwards.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/queue"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		if err := runWorker(os.Args[2:]); err != nil {
			log.Fatal("worker: ", err)
		}
		return
	}
	dsn := flag.String("dsn", os.Getenv("RAG_RIVER_DSN"), "Postgres to create the databases on")
	run := flag.String("run", "crash,scale,overhead,budget", "measurements to run")
	docs := flag.Int("docs", 10000, "crash: documents")
	rounds := flag.Int("rounds", 10, "crash: kill rounds")
	scaleDocs := flag.Int("scale-docs", 1500, "scale and overhead: documents")
	overheadCases := flag.String("overhead", "latency,cpu", "overhead: the provider cases (latency: 400 ms; cpu: 20 ms and large batches)")
	budgetSecs := flag.Int("budget-seconds", 40, "budget: about how long the run lasts")
	flag.Parse()
	if *dsn == "" {
		log.Fatal(`no database: export RAG_RIVER_DSN="$(bash .ci/postgres-start.sh)" or pass -dsn`)
	}
	b := &bench{admin: *dsn}
	for _, m := range strings.Split(*run, ",") {
		var err error
		switch m {
		case "crash":
			err = b.crash(*docs, *rounds)
		case "scale":
			err = b.scale(*scaleDocs)
		case "overhead":
			err = b.overhead(*scaleDocs, *overheadCases)
		case "budget":
			err = b.budget(*budgetSecs)
		default:
			err = fmt.Errorf("unknown measurement %q", m)
		}
		if err != nil {
			log.Fatalf("%s: %v", m, err)
		}
	}
}

type bench struct {
	admin string
	seq   int
}

// database creates a fresh database with the queue's and the store's
// tables, and returns its DSN, a pool on it and a function that drops it.
func (b *bench) database(ctx context.Context) (string, *pgxpool.Pool, func(), error) {
	b.seq++
	name := fmt.Sprintf("rag_queue_bench_%d_%d", os.Getpid(), b.seq)
	admin, err := pgxpool.New(ctx, b.admin)
	if err != nil {
		return "", nil, nil, err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, nil, err
	}
	u, err := url.Parse(b.admin)
	if err != nil {
		return "", nil, nil, err
	}
	u.Path = "/" + name
	pool, err := pgxpool.New(ctx, u.String())
	if err != nil {
		return "", nil, nil, err
	}
	drop := func() {
		pool.Close()
		admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") //nolint:errcheck // best effort
		admin.Close()
	}
	if err := queue.Migrate(ctx, pool); err != nil {
		drop()
		return "", nil, nil, err
	}
	if _, err := pool.Exec(ctx, storeSchema); err != nil {
		drop()
		return "", nil, nil, err
	}
	return u.String(), pool, drop, nil
}

// corpus makes n documents of 1 to 5 paragraphs of 20 words each, and the
// number of chunks each makes (by paragraphs, the workers' chunker).
func corpus(prefix string, n int) ([]document.Document, map[string]int) {
	vocab := strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega")
	r := rand.New(rand.NewPCG(1, uint64(n)))
	docs := make([]document.Document, n)
	want := make(map[string]int, n)
	for i := range docs {
		paras := make([]string, 1+i%5)
		for p := range paras {
			w := make([]string, 20)
			for j := range w {
				w[j] = vocab[r.IntN(len(vocab))]
			}
			paras[p] = fmt.Sprintf("%s %d.%d: %s", prefix, i, p, strings.Join(w, " "))
		}
		id := fmt.Sprintf("%s-%05d", prefix, i)
		docs[i] = document.Document{ID: id, Content: strings.Join(paras, "\n\n")}
		chunks, err := paragraphs.Chunk(context.Background(), docs[i].Content)
		if err != nil {
			panic(err) // valid UTF-8, by construction
		}
		want[id] = len(chunks)
	}
	return docs, want
}

// worker is a worker process.
type worker struct {
	cmd *exec.Cmd
}

func startWorker(dsn, embedURL string, p profile) (*worker, error) {
	if p.JobTimeout == 0 {
		p.JobTimeout = 10 * time.Second
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, append([]string{"worker", "-dsn", dsn, "-embed", embedURL}, p.args()...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		cmd.Process.Kill() //nolint:errcheck // it failed anyway
		cmd.Wait()         //nolint:errcheck // it failed anyway
		return nil, fmt.Errorf("worker did not start: %q %v", line, err)
	}
	return &worker{cmd: cmd}, nil
}

func (w *worker) kill() {
	w.cmd.Process.Signal(syscall.SIGKILL) //nolint:errcheck // it may be gone
	w.cmd.Wait()                          //nolint:errcheck // killed
}

func (w *worker) stop() error {
	w.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may be gone
	return w.cmd.Wait()
}

// enqueue enqueues docs in transactions of 500.
func enqueue(ctx context.Context, q *queue.Queue, docs []document.Document) error {
	for len(docs) > 0 {
		n := min(500, len(docs))
		items := make([]queue.Item, n)
		for i, d := range docs[:n] {
			items[i] = queue.Item{Document: d}
		}
		if _, err := q.Enqueue(ctx, items...); err != nil {
			return err
		}
		docs = docs[n:]
	}
	return nil
}

// waitFinal waits until n documents have a final status, or timeout.
func waitFinal(ctx context.Context, q *queue.Queue, n int, timeout time.Duration) (queue.Counts, error) {
	deadline := time.Now().Add(timeout)
	for {
		c, err := q.Counts(ctx)
		if err != nil {
			return c, err
		}
		if c.Stored+c.Unchanged+c.Failed+c.Deleted >= n {
			return c, nil
		}
		if time.Now().After(deadline) {
			return c, fmt.Errorf("after %v: %+v, want %d final", timeout, c, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
