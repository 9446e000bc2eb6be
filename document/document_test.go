package document_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/store"
)

func TestID(t *testing.T) {
	a, b := document.ID("some text"), document.ID("some text!")
	if len(a) != 32 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Fatalf("ID = %q, want 32 hex digits", a)
	}
	if a == b || a != document.ID("some text") {
		t.Fatalf("ID not a function of the content: %q %q", a, b)
	}
}

func TestRecordID(t *testing.T) {
	if got := document.RecordID("doc#1", 12); got != "doc#1#12" {
		t.Fatalf("RecordID = %q", got)
	}
}

func TestValidate(t *testing.T) {
	bad := string([]byte{0xff, 'x'})
	for _, tc := range []struct {
		name string
		d    document.Document
		want error
	}{
		{"empty", document.Document{Content: " \n\t"}, document.ErrEmptyContent},
		{"utf8 content", document.Document{Content: bad}, document.ErrInvalidUTF8},
		{"utf8 title", document.Document{Content: "x", Title: bad}, document.ErrInvalidUTF8},
		{"utf8 id", document.Document{Content: "x", ID: bad}, document.ErrInvalidUTF8},
		{"utf8 tag", document.Document{Content: "x", Tags: []string{bad}}, document.ErrInvalidUTF8},
		{"utf8 meta key", document.Document{Content: "x", Metadata: map[string]any{bad: "v"}}, document.ErrInvalidUTF8},
		{"utf8 meta list", document.Document{Content: "x", Metadata: map[string]any{"k": []string{"a", bad}}}, document.ErrInvalidUTF8},
		{"reserved key", document.Document{Content: "x", Metadata: map[string]any{"_id": "v"}}, document.ErrInvalidDocument},
		{"NaN", document.Document{Content: "x", Metadata: map[string]any{"k": math.NaN()}}, document.ErrInvalidDocument},
		{"type", document.Document{Content: "x", Metadata: map[string]any{"k": struct{}{}}}, document.ErrInvalidDocument},
		{"summary key", document.Document{Content: "x", Metadata: map[string]any{document.MetaSummaryChunk: 1}}, document.ErrInvalidDocument},
		{"tags type", document.Document{Content: "x", Metadata: map[string]any{document.MetaTags: "a"}}, document.ErrInvalidDocument},
		{"expiry type", document.Document{Content: "x", Metadata: map[string]any{document.MetaExpiresAt: "tomorrow"}}, document.ErrInvalidDocument},
		{"ok", document.Document{Content: "x", Metadata: map[string]any{"n": 3, "t": time.Now()}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.d
			err := document.Validate(&d)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Validate = %v, want %v", err, tc.want)
			}
		})
	}
	// The metadata value errors also match the store's sentinel.
	d := document.Document{Content: "x", Metadata: map[string]any{"k": math.Inf(1)}}
	if err := document.Validate(&d); !errors.Is(err, store.ErrInvalidRecord) {
		t.Fatalf("Validate = %v, want store.ErrInvalidRecord too", err)
	}
}

func TestValidateNormalisesACopy(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))
	meta := map[string]any{"n": int32(7)}
	d := document.Document{Content: "x", Metadata: meta, ExpiresAt: exp}
	if err := document.Validate(&d); err != nil {
		t.Fatal(err)
	}
	if d.Metadata["n"] != float64(7) {
		t.Errorf("n = %#v, want float64(7)", d.Metadata["n"])
	}
	if got := d.Metadata[document.MetaExpiresAt]; got != exp.UTC() {
		t.Errorf("expiry = %#v, want %v", got, exp.UTC())
	}
	if len(meta) != 1 || meta["n"] != int32(7) {
		t.Errorf("caller's map modified: %#v", meta)
	}
	nd := document.Document{Content: "x", ExpiresAt: exp}
	if err := document.Validate(&nd); err != nil || nd.Metadata[document.MetaExpiresAt] != exp.UTC() {
		t.Errorf("expiry without metadata: %v %#v", err, nd.Metadata)
	}
}

func TestHash(t *testing.T) {
	base := func() document.Document {
		return document.Document{ID: "a", Title: "T", Source: "s", Content: "c", Tags: []string{"x"},
			Metadata: map[string]any{"n": 1, "b": true, "l": []string{"p"}, "t": time.Unix(5, 0)}}
	}
	hash := func(d document.Document, salts ...string) string {
		t.Helper()
		if err := document.Validate(&d); err != nil {
			t.Fatal(err)
		}
		return document.Hash(&d, salts...)
	}
	h0 := hash(base(), "model")
	if h0 != hash(base(), "model") {
		t.Fatal("Hash is not deterministic")
	}
	// Same value in another numeric type or time zone: the same records.
	same := base()
	same.Metadata["n"] = 1.0
	same.Metadata["t"] = time.Unix(5, 0).In(time.FixedZone("Y", -7200))
	if hash(same, "model") != h0 {
		t.Error("normalised metadata hashes differently")
	}
	// Every field and every salt counts; the ID does not (it is the key).
	for name, change := range map[string]func(*document.Document){
		"content":  func(d *document.Document) { d.Content += "!" },
		"title":    func(d *document.Document) { d.Title += "!" },
		"source":   func(d *document.Document) { d.Source += "!" },
		"tags":     func(d *document.Document) { d.Tags = append(d.Tags, "y") },
		"tag text": func(d *document.Document) { d.Tags[0] = "xx" },
		"meta":     func(d *document.Document) { d.Metadata["n"] = 2 },
		"meta key": func(d *document.Document) { d.Metadata["m"] = 1 },
		"list":     func(d *document.Document) { d.Metadata["l"] = []string{"p", "q"} },
		"bool":     func(d *document.Document) { d.Metadata["b"] = false },
		"expiry":   func(d *document.Document) { d.ExpiresAt = time.Unix(9, 0) },
		// A field boundary moved: length prefixes keep them apart.
		"boundary": func(d *document.Document) { d.Title, d.Source = "Ts", "" },
	} {
		d := base()
		change(&d)
		if hash(d, "model") == h0 {
			t.Errorf("changing %s keeps the hash", name)
		}
	}
	if hash(base(), "other model") == h0 || hash(base()) == h0 || hash(base(), "model", "v2") == h0 {
		t.Error("salts do not count")
	}
	id := base()
	id.ID = "b"
	if hash(id, "model") != h0 {
		t.Error("the ID changes the hash")
	}
}

func TestError(t *testing.T) {
	err := error(&document.Error{DocID: "d1", Err: document.ErrEmptyContent})
	if !errors.Is(err, document.ErrEmptyContent) || !strings.Contains(err.Error(), `"d1"`) {
		t.Fatalf("Error = %v", err)
	}
}

func TestValidateSpans(t *testing.T) {
	content := "page one\fpage two é"
	good := []document.Span{{Kind: document.SpanPage, Label: "1", Start: 0, End: 8}, {Kind: document.SpanPage, Label: "2", Start: 9, End: len(content)}}
	d := document.Document{Content: content, Spans: good}
	if err := document.Validate(&d); err != nil {
		t.Fatalf("valid spans: %v", err)
	}
	for name, spans := range map[string][]document.Span{
		"overlap":      {{Start: 0, End: 9}, {Start: 8, End: 10}},
		"reversed":     {{Start: 5, End: 2}},
		"outside":      {{Start: 0, End: len(content) + 1}},
		"out of order": {{Start: 9, End: 12}, {Start: 0, End: 8}},
		"splits rune":  {{Start: 0, End: len(content) - 1}},
	} {
		d := document.Document{Content: content, Spans: spans}
		if err := document.Validate(&d); !errors.Is(err, document.ErrInvalidDocument) {
			t.Errorf("%s: err = %v, want document.ErrInvalidDocument", name, err)
		}
	}
	if sp, ok := document.SpanAt(good, 10); !ok || sp.Label != "2" {
		t.Errorf("document.SpanAt(10) = %+v, %v; want page 2", sp, ok)
	}
	if _, ok := document.SpanAt(good, 8); ok {
		t.Errorf("document.SpanAt(8) found a span in the gap between pages")
	}
	plain := document.Document{Content: content}
	spanned := document.Document{Content: content, Spans: good}
	if document.Hash(&plain) == document.Hash(&spanned) {
		t.Errorf("spans do not change the hash")
	}
}
