package flat_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/flat"
)

// Crash test: a child process writes documents in a loop (folding its log
// into the snapshot every few hundred KB, so kills also land inside
// snapshot writes); the parent kills it with SIGKILL at a random moment,
// reopens the store, and checks that every document is one whole version
// and every write the child reported as done is there, and that no
// temporary file is left. Ten rounds on the same store.
const crashEnv = "RAG_FLAT_CRASH_PATH"

const (
	crashDocs = 16
	crashDim  = 64
)

// crashDoc is version v of the document it belongs to (v % crashDocs):
// 1 to 40 records, each tagged with v and the record count, and vectors
// derived from v, so the parent can check every byte.
func crashDoc(v int) store.Document {
	id := fmt.Sprintf("doc-%02d", v%crashDocs)
	n := 1 + (v*7)%40
	d := store.Document{ID: id, Hash: "v" + strconv.Itoa(v)}
	rng := rand.New(rand.NewPCG(uint64(v), 42))
	for c := range n {
		d.Records = append(d.Records, store.Record{
			ID: fmt.Sprintf("%s/v%d/%d", id, v, c), DocID: id, Chunk: c,
			Text:     strings.Repeat("x", 100*c),
			Vector:   randVec(rng, crashDim),
			Metadata: map[string]any{"version": float64(v), "count": float64(n)},
		})
	}
	return d
}

func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestCrashConsistency")
	}
	flat.SetCompactMinBytes(256 << 10)
	v, _ := strconv.Atoi(os.Getenv("RAG_FLAT_CRASH_START"))
	s, err := flat.New(flat.Options{Path: path})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	deadline := time.Now().Add(60 * time.Second) // never outlive a dead parent for long
	for time.Now().Before(deadline) {
		batch := []store.Document{crashDoc(v)}
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

func TestCrashConsistency(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "crash.flat")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	reported := map[string]int{} // document -> last version reported written
	next := 0
	tmpSeen := 0
	for round := range 10 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+path, "RAG_FLAT_CRASH_START="+strconv.Itoa(next))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := 10 + rng.IntN(400)
		sc := bufio.NewScanner(out)
		lines := 0
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 3 && f[0] == "ok" {
				v, _ := strconv.Atoi(f[2])
				reported[f[1]] = max(reported[f[1]], v)
				next = max(next, v+1)
				if lines++; lines == killAfter {
					// Not synchronisation: a random delay moves the kill
					// off the moment right after a report, so it lands
					// anywhere in the child's write loop.
					time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
					cmd.Process.Signal(syscall.SIGKILL)
					break
				}
			} else if strings.HasPrefix(sc.Text(), "error") {
				t.Fatalf("child: %s", sc.Text())
			}
		}
		cmd.Wait()
		if lines < killAfter {
			t.Fatalf("round %d: child stopped after %d writes, before being killed", round, lines)
		}
		next += 3 // versions the child may have written after its last report

		tmps, _ := filepath.Glob(filepath.Join(dir, ".crash.flat*.tmp-*"))
		tmpSeen += len(tmps)
		s, err := flat.New(flat.Options{Path: path})
		if err != nil {
			t.Fatalf("round %d: reopening after the kill: %v", round, err)
		}
		checkCrashState(t, s, reported)
		if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*")); len(left) > 0 {
			t.Errorf("round %d: unfinished writes left after opening: %v", round, left)
		}
		// Half the rounds end with a clean Close (folding the log), half
		// with the store abandoned, so the next child starts from both.
		if round%2 == 0 {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		} else {
			flat.Abandon(s)
		}
	}
	t.Logf("%d documents reported written; the kills interrupted %d snapshot or log writes", len(reported), tmpSeen)
}

func checkCrashState(t *testing.T, s *flat.Store, reported map[string]int) {
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
			if !slices.Equal(r.Vector, w.Vector) {
				t.Errorf("%s version %d: record %d has another vector", id, v, c)
			}
		}
	}
}
