package embed_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
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

// TestMemoryCacheLRU: the cache keeps the most recently used vectors
// within its byte bound (a Get counts as a use, a Put of a held key
// replaces it), and hands out copies.
func TestMemoryCacheLRU(t *testing.T) {
	ctx := context.Background()
	vec := func(x float32) []float32 { return []float32{x, x, x, x} }
	size := len("k0") + 4*4 + 64 // what the cache counts for each entry
	c := embed.NewMemoryCache(3 * size)
	for i := range 3 {
		c.Put(ctx, fmt.Sprint("k", i), vec(float32(i)))
	}
	if _, ok := c.Get(ctx, "k0"); !ok { // k0 is now the newest: k1 the oldest
		t.Fatal("k0 missing before the cache is full")
	}
	c.Put(ctx, "k3", vec(3))
	if _, ok := c.Get(ctx, "k1"); ok || c.Len() != 3 {
		t.Fatalf("k1, the least recently used, kept (Len %d)", c.Len())
	}
	c.Put(ctx, "k2", vec(22)) // a replacement, no eviction
	for _, k := range []string{"k0", "k2", "k3"} {
		if _, ok := c.Get(ctx, k); !ok {
			t.Fatalf("%s evicted; Len %d", k, c.Len())
		}
	}
	c.Put(ctx, "k4", vec(4)) // k0 is the oldest now (Gets k0, k2, k3)
	if _, ok := c.Get(ctx, "k0"); ok {
		t.Fatal("k0 kept past the bound")
	}
	v, ok := c.Get(ctx, "k2")
	if !ok || !slices.Equal(v, vec(22)) {
		t.Fatalf("k2 = %v, %v; want the replacement", v, ok)
	}
	v[0] = -1
	if w, _ := c.Get(ctx, "k2"); w[0] != 22 {
		t.Fatal("Get returned the cache's own vector")
	}
	in := vec(5)
	c.Put(ctx, "k5", in)
	in[0] = -1
	if w, _ := c.Get(ctx, "k5"); w[0] != 5 {
		t.Fatal("Put kept the caller's vector")
	}
	c.Put(ctx, "huge", make([]float32, 3*size)) // larger than the bound: not kept, nothing evicted
	if _, ok := c.Get(ctx, "huge"); ok || c.Len() != 3 {
		t.Fatalf("an entry beyond the bound kept, or evicted others (Len %d)", c.Len())
	}
	// Down to one entry and back: the list's ends stay right.
	small := embed.NewMemoryCache(size)
	for i := range 5 {
		small.Put(ctx, fmt.Sprint("k", i), vec(float32(i)))
		if v, ok := small.Get(ctx, fmt.Sprint("k", i)); !ok || v[0] != float32(i) || small.Len() != 1 {
			t.Fatalf("k%d: %v, %v, Len %d", i, v, ok, small.Len())
		}
	}
}
