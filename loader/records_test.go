package loader_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/loader"
)

func TestCSVDefault(t *testing.T) {
	docs, err := loader.Load(t.Context(), &loader.File{Name: "people.csv", Data: []byte(
		"\xef\xbb\xbfname,city,note\nAda,London,\"wrote, first\nprogram\"\n,,\nAlan,Manchester,\n")})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 {
		t.Fatalf("%d documents, want 2 (the empty row skipped)", len(docs))
	}
	if docs[0].Content != "name: Ada\ncity: London\nnote: wrote, first\nprogram" {
		t.Errorf("row 1: %q", docs[0].Content)
	}
	if docs[1].Content != "name: Alan\ncity: Manchester" {
		t.Errorf("row 3: %q", docs[1].Content)
	}
	if docs[0].Metadata["row"] != 1.0 || docs[1].Metadata["row"] != 3.0 || docs[1].Source != "people.csv" {
		t.Errorf("rows %v %v, source %q", docs[0].Metadata["row"], docs[1].Metadata["row"], docs[1].Source)
	}
}

func TestCSVMapping(t *testing.T) {
	r := &loader.Registry{}
	r.Register("faq", loader.NewCSV(loader.RecordOptions{
		ID: "id", Title: "question", Content: []string{"answer"}, Metadata: []string{"topic", "_internal"}, Comma: ';',
	}), []string{".csv"}, nil)
	docs, err := r.Load(t.Context(), &loader.File{Name: "faq.csv", Data: []byte(
		"id;question;answer;topic;_internal\nq1;Why?;Because.;life;x\nq2;How?;;life;y\n")})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 {
		t.Fatalf("%d documents, want 1 (q2 has no answer)", len(docs))
	}
	d := docs[0]
	if d.ID != "q1" || d.Title != "Why?" || d.Content != "Because." {
		t.Errorf("got %+v", d)
	}
	checkMeta(t, d.Metadata, map[string]any{"topic": "life", "field_internal": "x", "row": 1.0, loader.MetaMIMEType: "text/csv"})
}

func TestCSVMalformed(t *testing.T) {
	_, err := loader.Load(t.Context(), &loader.File{Name: "a.csv", Data: []byte("a,b\n1,2\n3\n")})
	if !errorsIs(err, loader.ErrMalformed) || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("short row: %v, want ErrMalformed naming line 3", err)
	}
	_, err = loader.Load(t.Context(), &loader.File{Name: "a.csv", Data: []byte("a,b\n")})
	if !errorsIs(err, loader.ErrNoText) {
		t.Errorf("header only: %v, want ErrNoText", err)
	}
}

func TestTSV(t *testing.T) {
	docs, err := loader.Load(t.Context(), &loader.File{Name: "a.tsv", Data: []byte("k\tv\nx\ty, z\n")})
	if err != nil || docs[0].Content != "k: x\nv: y, z" {
		t.Errorf("got %v, %v", docs, err)
	}
}

func TestJSONL(t *testing.T) {
	data := `{"id": "a1", "title": "First", "body": "Hello", "n": 3, "ok": true, "tags": ["x", "y"], "obj": {"k": [1, 2]}, "none": null}

{"id": "a2", "title": "Second", "body": "World \u00e9", "n": 1.5}
{"id": "a3", "title": "No body"}
`
	docs, err := loader.Load(t.Context(), &loader.File{Name: "a.jsonl", Data: []byte(data)})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 3 {
		t.Fatalf("%d documents, want 3", len(docs))
	}
	if want := "id: a1\ntitle: First\nbody: Hello\nn: 3\nok: true\ntags: x, y\nobj: {\"k\":[1,2]}"; docs[0].Content != want {
		t.Errorf("default content %q, want %q", docs[0].Content, want)
	}
	if docs[2].Metadata["line"] != 4.0 {
		t.Errorf("line %v, want 4", docs[2].Metadata["line"])
	}

	mapped := loader.NewJSONL(loader.RecordOptions{ID: "id", Title: "title", Content: []string{"body"}, Metadata: []string{"n", "ok", "tags", "obj"}})
	docs, err = mapped.Load(t.Context(), &loader.File{Name: "a.jsonl", Data: []byte(data)})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].ID != "a1" || docs[0].Title != "First" || docs[1].Content != "World é" {
		t.Fatalf("mapped: %+v", docs)
	}
	m := docs[0].Metadata
	if m["n"] != 3.0 || m["ok"] != true || !slices.Equal(m["tags"].([]string), []string{"x", "y"}) || m["obj"] != `{"k":[1,2]}` {
		t.Errorf("metadata %v", m)
	}
}

func TestJSONLMalformed(t *testing.T) {
	for _, c := range []struct{ name, data string }{
		{"not an object", "{\"a\": 1}\n[1, 2]\n"},
		{"broken", "{\"a\": 1}\n{\"a\": \n"},
		{"two objects on a line", "{\"a\": 1} {\"b\": 2}\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := loader.Load(t.Context(), &loader.File{Name: "a.ndjson", Data: []byte(c.data)})
			if !errorsIs(err, loader.ErrMalformed) || !strings.Contains(err.Error(), "line ") {
				t.Errorf("got %v, want ErrMalformed naming the line", err)
			}
		})
	}
}
