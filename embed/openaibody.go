package embed

import (
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// go-openai encodes an embedding request three times: it marshals the
// request, unmarshals it into a map (a new string for every input) and
// marshals the map; that was a tenth of the client's CPU time in
// bench/ingest. OpenAI.embed gives go-openai a request without inputs
// (it still builds the URL, the headers and the errors) and hands the
// transport this body, encoded in one pass into one allocation.

// openAIRequestBody returns the JSON of an embeddings request for texts:
// the fields go-openai sends for the same request, with the inputs
// encoded as encoding/json encodes strings (byte for byte).
func openAIRequestBody(texts []string, model, format string, dims int) []byte {
	n := len(`{"input":[],"model":"","encoding_format":"","dimensions":}`) + len(model) + len(format) + 20
	for _, t := range texts {
		n += len(t) + 3
	}
	b := make([]byte, 0, n+n/16) // room for a few escapes
	b = append(b, `{"input":[`...)
	for i, t := range texts {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, t)
	}
	b = append(b, `],"model":`...)
	b = appendJSONString(b, model)
	if format != "" {
		b = append(b, `,"encoding_format":`...)
		b = appendJSONString(b, format)
	}
	if dims != 0 {
		b = append(b, `,"dimensions":`...)
		b = strconv.AppendInt(b, int64(dims), 10)
	}
	return append(b, '}')
}

// jsonSafe[c] reports whether the ASCII byte c is written as itself in a
// JSON string by encoding/json (which escapes the control characters,
// '"', '\\' and, for HTML, '<', '>' and '&').
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, exactly as encoding/json's
// Marshal writes it: invalid UTF-8 becomes U+FFFD, and U+2028, U+2029 and
// the HTML characters are escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		i += plainASCII(s[i:])
		if i == len(s) {
			break
		}
		if c := s[i]; c < utf8.RuneSelf { // one plainASCII stopped at: escaped
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// zeroBytes has the high bit set of each byte of x that is zero, and
// maybe of bytes above one that is: the lowest is exact.
func zeroBytes(x uint64) uint64 { return (x - ones) &^ x & highs }

// plainASCII returns the length of the longest prefix of s that is ASCII
// written as itself in a JSON string (see jsonSafe), reading eight bytes
// at a time: most text is.
func plainASCII(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		f := x | (x - ones*0x20) // high bit: not ASCII, or a control character
		// Pairs that differ in one bit share a test: '"' 0x22 and '&'
		// 0x26, '<' 0x3c and '>' 0x3e.
		f |= zeroBytes((x ^ ones*'"') &^ (ones * 0x04))
		f |= zeroBytes((x ^ ones*'<') &^ (ones * 0x02))
		f |= zeroBytes(x ^ ones*'\\')
		if f &= highs; f != 0 {
			return i + bits.TrailingZeros64(f)/8
		}
	}
	for ; i < len(s) && s[i] < utf8.RuneSelf && jsonSafe[s[i]]; i++ {
	}
	return i
}
