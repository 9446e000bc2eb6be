package storetest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ragkit-go/rag/store"
)

// CrashOptions configures Crash and CrashChild.
type CrashOptions struct {
	// Open opens the persistent store kept in dir, creating it if needed;
	// round counts the kills so far (a store can vary its options with it).
	// It runs in the test process and in the child processes.
	Open func(dir string, round int) (store.Store, error)
	// Child names the test function of the calling package that calls
	// CrashChild with the same options.
	Child string
	// Leftovers, if set, lists the files in dir that unfinished writes
	// leave (temporary files); Open must remove them.
	Leftovers func(dir string) []string
	// Leave, if set, lets go of a store reopened after a kill; nil means
	// its Close method, if it has one.
	Leave func(s store.Store, round int) error
	// Rounds is the number of kills; 0 means 10.
	Rounds int
}

const (
	crashDirEnv   = "RAG_STORETEST_CRASH_DIR"
	crashStartEnv = "RAG_STORETEST_CRASH_START"
	crashRoundEnv = "RAG_STORETEST_CRASH_ROUND"
	crashDocs     = 16
	crashDim      = 64
)

// crashDoc is version v of the document it belongs to (v % crashDocs):
// 1 to 40 records, each tagged with v and the record count, and vectors
// derived from v, so the test can check every record.
func crashDoc(v int) store.StoredDocument {
	id := fmt.Sprintf("doc-%02d", v%crashDocs)
	n := 1 + (v*7)%40
	d := store.StoredDocument{ID: id, Hash: "v" + strconv.Itoa(v)}
	rng := rand.New(rand.NewPCG(uint64(v), 42))
	for c := range n {
		vec := make([]float32, crashDim)
		for i := range vec {
			vec[i] = float32(rng.NormFloat64())
		}
		d.Records = append(d.Records, store.Record{
			ID: fmt.Sprintf("%s/v%d/%d", id, v, c), DocID: id, Chunk: c,
			Text:     strings.Repeat("x", 100*c),
			Vector:   vec,
			Metadata: map[string]any{"version": float64(v), "count": float64(n)},
		})
	}
	return d
}

// CrashChild is the child process of Crash: it writes documents in a loop
// and reports each write that returned. Outside Crash it skips.
func CrashChild(t *testing.T, o CrashOptions) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by the crash test")
	}
	v, _ := strconv.Atoi(os.Getenv(crashStartEnv))
	round, _ := strconv.Atoi(os.Getenv(crashRoundEnv))
	s, err := o.Open(dir, round)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	deadline := time.Now().Add(60 * time.Second) // never outlive a dead parent for long
	for time.Now().Before(deadline) {
		batch := []store.StoredDocument{crashDoc(v)}
		if v%3 == 0 {
			batch = append(batch, crashDoc(v+1), crashDoc(v+2))
		}
		if err := s.Upsert(context.Background(), batch); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		for _, d := range batch {
			fmt.Printf("ok %s %s\n", d.ID, d.Hash[1:])
		}
		v += len(batch)
	}
	os.Exit(0)
}

// Crash is the crash test of a persistent store: a child process (the test
// named by o.Child, which calls CrashChild) writes documents in a loop; the
// test kills it with SIGKILL at a random moment, reopens the store, and
// checks that every document is one whole version, that every write the
// child reported as returned is there, and that no leftover of an
// unfinished write remains. Several rounds on the same store.
func Crash(t *testing.T, o CrashOptions) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	if o.Rounds == 0 {
		o.Rounds = 10
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	reported := map[string]int{} // document -> last version reported written
	next := 0
	interrupted := 0
	for round := range o.Rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^"+o.Child+"$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashStartEnv+"="+strconv.Itoa(next), crashRoundEnv+"="+strconv.Itoa(round))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := 10 + rng.IntN(300)
		lines := readReports(t, out, reported, &next, killAfter, func() {
			// Not synchronisation: a random delay moves the kill off the
			// moment right after a report, so it lands anywhere in the
			// child's write loop.
			time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
			cmd.Process.Signal(syscall.SIGKILL)
		})
		cmd.Wait()
		if lines < killAfter {
			t.Fatalf("round %d: child stopped after %d writes, before being killed", round, lines)
		}
		next += 3 // versions the child may have written after its last report

		if o.Leftovers != nil {
			interrupted += len(o.Leftovers(dir))
		}
		s, err := o.Open(dir, round)
		if err != nil {
			t.Fatalf("round %d: reopening after the kill: %v", round, err)
		}
		checkCrashState(t, s, reported)
		if o.Leftovers != nil {
			if left := o.Leftovers(dir); len(left) > 0 {
				t.Errorf("round %d: unfinished writes left after opening: %v", round, left)
			}
		}
		if err := leave(o, s, round); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d documents reported written; the kills interrupted %d file writes", len(reported), interrupted)
}

func leave(o CrashOptions, s store.Store, round int) error {
	if o.Leave != nil {
		return o.Leave(s, round)
	}
	if c, ok := s.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

// readReports reads the child's reports into reported until the
// killAfter-th, then calls kill; it returns the number of reports read.
func readReports(t *testing.T, out io.Reader, reported map[string]int, next *int, killAfter int, kill func()) int {
	t.Helper()
	sc := bufio.NewScanner(out)
	lines := 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "ok" {
			v, _ := strconv.Atoi(f[2])
			reported[f[1]] = max(reported[f[1]], v)
			*next = max(*next, v+1)
			if lines++; lines == killAfter {
				kill()
				break
			}
		} else if strings.HasPrefix(sc.Text(), "error") {
			t.Fatalf("child: %s", sc.Text())
		}
	}
	return lines
}

func checkCrashState(t *testing.T, s store.Store, reported map[string]int) {
	t.Helper()
	ctx := context.Background()
	q := make([]float32, crashDim)
	q[0] = 1
	for i := range crashDocs {
		id := fmt.Sprintf("doc-%02d", i)
		rs, err := s.Search(ctx, store.Query{Vector: q, TopK: 1000, Filter: store.Eq(store.FieldDocID, id)})
		if err != nil {
			t.Fatal(err)
		}
		h, err := s.Hashes(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) == 0 {
			if _, ok := reported[id]; ok {
				t.Errorf("%s was reported written but is gone", id)
			}
			if _, ok := h[id]; ok {
				t.Errorf("%s has a hash but no records", id)
			}
			continue
		}
		v := int(rs[0].Metadata["version"].(float64))
		if v%crashDocs != i || v < reported[id] {
			t.Errorf("%s is at version %d; last reported written: %d", id, v, reported[id])
		}
		if h[id] != "v"+strconv.Itoa(v) {
			t.Errorf("%s: hash %q, records of version %d", id, h[id], v)
		}
		want := crashDoc(v)
		if len(rs) != len(want.Records) {
			t.Errorf("%s version %d: %d records, want %d", id, v, len(rs), len(want.Records))
			continue
		}
		slices.SortFunc(rs, func(a, b store.Result) int { return a.Chunk - b.Chunk })
		for c, r := range rs {
			w := want.Records[c]
			if r.ID != w.ID || r.Text != w.Text || r.Metadata["version"] != float64(v) || r.Metadata["count"] != float64(len(want.Records)) {
				t.Errorf("%s version %d: record %d is %s (version %v), want %s", id, v, c, r.ID, r.Metadata["version"], w.ID)
			}
			if store.Cosine(r.Vector, w.Vector) < 0.99999 {
				t.Errorf("%s version %d: record %d has another vector", id, v, c)
			}
		}
	}
}
