package pdf

import (
	"strconv"
	"strings"
	"time"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader"
)

// readMetadata copies the document information dictionary's title,
// author and dates, and the catalog's language, into d, where the PDF
// gives them.
func readMetadata(p pdfium.Pdfium, doc references.FPDF_DOCUMENT, d *document.Document) {
	meta := func(tag string) string {
		r, err := p.FPDF_GetMetaText(&requests.FPDF_GetMetaText{Document: doc, Tag: tag})
		if err != nil {
			return ""
		}
		return strings.TrimSpace(cleanLine(r.Value))
	}
	d.Title = meta("Title")
	if s := meta("Author"); s != "" {
		d.Metadata[loader.MetaAuthor] = s
	}
	if t, ok := parseDate(meta("CreationDate")); ok {
		d.Metadata[loader.MetaCreated] = t
	}
	if t, ok := parseDate(meta("ModDate")); ok {
		d.Metadata[loader.MetaModified] = t
	}
	if r, err := p.FPDFCatalog_GetLanguage(&requests.FPDFCatalog_GetLanguage{Document: doc}); err == nil {
		if s := strings.TrimSpace(cleanLine(r.Language)); s != "" {
			d.Metadata[loader.MetaLanguage] = s
		}
	}
}

// parseDate reads a PDF date (PDF 32000-1 §7.9.4): "D:YYYYMMDDHHmmSSOHH'mm'",
// where everything after the year is optional, O is +, - or Z, and the
// "D:" prefix and the apostrophes are often missing or misplaced. A time
// without a zone is taken as UTC.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "D:")
	digits := func(n int) (int, bool) {
		if len(s) < n {
			return 0, false
		}
		v, err := strconv.Atoi(s[:n])
		if err != nil || strings.ContainsAny(s[:n], "+- ") {
			return 0, false
		}
		s = s[n:]
		return v, true
	}
	year, ok := digits(4)
	if !ok {
		return time.Time{}, false
	}
	f := [5]int{1, 1, 0, 0, 0} // month, day, hour, minute, second
	for i := range f {
		v, ok := digits(2)
		if !ok {
			break
		}
		f[i] = v
	}
	if f[0] < 1 || f[0] > 12 || f[1] < 1 || f[1] > 31 || f[2] > 23 || f[3] > 59 || f[4] > 60 {
		return time.Time{}, false
	}
	loc := time.UTC
	if s != "" && (s[0] == '+' || s[0] == '-') {
		sign := 1
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
		h, ok := digits(2)
		if ok && h <= 23 {
			s = strings.TrimPrefix(s, "'")
			m, _ := digits(2)
			if m > 59 {
				m = 0
			}
			off := sign * (h*3600 + m*60)
			if off != 0 {
				loc = time.FixedZone("", off)
			}
		}
	}
	return time.Date(year, time.Month(f[0]), f[1], f[2], f[3], f[4], 0, loc).UTC(), true
}
