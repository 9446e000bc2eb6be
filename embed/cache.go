package embed

import (
	"context"
	"sync"

	"github.com/ragkit-go/rag/internal/digest"
)

// Cache stores embeddings by key, so a text embedded once is not embedded
// again. The pipeline keys entries with CacheKey: the embedder's name and a
// hash of the text.
//
// Concurrency: every method may be called concurrently.
//
// Ownership: Put must copy v if it keeps it (the caller may modify v
// afterwards); the vector Get returns belongs to the caller.
type Cache interface {
	Get(ctx context.Context, key string) ([]float32, bool)
	Put(ctx context.Context, key string, v []float32)
}

// CacheKey returns the cache key of text embedded by the model named model:
// the model name and the hex SHA-256 of the text.
func CacheKey(model, text string) string {
	sum := digest.String(text)
	var buf [128]byte // in one allocation, the string's
	b := append(append(buf[:0], model...), 0)
	return string(digest.AppendHex(b, sum[:]))
}

// MemoryCache is an in-memory least-recently-used Cache bounded in bytes.
type MemoryCache struct {
	mu       sync.Mutex
	maxBytes int
	bytes    int
	items    map[string]*cacheEntry
	// newest and oldest end the list of entries by last use, linked
	// through the entries themselves: one allocation an entry, not a
	// container/list element as well.
	newest, oldest *cacheEntry
}

type cacheEntry struct {
	key          string
	vec          []float32
	newer, older *cacheEntry
}

var _ Cache = (*MemoryCache)(nil)

// DefaultCacheBytes is the size of a MemoryCache created with maxBytes <= 0:
// 64 MiB, about 10,000 vectors of 1,536 dimensions.
const DefaultCacheBytes = 64 << 20

// NewMemoryCache returns an LRU cache holding at most maxBytes of vectors
// and keys (DefaultCacheBytes when maxBytes <= 0).
func NewMemoryCache(maxBytes int) *MemoryCache {
	if maxBytes <= 0 {
		maxBytes = DefaultCacheBytes
	}
	return &MemoryCache{maxBytes: maxBytes, items: make(map[string]*cacheEntry)}
}

func entrySize(key string, v []float32) int { return len(key) + 4*len(v) + 64 }

// Get returns a copy of the vector stored under key.
func (c *MemoryCache) Get(_ context.Context, key string) ([]float32, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.unlink(e)
	c.pushNewest(e)
	return append([]float32(nil), e.vec...), true
}

// Put stores a copy of v under key, evicting the least recently used
// entries beyond the size bound.
func (c *MemoryCache) Put(_ context.Context, key string, v []float32) {
	size := entrySize(key, v)
	if size > c.maxBytes {
		return
	}
	v = append([]float32(nil), v...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.bytes += size - entrySize(e.key, e.vec)
		e.vec = v
		c.unlink(e)
		c.pushNewest(e)
	} else {
		e := &cacheEntry{key: key, vec: v}
		c.items[key] = e
		c.pushNewest(e)
		c.bytes += size
	}
	for c.bytes > c.maxBytes {
		e := c.oldest
		c.unlink(e)
		delete(c.items, e.key)
		c.bytes -= entrySize(e.key, e.vec)
	}
}

// Len returns the number of cached vectors.
func (c *MemoryCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

func (c *MemoryCache) pushNewest(e *cacheEntry) {
	e.newer, e.older = nil, c.newest
	if c.newest != nil {
		c.newest.newer = e
	} else {
		c.oldest = e
	}
	c.newest = e
}

func (c *MemoryCache) unlink(e *cacheEntry) {
	if e.newer != nil {
		e.newer.older = e.older
	} else {
		c.newest = e.older
	}
	if e.older != nil {
		e.older.newer = e.newer
	} else {
		c.oldest = e.newer
	}
	e.newer, e.older = nil, nil
}
