package eval

import (
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func writeFile(t *testing.T, path, content string, gz bool) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if gz {
		zw := gzip.NewWriter(f)
		if _, err := zw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
}

const (
	tinyCorpus = `{"_id": "d1", "title": "T1", "text": "one", "metadata": {"x": 1}}

{"_id": 2, "title": "", "text": "two"}
`
	tinyQueries = `{"_id": "q1", "text": "first"}
{"_id": "q2", "text": "unjudged"}
{"_id": "q3", "text": "third"}
`
	tinyQrels = "query-id\tcorpus-id\tscore\nq1\td1\t1\nq3\t2\t2\nq3\td1\t0\n"
)

func tinyDataset(t *testing.T, gz bool) string {
	dir := t.TempDir()
	name := "corpus.jsonl"
	if gz {
		name += ".gz"
	}
	writeFile(t, filepath.Join(dir, name), tinyCorpus, gz)
	writeFile(t, filepath.Join(dir, "queries.jsonl"), tinyQueries, false)
	writeFile(t, filepath.Join(dir, "qrels", "test.tsv"), tinyQrels, false)
	return dir
}

func TestLoadBEIR(t *testing.T) {
	for _, gz := range []bool{false, true} {
		ds, err := LoadBEIR(tinyDataset(t, gz), "test")
		if err != nil {
			t.Fatalf("gz=%v: %v", gz, err)
		}
		wantCorpus := []Doc{{"d1", "T1", "one"}, {"2", "", "two"}}
		if len(ds.Corpus) != 2 || ds.Corpus[0] != wantCorpus[0] || ds.Corpus[1] != wantCorpus[1] {
			t.Errorf("gz=%v: corpus = %+v, want %+v", gz, ds.Corpus, wantCorpus)
		}
		// q2 has no judgements in the split and is left out.
		if len(ds.Queries) != 2 || ds.Queries[0] != (Query{"q1", "first"}) || ds.Queries[1] != (Query{"q3", "third"}) {
			t.Errorf("gz=%v: queries = %+v", gz, ds.Queries)
		}
		if ds.Qrels["q3"]["2"] != 2 || ds.Qrels["q1"]["d1"] != 1 || len(ds.Qrels["q3"]) != 2 {
			t.Errorf("gz=%v: qrels = %v", gz, ds.Qrels)
		}
	}
}

func TestLoadBEIRErrors(t *testing.T) {
	t.Run("missing corpus", func(t *testing.T) {
		dir := tinyDataset(t, false)
		os.Remove(filepath.Join(dir, "corpus.jsonl"))
		_, err := LoadBEIR(dir, "test")
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want os.ErrNotExist", err)
		}
	})
	t.Run("missing split", func(t *testing.T) {
		_, err := LoadBEIR(tinyDataset(t, false), "dev")
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want os.ErrNotExist", err)
		}
	})
	t.Run("bad split name", func(t *testing.T) {
		if _, err := LoadBEIR(tinyDataset(t, false), "../x"); err == nil {
			t.Error("no error for a split with a path separator")
		}
	})
	bad := []struct {
		name, file, content string
		line                int
	}{
		{"bad json", "corpus.jsonl", "{\"_id\": \"a\"}\n{\"_id\": \n", 2},
		{"no id", "queries.jsonl", "{\"text\": \"x\"}\n", 1},
		{"bad score", "qrels/test.tsv", "q\td\tscore\nq1\td1\thigh\n", 2},
		{"two fields", "qrels/test.tsv", "q1\td1\n", 1},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			dir := tinyDataset(t, false)
			writeFile(t, filepath.Join(dir, c.file), c.content, false)
			_, err := LoadBEIR(dir, "test")
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want *FormatError matching ErrFormat", err)
			}
			if fe.Line != c.line || filepath.Base(fe.File) != filepath.Base(c.file) {
				t.Errorf("located at %s:%d, want %s:%d", fe.File, fe.Line, c.file, c.line)
			}
		})
	}
	t.Run("judged query missing", func(t *testing.T) {
		dir := tinyDataset(t, false)
		writeFile(t, filepath.Join(dir, "qrels", "test.tsv"), "q1\td1\t1\nq7\td1\t1\n", false)
		if _, err := LoadBEIR(dir, "test"); !errors.Is(err, ErrFormat) {
			t.Errorf("err = %v, want ErrFormat", err)
		}
	})
}

// sharedData finds ../shared/data/<name> beside the repository root.
func sharedData(t testing.TB, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root not found")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "data", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s absent: %v", p, err)
	}
	return p
}

func TestLoadBEIRSciFact(t *testing.T) {
	ds, err := LoadBEIR(sharedData(t, "scifact"), "test")
	if err != nil {
		t.Fatal(err)
	}
	judgements := 0
	for _, rel := range ds.Qrels {
		judgements += len(rel)
	}
	// SciFact as published by BEIR: 5,183 abstracts, 300 test queries,
	// 339 judgements.
	if len(ds.Corpus) != 5183 || len(ds.Queries) != 300 || judgements != 339 {
		t.Errorf("corpus %d, queries %d, judgements %d; want 5183, 300, 339", len(ds.Corpus), len(ds.Queries), judgements)
	}
	for _, d := range ds.Corpus {
		if d.ID == "" || d.Text == "" {
			t.Fatalf("document %+v lacks ID or text", d)
		}
	}
}
