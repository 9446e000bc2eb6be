package tokenizer

import (
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestClassTable compares the class table with unicode.IsLetter, IsNumber
// and IsSpace (in the order the pattern's classes are tried) for every
// rune, and finds clOther past utf8.MaxRune.
func TestClassTable(t *testing.T) {
	for r := rune(0); r < classBlocks<<8; r++ {
		want := clOther
		switch {
		case r > utf8.MaxRune:
		case unicode.IsLetter(r):
			want = clLetter
		case unicode.IsNumber(r):
			want = clNumber
		case unicode.IsSpace(r):
			want = clSpace
		}
		if got := runeClass(r); got != want {
			t.Fatalf("runeClass(%U) = %d, want %d", r, got, want)
		}
		if got := classOf(r); got != want {
			t.Fatalf("classOf(%U) = %d, want %d", r, got, want)
		}
	}
	for _, r := range []rune{-1, classBlocks << 8, 1 << 30} {
		if got := classOf(r); got != clOther {
			t.Fatalf("classOf(%d) = %d, want clOther", r, got)
		}
	}
}

// TestDecodeValid compares decodeValid with utf8.DecodeRuneInString on
// every rune followed by bytes of each kind, and checks the size it gives
// for each lead byte (0 for those that start no rune).
func TestDecodeValid(t *testing.T) {
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		for _, pad := range []string{"\x00\x00\x00", "abc", "\xbf\xbf\xbf", "\xf4\x8f\xbf"} {
			s := string(r) + pad
			got, gotN := decodeValid(s, 0)
			want, wantN := utf8.DecodeRuneInString(s)
			if got != want || gotN != wantN {
				t.Fatalf("decodeValid(%q) = %U, %d, want %U, %d", s, got, gotN, want, wantN)
			}
		}
	}
	for c := 0x80; c < 0x100; c++ {
		wantN := 0 // a continuation byte, or a byte never in UTF-8
		switch {
		case c >= 0xc2 && c < 0xe0:
			wantN = 2
		case c >= 0xe0 && c < 0xf0:
			wantN = 3
		case c >= 0xf0 && c < 0xf5:
			wantN = 4
		}
		if _, n := decodeValid(string([]byte{byte(c), 0x80, 0x80, 0x80}), 0); n != wantN {
			t.Fatalf("decodeValid on lead byte %#x gives size %d, want %d", c, n, wantN)
		}
	}
}

// FuzzDecodeValid: on any bytes, decodeValid gives utf8's rune when the
// bytes are valid UTF-8, and never a rune past the class table.
func FuzzDecodeValid(f *testing.F) {
	for _, s := range []string{"abcd", "é123", "中文xx", "😀xyz", "\xf4\xbf\xbf\xbf", "\x80abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i := 0; i+4 <= len(s); i++ {
			r, n := decodeValid(s, i)
			if n == 0 {
				continue
			}
			if r < 0 || r >= classBlocks<<8 {
				t.Fatalf("decodeValid(%q, %d) = %U, past the class table", s, i, r)
			}
			if want, wantN := utf8.DecodeRuneInString(s[i:]); utf8.ValidString(s[i:i+wantN]) && want != utf8.RuneError && (r != want || n != wantN) {
				t.Fatalf("decodeValid(%q, %d) = %U, %d, want %U, %d", s, i, r, n, want, wantN)
			}
		}
	})
}

// BenchmarkClassTable: building the class table, which the package does
// once at init.
//
//	go test ./tokenizer -run '^$' -bench BenchmarkClassTable
func BenchmarkClassTable(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		buildClassTable()
	}
	b.ReportMetric(float64(len(classBlock)+8*len(classBits)), "table-bytes")
}
