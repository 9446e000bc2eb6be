package lexical

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

func sampleIndex(t *testing.T, opts Options) *Index {
	t.Helper()
	ix := New(opts)
	for i := range 50 {
		doc := fmt.Sprintf("doc-%02d", i)
		es := []Entry{
			{doc + "#0", fmt.Sprintf("chunk zero of document %d about topic%d and cats", i, i%7)},
			{doc + "#1", fmt.Sprintf("second chunk mentions dogs %d times, topic%d", i, i%5)},
		}
		must(t, ix.Upsert(doc, es))
	}
	ix.Delete("doc-03", "doc-17") // leaves dead records in the postings
	return ix
}

var probeQueries = []string{"cats", "dogs topic3", "chunk document", "topic1 topic2 topic4", "nothing-matches"}

func TestWriteReadRoundTrip(t *testing.T) {
	ix := sampleIndex(t, Options{})
	var buf bytes.Buffer
	n, err := ix.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d, %v; buffer has %d", n, err, buf.Len())
	}
	saved := append([]byte(nil), buf.Bytes()...)

	back := New(Options{})
	must(t, back.Upsert("to-be-replaced", []Entry{{"x", "cats cats cats"}}))
	m, err := back.ReadFrom(&buf)
	if err != nil || m != int64(len(saved)) {
		t.Fatalf("ReadFrom = %d, %v", m, err)
	}
	if back.Len() != ix.Len() || back.Docs() != ix.Docs() || back.Has("to-be-replaced") {
		t.Fatalf("loaded Len %d Docs %d, want %d %d", back.Len(), back.Docs(), ix.Len(), ix.Docs())
	}
	for _, q := range probeQueries {
		sameHits(t, q, back.Search(q, 20, nil), ix.Search(q, 20, nil))
	}
	// Deterministic format: writing the loaded index gives the same bytes.
	var again bytes.Buffer
	if _, err := back.WriteTo(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), saved) {
		t.Error("re-written index differs from the original file")
	}
	// The loaded index keeps working: writes after loading.
	must(t, back.Upsert("doc-00", []Entry{{"doc-00#0", "zebra"}}))
	if hits := back.Search("zebra", 5, nil); len(hits) != 1 {
		t.Errorf("after load and upsert: %v", hits)
	}
}

func TestReadFromRejects(t *testing.T) {
	ix := sampleIndex(t, Options{})
	var buf bytes.Buffer
	if _, err := ix.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }

	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"not an index", []byte("hello world, this is not an index file"), ErrCorrupt},
		{"truncated header", good[:10], ErrCorrupt},
		{"truncated payload", good[:len(good)/2], ErrCorrupt},
		{"missing checksum", good[:len(good)-2], ErrCorrupt},
		{"flipped payload byte", mutate(func(b []byte) []byte { b[40] ^= 0x20; return b }), ErrCorrupt},
		{"flipped checksum", mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), ErrCorrupt},
		{"future version", mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], 2); return b }), ErrVersion},
		{"huge length", mutate(func(b []byte) []byte { binary.LittleEndian.PutUint64(b[12:], 1<<39); return b }), ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			target := sampleIndex(t, Options{})
			before := target.Search("cats", 100, nil)
			if _, err := target.ReadFrom(bytes.NewReader(c.data)); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			sameHits(t, "unchanged after failed read", target.Search("cats", 100, nil), before)
		})
	}
}

func TestCorruptPayloadWithValidChecksum(t *testing.T) {
	// A payload that passes the checksum but is inconsistent (for example
	// written by a buggy tool) is refused by the decoder.
	for _, payload := range [][]byte{
		{0x00, 0x05},                   // analyzer "", 5 terms but no bytes
		{0x00, 0x00, 0x01, 0x01, 'd'},  // one document, then nothing
		{0x00, 0x00, 0x00, 0xff, 0xff}, // trailing bytes
	} {
		var hdr [20]byte
		copy(hdr[:], fileMagic)
		binary.LittleEndian.PutUint32(hdr[8:], fileVersion)
		binary.LittleEndian.PutUint64(hdr[12:], uint64(len(payload)))
		data := append(hdr[:], payload...)
		data = binary.LittleEndian.AppendUint32(data, crc32c(data))
		ix := New(Options{Analyzer: AnalyzerFunc(func(string) []string { return nil })})
		if _, err := ix.ReadFrom(bytes.NewReader(data)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("payload %x: err = %v, want ErrCorrupt", payload, err)
		}
	}
}

func TestAnalyzerMismatch(t *testing.T) {
	ix := sampleIndex(t, Options{})
	var buf bytes.Buffer
	if _, err := ix.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	other := New(Options{Analyzer: English{NoStemming: true}})
	if _, err := other.ReadFrom(bytes.NewReader(buf.Bytes())); !errors.Is(err, ErrAnalyzerMismatch) {
		t.Errorf("err = %v, want ErrAnalyzerMismatch", err)
	}
	// K1 and B are search-time settings: a different K1 loads fine.
	if _, err := New(Options{K1: 2}).ReadFrom(bytes.NewReader(buf.Bytes())); err != nil {
		t.Errorf("different K1: %v", err)
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bm25.idx")
	ix := sampleIndex(t, Options{})
	must(t, ix.Save(path))
	// Overwrite with a changed index: the file is replaced as a whole.
	ix.Delete("doc-00")
	must(t, ix.Save(path))
	loaded, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Has("doc-00") || loaded.Len() != ix.Len() {
		t.Errorf("loaded Len %d (has doc-00: %v), want %d", loaded.Len(), loaded.Has("doc-00"), ix.Len())
	}
	for _, q := range probeQueries {
		sameHits(t, q, loaded.Search(q, 10, nil), ix.Search(q, 10, nil))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := ix.Save(filepath.Join(dir, "missing", "x.idx")); err == nil {
		t.Error("Save into a missing directory succeeded")
	}
	if _, err := Load(filepath.Join(dir, "absent.idx"), Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v", err)
	}
	os.WriteFile(path, []byte("garbage"), 0o644)
	if _, err := Load(path, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Load of garbage: %v", err)
	}
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }
