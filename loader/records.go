package loader

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/ragkit-go/rag/document"
)

// RecordOptions map the fields of a CSV row or a JSON Lines object to a
// document. A zero RecordOptions makes every field content.
type RecordOptions struct {
	// ID names the field holding the document's ID; "" lets the pipeline
	// derive it from the content.
	ID string
	// Title names the field holding the document's title.
	Title string
	// Content names the fields that make the content. With one field the
	// content is its value; with several, or with none named (meaning
	// every field not used as ID, Title or Metadata), a line
	// "name: value" a field, in the file's order.
	Content []string
	// Metadata names the fields copied into the document's metadata under
	// their own names: CSV values as strings, JSON ones as strings,
	// numbers, booleans or string lists (other values as JSON text). A
	// field may be both content and metadata.
	Metadata []string
	// Comma is the CSV field separator (default ',').
	Comma rune
}

// NewCSV returns a loader of CSV files whose first row names the fields:
// a document a row, mapped by o. Rows with no content are skipped. Each
// document's metadata holds "row", its row number (the header is row 0),
// unless a Metadata field has that name. A row that does not parse, or has another number of fields than the
// header, fails the file with ErrMalformed, naming its line.
func NewCSV(o RecordOptions) Loader {
	return LoaderFunc(func(ctx context.Context, f *File) ([]document.Document, error) {
		return loadCSV(ctx, f, o)
	})
}

// NewJSONL returns a loader of JSON Lines files (one JSON object a line):
// a document a line, mapped by o. Blank lines are skipped, and so are
// objects with no content. Each document's metadata holds "line", its
// line number from 1, unless a Metadata field has that name. A line that
// is not a JSON object fails the file with ErrMalformed, naming it.
func NewJSONL(o RecordOptions) Loader {
	return LoaderFunc(func(ctx context.Context, f *File) ([]document.Document, error) {
		return loadJSONL(ctx, f, o)
	})
}

// field is one named value of a record, in the file's order.
type field struct {
	name string
	text string // the value as text
	meta any    // the value as metadata
}

// record builds the document of one record, at position pos (a row, a
// line) under posKey in its metadata unless a field is named so, with its
// media type; ok is false when it has no content.
func (o *RecordOptions) record(fields []field, posKey string, pos int, mediaType string) (document.Document, bool) {
	d := document.Document{Metadata: map[string]any{posKey: pos, MetaMIMEType: mediaType}}
	var content []field
	for _, fl := range fields {
		switch {
		case fl.name == o.ID && o.ID != "":
			d.ID = strings.TrimSpace(fl.text)
		case fl.name == o.Title && o.Title != "":
			d.Title = strings.TrimSpace(fl.text)
		case len(o.Content) > 0 && slices.Contains(o.Content, fl.name),
			len(o.Content) == 0 && !slices.Contains(o.Metadata, fl.name):
			if strings.TrimSpace(fl.text) != "" {
				content = append(content, fl)
			}
		}
		if slices.Contains(o.Metadata, fl.name) && fl.meta != nil {
			d.Metadata[metaKey(fl.name)] = fl.meta
		}
	}
	if len(content) == 0 {
		return d, false
	}
	if len(o.Content) == 1 {
		d.Content = content[0].text
		return d, true
	}
	var b strings.Builder
	for i, fl := range content {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(fl.name + ": " + strings.TrimSpace(fl.text))
	}
	d.Content = b.String()
	return d, true
}

// metaKey keeps a field's name out of the keys the document model
// reserves.
func metaKey(name string) string {
	if strings.HasPrefix(name, "_") || strings.HasPrefix(name, "rag_") || name == "" {
		return "field" + name
	}
	return name
}

func loadCSV(ctx context.Context, f *File, o RecordOptions) ([]document.Document, error) {
	text, err := decodeText(f.Data, mimeCharset(f.MIME))
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(strings.NewReader(text))
	if o.Comma != 0 {
		r.Comma = o.Comma
	}
	r.ReuseRecord = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, ErrNoText
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	header = slices.Clone(header)
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
	}
	var docs []document.Document
	for row := 1; ; row++ {
		if row%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		fields := make([]field, len(rec))
		for i, v := range rec {
			fields[i] = field{name: header[i], text: v, meta: v}
		}
		if d, ok := o.record(fields, "row", row, "text/csv"); ok {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		return nil, ErrNoText
	}
	return docs, nil
}

func loadJSONL(ctx context.Context, f *File, o RecordOptions) ([]document.Document, error) {
	text, err := decodeText(f.Data, mimeCharset(f.MIME))
	if err != nil {
		return nil, err
	}
	var docs []document.Document
	n := 0
	for line := range strings.Lines(text) {
		n++
		if n%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		fields, err := jsonFields([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrMalformed, n, err)
		}
		if d, ok := o.record(fields, "line", n, "application/jsonl"); ok {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		return nil, ErrNoText
	}
	return docs, nil
}

// jsonFields reads one JSON object's members in order.
func jsonFields(line []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var fields []field
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		fields = append(fields, jsonField(name, raw))
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("text after the JSON object")
	}
	return fields, nil
}

func jsonField(name string, raw json.RawMessage) field {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	_ = dec.Decode(&v) // raw is one valid JSON value
	switch x := v.(type) {
	case nil:
		return field{name: name}
	case string:
		return field{name: name, text: x, meta: x}
	case bool:
		return field{name: name, text: strconv.FormatBool(x), meta: x}
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return field{name: name, text: x.String(), meta: f}
		}
		return field{name: name, text: x.String(), meta: x.String()}
	case []any:
		strs := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				strs = nil
				break
			}
			strs = append(strs, s)
		}
		if strs != nil {
			return field{name: name, text: strings.Join(strs, ", "), meta: strs}
		}
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, raw)
	return field{name: name, text: compact.String(), meta: compact.String()}
}
