package embed

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"strconv"
)

// The answer to a base64 embedding request is a few megabytes of JSON
// that is almost all base64. go-openai reads it with encoding/json, which
// scans it twice and copies every string; that was half the client's CPU
// time in bench/ingest. decodeBase64Embeddings reads the same answer in one
// pass, decoding each vector straight from the body's bytes. The transport
// hands its vectors to Embed and go-openai a short stand-in answer, so
// go-openai still makes the request, the errors and the retry headers. Any
// answer it does not understand is left for go-openai to decode as before.

var errFastDecode = errors.New("embed: answer not in the expected shape")

// decodeBase64Embeddings parses {"data":[{"index":i,"embedding":"<base64>"},
// ...], ...} in any key order, skipping other keys, and returns the vectors
// by index, each of dim components (dim 0: whatever the first has).
func decodeBase64Embeddings(body []byte) (vecs [][]float32, usage []byte, err error) {
	d := decoder{b: body}
	d.ws()
	if !d.eat('{') {
		return nil, nil, errFastDecode
	}
	type item struct {
		index int
		b64   []byte
	}
	var items []item
	for first := true; ; first = false {
		d.ws()
		if d.eat('}') {
			break
		}
		if !first && !(d.eat(',') && d.wsThen()) {
			return nil, nil, errFastDecode
		}
		key, ok := d.key()
		if !ok {
			return nil, nil, errFastDecode
		}
		switch string(key) { // no copy: the compiler compares the bytes
		case "data":
			if !d.eat('[') {
				return nil, nil, errFastDecode
			}
			for n := 0; ; n++ {
				d.ws()
				if d.eat(']') {
					break
				}
				if n > 0 && !(d.eat(',') && d.wsThen()) {
					return nil, nil, errFastDecode
				}
				it := item{index: -1}
				if !d.eat('{') {
					return nil, nil, errFastDecode
				}
				for f := 0; ; f++ {
					d.ws()
					if d.eat('}') {
						break
					}
					if f > 0 && !(d.eat(',') && d.wsThen()) {
						return nil, nil, errFastDecode
					}
					k, ok := d.key()
					if !ok {
						return nil, nil, errFastDecode
					}
					switch string(k) {
					case "index":
						if it.index, ok = d.int(); !ok {
							return nil, nil, errFastDecode
						}
					case "embedding":
						// Twice: the first would go unchecked (see base64String).
						if it.b64 != nil {
							return nil, nil, errFastDecode
						}
						if it.b64, ok = d.base64String(); !ok {
							return nil, nil, errFastDecode
						}
					default:
						if !d.skip() {
							return nil, nil, errFastDecode
						}
					}
				}
				if it.index < 0 || it.b64 == nil {
					return nil, nil, errFastDecode
				}
				items = append(items, it)
			}
		case "usage":
			start := d.i
			if !d.skip() {
				return nil, nil, errFastDecode
			}
			usage = body[start:d.i]
		default:
			if !d.skip() {
				return nil, nil, errFastDecode
			}
		}
	}
	d.ws()
	if d.i != len(d.b) || len(items) == 0 {
		return nil, nil, errFastDecode
	}
	// An allocation a vector, not one for all: a store may keep the
	// vectors themselves (store.VectorTaker), and one kept vector of a
	// shared array would keep the whole batch's alive after the other
	// documents are replaced or deleted.
	dim := base64.StdEncoding.DecodedLen(len(items[0].b64)) / 4
	vecs = make([][]float32, len(items))
	for _, it := range items {
		if it.index >= len(items) || vecs[it.index] != nil {
			return nil, nil, errFastDecode
		}
		v := make([]float32, dim)
		if !decodeFloats(v, it.b64) {
			// Not plain base64 (see base64String), or not one vector of
			// dim components.
			return nil, nil, errFastDecode
		}
		vecs[it.index] = v
	}
	return vecs, usage, nil
}

// The base64 alphabet's values, placed where they go in the three bytes a
// group of four characters decodes to, read as a little-endian number:
// b64Placed[k][c] holds the six bits of character c in position k of a
// group, so the OR of a group's four entries is b0 | b1<<8 | b2<<16, the
// group's bytes in memory order. invalidChar is set for a byte outside the
// alphabet.
var b64Placed = func() (t [4][256]uint32) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for k := range t {
		for c := range t[k] {
			t[k][c] = invalidChar
		}
	}
	for v, c := range []byte(alphabet) {
		for k := range t {
			be := uint32(v) << (18 - 6*k) // in the group read big-endian: b0<<16 | b1<<8 | b2
			t[k][c] = be>>16&0xff | be&0xff00 | (be&0xff)<<16
		}
	}
	return t
}()

const invalidChar = 1 << 31

// decodeFloats decodes s, the standard base64 (padded) of exactly
// 4*len(v) bytes, into v as little-endian float32s, and reports whether s
// was that. Vectors are almost all of an embedding answer: decoding four
// characters with four table look-ups, straight into the floats, is about
// twice as fast as base64.Decode followed by a pass converting its bytes;
// tables that put each character's bits where they go in the bytes (so
// that a float is its groups' ORs and shifts, no byte shuffling) save a
// third more.
func decodeFloats(v []float32, s []byte) bool {
	if len(s) != base64.StdEncoding.EncodedLen(4*len(v)) {
		return false
	}
	t := &b64Placed
	// Sixteen characters are four groups, twelve bytes, three floats.
	j := 0
	for ; len(s) >= 16 && j+3 <= len(v); s, j = s[16:], j+3 {
		g := s[:16:16]
		a := t[0][g[0]] | t[1][g[1]] | t[2][g[2]] | t[3][g[3]]
		b := t[0][g[4]] | t[1][g[5]] | t[2][g[6]] | t[3][g[7]]
		c := t[0][g[8]] | t[1][g[9]] | t[2][g[10]] | t[3][g[11]]
		d := t[0][g[12]] | t[1][g[13]] | t[2][g[14]] | t[3][g[15]]
		if (a|b|c|d)&invalidChar != 0 {
			return false
		}
		// Bytes 0-7 are a, b and the first two bytes of c; bytes 8-11
		// the last byte of c and d.
		x := uint64(a) | uint64(b)<<24 | uint64(c)<<48
		w := v[j : j+3 : j+3]
		w[0] = math.Float32frombits(uint32(x))
		w[1] = math.Float32frombits(uint32(x >> 32))
		w[2] = math.Float32frombits(c>>16 | d<<8)
	}
	// The rest (fewer than three floats, with the padding) the usual way.
	var raw [16]byte
	n, err := base64.StdEncoding.Decode(raw[:], s)
	if err != nil || n != 4*(len(v)-j) {
		return false
	}
	for k := range v[j:] {
		v[j+k] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*k:]))
	}
	return true
}

// decoder is a cursor over JSON bytes with just what the answer needs.
type decoder struct {
	b []byte
	i int
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) wsThen() bool { d.ws(); return true }

func (d *decoder) eat(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// key reads `"name" :` and returns name's bytes (in d.b); names with
// escapes are refused.
func (d *decoder) key() ([]byte, bool) {
	s, ok := d.plainString()
	if !ok {
		return nil, false
	}
	d.ws()
	if !d.eat(':') {
		return nil, false
	}
	d.ws()
	return s, true
}

// plainString reads a string without escapes and returns its bytes.
func (d *decoder) plainString() ([]byte, bool) {
	s, ok := d.base64String()
	for _, c := range s {
		if c == '\\' || c < 0x20 {
			return nil, false
		}
	}
	return s, ok
}

// base64String returns the bytes of a JSON string that is meant to hold
// base64, unchecked: the caller decodes them, and the decoding fails on
// an escape ('\\' is not a base64 character) and on a control character
// but '\r' and '\n', which the decoder skips and so leave the string
// longer than the encoding of what it decoded. Checking every byte here
// as plainString does cost a tenth of the client's time in bench/ingest.
func (d *decoder) base64String() ([]byte, bool) {
	if !d.eat('"') {
		return nil, false
	}
	end := bytes.IndexByte(d.b[d.i:], '"')
	if end < 0 {
		return nil, false
	}
	s := d.b[d.i : d.i+end]
	d.i += end + 1
	return s, true
}

func (d *decoder) int() (int, bool) {
	start := d.i
	if !d.number() {
		return 0, false
	}
	n, err := strconv.Atoi(string(d.b[start:d.i]))
	return n, err == nil
}

// number passes over a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number() bool {
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	d.eat('-')
	if d.eat('0') {
		// no more integer digits after a leading zero
	} else if digits() == 0 {
		return false
	}
	if d.eat('.') && digits() == 0 {
		return false
	}
	if d.eat('e') || d.eat('E') {
		if !d.eat('+') {
			d.eat('-')
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// skip passes over one JSON value of any kind.
func (d *decoder) skip() bool {
	d.ws()
	if d.i >= len(d.b) {
		return false
	}
	switch c := d.b[d.i]; {
	case c == '"':
		d.i++
		for d.i < len(d.b) {
			switch c := d.b[d.i]; {
			case c == '\\':
				if d.i+1 >= len(d.b) {
					return false
				}
				switch d.b[d.i+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					d.i += 2
				case 'u':
					if d.i+6 > len(d.b) {
						return false
					}
					for _, h := range d.b[d.i+2 : d.i+6] {
						if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
							return false
						}
					}
					d.i += 6
				default:
					return false
				}
			case c == '"':
				d.i++
				return true
			case c < 0x20:
				return false
			default:
				d.i++
			}
		}
		return false
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		d.i++
		for n := 0; ; n++ {
			d.ws()
			if d.eat(closer) {
				return true
			}
			if n > 0 && !(d.eat(',') && d.wsThen()) {
				return false
			}
			if c == '{' {
				if _, ok := d.key(); !ok {
					return false
				}
			}
			if !d.skip() {
				return false
			}
		}
	default: // number, true, false, null
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(d.b[d.i:], []byte(lit)) {
				d.i += len(lit)
				return true
			}
		}
		return d.number()
	}
}

// standIn is the short answer go-openai decodes in place of the real one
// once its vectors are taken: no items (Embed returns the vectors it
// took), and the original usage.
func standIn(usage []byte) []byte {
	b := []byte(`{"object":"list","data":[]`)
	if len(usage) > 0 {
		b = append(b, `,"usage":`...)
		b = append(b, usage...)
	}
	return append(b, '}')
}
