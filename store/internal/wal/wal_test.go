package wal

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A failed fsync breaks the log: the write waiting for it gets the error,
// and so does every later Append and Sync, since the store can no longer
// say what is durable.
func TestFailedSyncBreaksLog(t *testing.T) {
	boom := errors.New("disk on fire")
	fail := false
	l, err := Create(filepath.Join(t.TempDir(), "x.log"), []byte("h"), Options{Sync: func(f *os.File) error {
		if fail {
			return boom
		}
		return f.Sync()
	}})
	if err != nil {
		t.Fatal(err)
	}
	pos, err := l.Append([]byte("one"))
	if err != nil || l.Sync(pos) != nil {
		t.Fatalf("first record: %v, %v", err, l.Sync(pos))
	}
	fail = true
	pos, err = l.Append([]byte("two"))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Sync(pos); !errors.Is(err, boom) {
		t.Errorf("Sync after a failed fsync: %v, want %v", err, boom)
	}
	if _, err := l.Append([]byte("three")); !errors.Is(err, boom) {
		t.Errorf("Append after a failed fsync: %v, want %v", err, boom)
	}
	l.Retire()
}

// Open replays the whole records, cuts a torn tail, and appends after the
// last whole record; Header reads the header alone.
func TestOpenCutsTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	l, err := Create(path, []byte("head"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"a", "bb", "ccc"} {
		if _, err := l.Append([]byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, b[:len(b)-1], 0o644); err != nil { // tear "ccc"
		t.Fatal(err)
	}
	if h, err := Header(path); err != nil || string(h) != "head" {
		t.Fatalf("Header = %q, %v", h, err)
	}
	var got []string
	l, err = Open(path, Options{}, func(rec []byte) error { got = append(got, string(rec)); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "a" || got[1] != "bb" {
		t.Fatalf("replayed %q, want [a bb]", got)
	}
	if _, err := l.Append([]byte("d")); err != nil {
		t.Fatal(err)
	}
	l.Close()
	got = nil
	l, err = Open(path, Options{}, func(rec []byte) error { got = append(got, string(rec)); return nil })
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if len(got) != 3 || got[2] != "d" {
		t.Errorf("after appending past the cut: %q, want [a bb d]", got)
	}
}
