package eval

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrFormat is matched (through *FormatError) by every malformed line of
// a dataset file.
var ErrFormat = errors.New("eval: malformed dataset file")

// FormatError locates a malformed line in a dataset file.
type FormatError struct {
	File string // path of the file
	Line int    // line number, from 1
	Err  error  // what is wrong
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("eval: %s:%d: %v", e.File, e.Line, e.Err)
}

// Unwrap returns the cause; errors.Is(err, ErrFormat) is true as well.
func (e *FormatError) Unwrap() []error { return []error{ErrFormat, e.Err} }

// Doc is one document of a corpus.
type Doc struct {
	ID    string
	Title string
	Text  string
}

// Query is one query of a query set.
type Query struct {
	ID   string
	Text string
}

// Dataset is a retrieval benchmark: a corpus, queries and relevance
// judgements.
type Dataset struct {
	Corpus  []Doc   // in file order
	Queries []Query // the queries judged in the split, in file order
	Qrels   Qrels   // judgements of the split
}

// LoadBEIR reads a dataset in the BEIR layout from dir:
//
//   - corpus.jsonl (or corpus.jsonl.gz): one {"_id", "title", "text"} a line;
//   - queries.jsonl (or queries.jsonl.gz): one {"_id", "text"} a line;
//   - qrels/<split>.tsv: query-id, corpus-id, score separated by tabs, with
//     an optional header line.
//
// As BEIR's own loader does, Queries keeps only the queries that have
// judgements in the split. Other JSON fields (such as "metadata") are
// ignored; IDs written as JSON numbers are accepted. A malformed line is
// reported as a *FormatError; a judgement naming a query that
// queries.jsonl lacks is a *FormatError too.
func LoadBEIR(dir, split string) (*Dataset, error) {
	if split == "" || strings.ContainsAny(split, `/\`) {
		return nil, fmt.Errorf("eval: invalid split name %q", split)
	}
	qrels, err := loadQrels(filepath.Join(dir, "qrels", split+".tsv"))
	if err != nil {
		return nil, err
	}
	ds := &Dataset{Qrels: qrels}
	err = readJSONL(dir, "corpus.jsonl", func(raw []byte) error {
		var d struct {
			ID    jsonID `json:"_id"`
			Title string `json:"title"`
			Text  string `json:"text"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			return err
		}
		if d.ID == "" {
			return errors.New(`missing "_id"`)
		}
		ds.Corpus = append(ds.Corpus, Doc{ID: string(d.ID), Title: d.Title, Text: d.Text})
		return nil
	})
	if err != nil {
		return nil, err
	}
	found := map[string]bool{}
	err = readJSONL(dir, "queries.jsonl", func(raw []byte) error {
		var q struct {
			ID   jsonID `json:"_id"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(raw, &q); err != nil {
			return err
		}
		if q.ID == "" {
			return errors.New(`missing "_id"`)
		}
		if _, judged := qrels[string(q.ID)]; judged && !found[string(q.ID)] {
			found[string(q.ID)] = true
			ds.Queries = append(ds.Queries, Query{ID: string(q.ID), Text: q.Text})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for qid := range qrels {
		if !found[qid] {
			return nil, &FormatError{File: filepath.Join(dir, "qrels", split+".tsv"), Err: fmt.Errorf("query %q is judged but absent from queries.jsonl", qid)}
		}
	}
	return ds, nil
}

// jsonID accepts a JSON string or number.
type jsonID string

func (id *jsonID) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = jsonID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("_id must be a string or a number, got %s", b)
	}
	*id = jsonID(n.String())
	return nil
}

// openMaybeGz opens dir/name, or dir/name.gz when the first is absent.
func openMaybeGz(dir, name string) (io.ReadCloser, string, error) {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if err == nil {
		return f, path, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, path, fmt.Errorf("eval: %w", err)
	}
	gzPath := path + ".gz"
	f, err = os.Open(gzPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, path, fmt.Errorf("eval: neither %s nor %s exists: %w", name, name+".gz", os.ErrNotExist)
		}
		return nil, gzPath, fmt.Errorf("eval: %w", err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, gzPath, &FormatError{File: gzPath, Err: err}
	}
	return struct {
		io.Reader
		io.Closer
	}{zr, f}, gzPath, nil
}

// readJSONL calls fn with each non-blank line of dir/name[.gz].
func readJSONL(dir, name string, fn func([]byte) error) error {
	rc, path, err := openMaybeGz(dir, name)
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 0, 1<<20), 256<<20)
	line := 0
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		if err := fn(raw); err != nil {
			return &FormatError{File: path, Line: line, Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		return &FormatError{File: path, Line: line + 1, Err: err}
	}
	return nil
}

func loadQrels(path string) (Qrels, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	qrels := Qrels{}
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			continue
		}
		fields := strings.Split(text, "\t")
		if len(fields) != 3 {
			return nil, &FormatError{File: path, Line: line, Err: fmt.Errorf("want 3 tab-separated fields, got %d", len(fields))}
		}
		grade, err := strconv.Atoi(strings.TrimSpace(fields[2]))
		if err != nil {
			if line == 1 { // header: query-id corpus-id score
				continue
			}
			return nil, &FormatError{File: path, Line: line, Err: fmt.Errorf("score %q is not an integer", fields[2])}
		}
		qid, did := strings.TrimSpace(fields[0]), strings.TrimSpace(fields[1])
		if qid == "" || did == "" {
			return nil, &FormatError{File: path, Line: line, Err: errors.New("empty query or corpus ID")}
		}
		if qrels[qid] == nil {
			qrels[qid] = Judgements{}
		}
		qrels[qid][did] = grade
	}
	if err := sc.Err(); err != nil {
		return nil, &FormatError{File: path, Line: line + 1, Err: err}
	}
	return qrels, nil
}
