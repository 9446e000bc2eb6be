package loader

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
)

// decodeText turns the bytes of a text into valid UTF-8, so no loader
// passes invalid bytes on. In order: a byte-order mark says UTF-8 or
// UTF-16; else the charset label the file declares (a Content-Type
// parameter, an HTML meta tag), when it is one the WHATWG Encoding
// Standard names; else valid UTF-8 is taken as it is; else the text is
// read as Windows-1252, the encoding of most 8-bit text that is not UTF-8
// (and a superset of ISO-8859-1's printable characters). The BOM is
// dropped. A label that names no encoding is an ErrMalformed error.
func decodeText(data []byte, label string) (string, error) {
	var enc encoding.Encoding
	switch {
	case bytes.HasPrefix(data, []byte{0xef, 0xbb, 0xbf}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}):
		enc = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM)
	case bytes.HasPrefix(data, []byte{0xfe, 0xff}):
		enc = unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM)
	case strings.TrimSpace(label) != "":
		e, name := charset.Lookup(strings.TrimSpace(label))
		if e == nil {
			return "", fmt.Errorf("%w: unknown character set %q", ErrMalformed, label)
		}
		if name != "utf-8" {
			enc = e
		}
	}
	if enc == nil {
		if utf8.Valid(data) {
			return string(data), nil
		}
		if label != "" {
			// Declared UTF-8 but not: repair it rather than guess.
			return strings.ToValidUTF8(string(data), "\uFFFD"), nil
		}
		enc, _ = charset.Lookup("windows-1252")
	}
	out, err := enc.NewDecoder().Bytes(data)
	if err != nil {
		return "", fmt.Errorf("%w: decoding text: %w", ErrMalformed, err)
	}
	// Decoders replace what they cannot map with U+FFFD, which is valid
	// UTF-8; this is a last guard.
	return strings.ToValidUTF8(string(out), "\uFFFD"), nil
}
