// Package digest computes the SHA-256 digests the module keys things by
// (document hashes and IDs, embedding cache keys) without the garbage of
// hash.Hash: writing a string to one copies it to the heap first, and
// hex.EncodeToString allocates twice. Ingestion computes a few of these
// for every document and chunk.
package digest

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
)

// Size is the length of a digest in hex: 64.
const Size = 2 * sha256.Size

// Of returns the SHA-256 of the bytes fill appends to an empty buffer.
// The buffer is reused: fill must not keep it.
func Of(fill func([]byte) []byte) [sha256.Size]byte {
	bp := buffers.Get().(*[]byte)
	b := fill((*bp)[:0])
	sum := sha256.Sum256(b)
	if cap(b) <= maxBuffer {
		*bp = b
		buffers.Put(bp)
	}
	return sum
}

// String returns the SHA-256 of s.
func String(s string) [sha256.Size]byte {
	return Of(func(b []byte) []byte { return append(b, s...) })
}

// AppendHex appends the hex of sum, lower case, to b.
func AppendHex(b []byte, sum []byte) []byte { return hex.AppendEncode(b, sum) }

// Hex returns the hex of sum, lower case, in one allocation.
func Hex(sum []byte) string {
	var out [Size]byte
	return string(AppendHex(out[:0], sum))
}

// buffers holds the buffers of Of; one grown past maxBuffer (for a very
// long text) is dropped rather than kept.
var buffers = sync.Pool{New: func() any { return new([]byte) }}

const maxBuffer = 1 << 20
