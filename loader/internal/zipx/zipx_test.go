package zipx

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

type entry struct{ name, body string }

func archive(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// lyingArchive holds one entry whose header claims claimed bytes but
// which inflates to actual zero bytes.
func lyingArchive(t *testing.T, claimed uint64, actual int) []byte {
	t.Helper()
	body := make([]byte, actual)
	var deflated bytes.Buffer
	fw, _ := flate.NewWriter(&deflated, flate.BestCompression)
	fw.Write(body)
	fw.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: "bomb.xml", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(body),
		CompressedSize64: uint64(deflated.Len()), UncompressedSize64: claimed,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(deflated.Bytes())
	zw.Close()
	return buf.Bytes()
}

func TestReadFileMatchesNamesExactlyThenFolded(t *testing.T) {
	a, err := Open(archive(t, entry{"word/document.xml", "doc"}, entry{"[Content_Types].xml", "ct"}), Limits{MaxUncompressed: -1, MaxEntries: -1})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"word/document.xml": "doc", "/word/document.xml": "doc", "WORD/Document.XML": "doc", "[content_types].xml": "ct"} {
		got, err := a.ReadFile(name)
		if err != nil || string(got) != want {
			t.Errorf("ReadFile(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := a.ReadFile("word/missing.xml"); !errors.Is(err, ErrNotExist) {
		t.Errorf("missing entry: %v, want ErrNotExist", err)
	}
}

func TestBudgetCountsInflatedBytesAcrossEntries(t *testing.T) {
	data := archive(t, entry{"a", strings.Repeat("x", 600)}, entry{"b", strings.Repeat("y", 600)})
	a, err := Open(data, Limits{MaxUncompressed: 1000, MaxEntries: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.ReadFile("a"); err != nil {
		t.Fatalf("first entry within the budget: %v", err)
	}
	if _, err := a.ReadFile("b"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("second entry past the budget: %v, want ErrTooLarge", err)
	}
}

func TestEntryThatInflatesPastItsClaimIsStopped(t *testing.T) {
	// The header claims 10 bytes; the data inflates to 4 MiB of zeros.
	data := lyingArchive(t, 10, 4<<20)
	a, err := Open(data, Limits{MaxUncompressed: 1 << 20, MaxEntries: 10})
	if err != nil {
		t.Fatal(err)
	}
	if a.DeclaredSize() != 10 {
		t.Fatalf("DeclaredSize = %d, want the header's 10", a.DeclaredSize())
	}
	b, err := a.ReadFile("bomb.xml")
	if err == nil {
		t.Fatalf("read %d bytes of an entry that lies about its size", len(b))
	}
	if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrTooLarge or ErrCorrupt", err)
	}
}

func TestEntryThatClaimsTooMuchIsStoppedByActualBytes(t *testing.T) {
	// An honest 4 MiB entry against a 1 MiB budget: stopped while
	// inflating, whatever the header says.
	data := lyingArchive(t, 4<<20, 4<<20)
	a, err := Open(data, Limits{MaxUncompressed: 1 << 20, MaxEntries: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.ReadFile("bomb.xml"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func TestOpenLimitsEntries(t *testing.T) {
	data := archive(t, entry{"a", "1"}, entry{"b", "2"}, entry{"c", "3"})
	if _, err := Open(data, Limits{MaxUncompressed: -1, MaxEntries: 2}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("3 entries, limit 2: %v, want ErrTooLarge", err)
	}
	if _, err := Open(data, Limits{MaxUncompressed: -1, MaxEntries: 3}); err != nil {
		t.Fatalf("3 entries, limit 3: %v", err)
	}
}

func TestOpenRejectsNonZip(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("plain text"), []byte("PK\x03\x04 truncated")} {
		if _, err := Open(data, Limits{MaxUncompressed: -1, MaxEntries: -1}); !errors.Is(err, ErrNotZip) {
			t.Errorf("Open(%q) = %v, want ErrNotZip", data, err)
		}
	}
}

func TestEncryptedOOXMLIsRecognised(t *testing.T) {
	cfb := append(append([]byte{}, cfbMagic...), make([]byte, 504)...)
	if !IsCFB(cfb) || IsEncryptedOOXML(cfb) {
		t.Fatalf("a bare CFB: IsCFB %v, IsEncryptedOOXML %v; want true, false", IsCFB(cfb), IsEncryptedOOXML(cfb))
	}
	enc := append(cfb, utf16le("EncryptionInfo")...)
	if !IsEncryptedOOXML(enc) {
		t.Fatal("a CFB with an EncryptionInfo stream is not recognised as encrypted")
	}
	if IsCFB(archive(t, entry{"a", "b"})) {
		t.Fatal("a zip taken for a CFB")
	}
}

func TestResolve(t *testing.T) {
	for _, c := range []struct{ base, target, want string }{
		{"word/document.xml", "styles.xml", "word/styles.xml"},
		{"ppt/presentation.xml", "slides/slide1.xml", "ppt/slides/slide1.xml"},
		{"ppt/slides/slide1.xml", "../notesSlides/notesSlide1.xml", "ppt/notesSlides/notesSlide1.xml"},
		{"", "word/document.xml", "word/document.xml"},
		{"a/b.xml", "/docProps/core.xml", "docProps/core.xml"},
		{"EPUB/nav.xhtml", "text/ch1.xhtml#sec", "EPUB/text/ch1.xhtml"},
		{"a.xml", "../../../../etc/passwd", "etc/passwd"},
	} {
		if got := Resolve(c.base, c.target); got != c.want {
			t.Errorf("Resolve(%q, %q) = %q, want %q", c.base, c.target, got, c.want)
		}
	}
}
