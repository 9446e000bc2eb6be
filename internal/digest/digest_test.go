package digest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/internal/digest"
)

// TestSame: the digests and their hex are crypto/sha256's and
// encoding/hex's, for texts of every size (past the largest buffer kept).
func TestSame(t *testing.T) {
	for _, n := range []int{0, 1, 55, 64, 1000, 1<<20 + 1, 3} {
		s := strings.Repeat("é~", n/2) + strings.Repeat("x", n%2)
		want := sha256.Sum256([]byte(s))
		if got := digest.String(s); got != want {
			t.Fatalf("String of %d bytes = %x, want %x", len(s), got, want)
		}
		if got, want := digest.Hex(want[:]), hex.EncodeToString(want[:]); got != want {
			t.Fatalf("Hex = %s, want %s", got, want)
		}
		if got := digest.Of(func(b []byte) []byte { return append(append(b, s...), '!') }); got != sha256.Sum256([]byte(s+"!")) {
			t.Fatalf("Of differs from crypto/sha256 for %d bytes", len(s))
		}
	}
}

func BenchmarkString(b *testing.B) {
	s := strings.Repeat("a passage of prose, ", 25)
	b.ReportAllocs()
	for b.Loop() {
		digest.Hex(func() []byte { s := digest.String(s); return s[:] }())
	}
}
