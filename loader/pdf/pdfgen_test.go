package pdf_test

import (
	"bytes"
	"crypto/md5"
	"crypto/rc4"
	"encoding/binary"
	"fmt"
	"strings"
)

// testPDF describes a small PDF the tests write themselves: pages of text
// in Helvetica (with the codes 1 to 5 drawing the ligatures fi, fl, ff,
// ffi and ffl), and optionally metadata, page labels and encryption.
type testPDF struct {
	pages    []string          // each page's content stream
	info     map[string]string // the document information dictionary
	lang     string            // the catalog's /Lang
	labels   string            // the catalog's /PageLabels dictionary, raw
	password string            // encrypts with the standard security handler (RC4, 40 bits) and this user password
}

// textPage returns a content stream that writes lines of text from the
// top of the page, one under the other, in 12 pt Helvetica.
func textPage(lines ...string) string {
	var b strings.Builder
	b.WriteString("BT /F1 12 Tf 14 TL 72 720 Td\n")
	for _, l := range lines {
		fmt.Fprintf(&b, "(%s) Tj T*\n", pdfEscape(l))
	}
	b.WriteString("ET\n")
	return b.String()
}

// imagePage is a page with no text: a filled rectangle, as a scan has
// an image and nothing else.
const imagePage = "0.5 g 72 72 468 648 re f\n"

func pdfEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(s)
}

// padding is the standard security handler's password padding (PDF
// 32000-1, 7.6.3.3).
var padding = []byte("\x28\xBF\x4E\x5E\x4E\x75\x8A\x41\x64\x00\x4E\x56\xFF\xFA\x01\x08\x2E\x2E\x00\xB6\xD0\x68\x3E\x80\x2F\x0C\xA9\xFE\x64\x53\x69\x7A")

func pad(pw string) []byte { return append([]byte(pw), padding...)[:32] }

func rc4Crypt(key, data []byte) []byte {
	c, _ := rc4.NewCipher(key)
	out := make([]byte, len(data))
	c.XORKeyStream(out, data)
	return out
}

func (t testPDF) bytes() []byte {
	var (
		objs []string // objs[i] is object i+1's body
		key  []byte   // the file key when encrypted
	)
	id := []byte("0123456789abcdef")
	var o []byte
	const perms = int32(-4) // all permissions
	if t.password != "" {
		ok := md5.Sum(pad("owner"))
		o = rc4Crypt(ok[:5], pad(t.password))
		h := md5.New()
		h.Write(pad(t.password))
		h.Write(o)
		binary.Write(h, binary.LittleEndian, perms)
		h.Write(id)
		key = h.Sum(nil)[:5]
	}
	// str writes s as a string of object num, encrypted if the file is.
	str := func(num int, s string) string {
		if key == nil {
			return "(" + pdfEscape(s) + ")"
		}
		return fmt.Sprintf("<%x>", rc4Crypt(objKey(key, num), []byte(s)))
	}
	stream := func(num int, s string) string {
		data := []byte(s)
		if key != nil {
			data = rc4Crypt(objKey(key, num), data)
		}
		return fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(data), data)
	}
	n := len(t.pages)
	// 1 catalog, 2 pages, 3 font, then page and content pairs, then info.
	var catalog strings.Builder
	catalog.WriteString("<< /Type /Catalog /Pages 2 0 R")
	if t.lang != "" {
		catalog.WriteString(" /Lang " + str(1, t.lang))
	}
	if t.labels != "" {
		catalog.WriteString(" /PageLabels " + t.labels)
	}
	catalog.WriteString(" >>")
	objs = append(objs, catalog.String())
	var kids []string
	for i := range n {
		kids = append(kids, fmt.Sprintf("%d 0 R", 4+2*i))
	}
	objs = append(objs, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n))
	objs = append(objs, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [1 /fi /fl /ff /ffi /ffl] >> >>")
	for i, content := range t.pages {
		objs = append(objs, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i))
		objs = append(objs, stream(5+2*i, content))
	}
	infoRef := ""
	if len(t.info) > 0 {
		num := len(objs) + 1
		var b strings.Builder
		b.WriteString("<<")
		for k, v := range t.info {
			fmt.Fprintf(&b, " /%s %s", k, str(num, v))
		}
		b.WriteString(" >>")
		objs = append(objs, b.String())
		infoRef = fmt.Sprintf(" /Info %d 0 R", num)
	}
	encRef := ""
	if key != nil {
		u := rc4Crypt(key, padding)
		objs = append(objs, fmt.Sprintf("<< /Filter /Standard /V 1 /R 2 /O <%x> /U <%x> /P %d >>", o, u, perms))
		encRef = fmt.Sprintf(" /Encrypt %d 0 R", len(objs))
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n")
	offsets := make([]int, len(objs))
	for i, body := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, body)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R%s%s /ID [<%x> <%x>] >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, infoRef, encRef, id, id, xref)
	return b.Bytes()
}

// objKey is the RC4 key of object num, generation 0 (7.6.2, algorithm 1).
func objKey(key []byte, num int) []byte {
	h := md5.New()
	h.Write(key)
	h.Write([]byte{byte(num), byte(num >> 8), byte(num >> 16), 0, 0})
	return h.Sum(nil)[:min(len(key)+5, 16)]
}
