package embed_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/embed"
)

// TestCacheKey: keys are the model, a zero byte and the hex SHA-256 of the
// text, as documented (caches that persist them keep finding them), for
// model names past the key's inline buffer too.
func TestCacheKey(t *testing.T) {
	for _, model := range []string{"", "openai:text-embedding-3-small:1536", strings.Repeat("m", 200)} {
		for _, text := range []string{"", "a", strings.Repeat("é text ", 300)} {
			sum := sha256.Sum256([]byte(text))
			if got, want := embed.CacheKey(model, text), model+"\x00"+hex.EncodeToString(sum[:]); got != want {
				t.Fatalf("CacheKey(%q, %d bytes) = %q, want %q", model, len(text), got, want)
			}
		}
	}
}
