package loader

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader/internal/mdwrite"
	"github.com/ragkit-go/rag/loader/internal/zipx"
)

// loadXLSX reads an Excel workbook (Office Open XML) with excelize: each
// sheet, in the workbook's order, is one span (kind document.SpanSheet,
// labelled with the sheet's name) holding the sheet's name as a heading
// and its cells as a Markdown table, the first row as the header. Cells
// show their formatted values; a formula shows the value the file cached
// for it (nothing is recalculated). Rows and columns with no text are
// dropped. A sheet with no cells (a chart sheet) has an empty span.
// Properties come from docProps/core.xml; page_count is the number of
// sheets.
//
// The Limits hold for what excelize inflates: the archive is checked
// first (entry count, and the entries' claimed sizes against
// MaxUncompressed), and Go's archive/zip fails any entry that inflates
// past its claimed size, so excelize never inflates more than the limit.
// Excelize never spills to temporary files here.
func loadXLSX(ctx context.Context, f *File) ([]document.Document, error) {
	a, err := openContainer(ctx, f)
	if err != nil {
		return nil, err
	}
	lim := f.Limits.WithDefaults()
	unzip := lim.MaxUncompressed
	if unzip < 0 {
		unzip = math.MaxInt64
	}
	if a.DeclaredSize() > uint64(unzip) {
		return nil, fmt.Errorf("%w: the workbook's entries claim %d bytes uncompressed, limit %d", ErrTooLarge, a.DeclaredSize(), unzip)
	}
	if !a.Has("xl/workbook.xml") && !a.Has("[Content_Types].xml") {
		return nil, fmt.Errorf("%w: a zip archive without a workbook", ErrMalformed)
	}
	// Excelize reads a sheet cut short as if it ended there; a sheet
	// must be well-formed XML to be read at all.
	for _, name := range a.Names() {
		lower := strings.ToLower(name)
		if !(strings.HasPrefix(lower, "xl/worksheets/") && strings.HasSuffix(lower, ".xml")) && lower != "xl/sharedstrings.xml" {
			continue
		}
		if err := xlsxWellFormed(ctx, a, name); err != nil {
			return nil, err
		}
	}
	props := ooxmlProperties(a)
	// UnzipXMLSizeLimit at the whole limit keeps every part in memory:
	// excelize would otherwise write large sheets to temporary files.
	wb, err := xlsxOpen(f.Data, excelize.Options{UnzipSizeLimit: unzip, UnzipXMLSizeLimit: unzip})
	if err != nil {
		return nil, err
	}
	defer wb.Close()
	var parts []officePart
	for _, name := range wb.GetSheetList() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rows, err := xlsxRows(wb, name)
		if err != nil {
			return nil, err
		}
		w := &mdwrite.Writer{}
		if rows = mdwrite.Trim(rows); len(rows) > 0 {
			w.HeadingText(2, name)
			w.Table(rows)
		}
		parts = append(parts, officePart{kind: document.SpanSheet, label: name, text: w.String()})
	}
	return officeDocument(mimeXLSX, props, "", parts)
}

// xlsxWellFormed reads the XML part name to its end.
func xlsxWellFormed(ctx context.Context, a *zipx.Archive, name string) error {
	b, err := readPart(a, name)
	if err != nil {
		return err
	}
	x := newXMLTokens(ctx, name, b)
	for {
		if _, err := x.next(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// xlsxOpen opens a workbook, turning excelize's failures (and panics,
// which its parser has on some malformed files) into ErrMalformed.
func xlsxOpen(data []byte, o excelize.Options) (wb *excelize.File, err error) {
	defer func() {
		if p := recover(); p != nil {
			wb, err = nil, fmt.Errorf("%w: excelize failed on the workbook: %v", ErrMalformed, p)
		}
	}()
	wb, err = excelize.OpenReader(bytes.NewReader(data), o)
	if err != nil {
		if wb != nil {
			wb.Close()
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return wb, nil
}

// xlsxRows returns the formatted cell values of a sheet; a chart sheet
// has none.
func xlsxRows(wb *excelize.File, sheet string) (rows [][]string, err error) {
	defer func() {
		if p := recover(); p != nil {
			rows, err = nil, fmt.Errorf("%w: excelize failed on sheet %q: %v", ErrMalformed, sheet, p)
		}
	}()
	rows, err = wb.GetRows(sheet)
	if err != nil {
		return nil, fmt.Errorf("%w: sheet %q: %w", ErrMalformed, sheet, err)
	}
	return rows, nil
}
