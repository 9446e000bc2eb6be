package queue

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ragkit-go/rag/document"
)

// Kinds of the jobs, as River's job table names them.
const (
	KindIngest = "rag_ingest"
	KindDelete = "rag_delete"
)

// ingestArgs is the job of one document. River keys its uniqueness on the
// fields tagged unique: the document's ID and the hash of what it is made
// from (content or reference, title, tags, metadata).
type ingestArgs struct {
	ID   string `json:"id" river:"unique"`
	Hash string `json:"hash" river:"unique"`

	Content string      `json:"content,omitempty"` // inline
	Path    string      `json:"path,omitempty"`    // or a reference, under Options.FS
	Version string      `json:"version,omitempty"` // of the referenced file
	Title   string      `json:"title,omitempty"`
	Source  string      `json:"source,omitempty"`
	Tags    []string    `json:"tags,omitempty"`
	Meta    []metaValue `json:"meta,omitempty"` // validated: ExpiresAt is in it
	Spans   []spanValue `json:"spans,omitempty"`
}

func (ingestArgs) Kind() string { return KindIngest }

// deleteArgs is the job of deleting one document.
type deleteArgs struct {
	ID string `json:"id" river:"unique"`
}

func (deleteArgs) Kind() string { return KindDelete }

// uniqueOpts make a job unique while it waits or runs, not once it has
// completed: enqueueing a version again after a newer one must apply it.
var uniqueOpts = river.UniqueOpts{
	ByArgs: true,
	ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	},
}

// metaValue is a metadata value with its type, so that times stay times
// and numbers numbers through the job's JSON.
type metaValue struct {
	Key  string   `json:"k"`
	S    *string  `json:"s,omitempty"`
	B    *bool    `json:"b,omitempty"`
	F    *float64 `json:"f,omitempty"`
	T    *string  `json:"t,omitempty"` // RFC 3339 with nanoseconds
	List []string `json:"l,omitempty"`
	IsL  bool     `json:"il,omitempty"` // a []string, possibly empty
}

type spanValue struct {
	Kind  string `json:"k,omitempty"`
	Label string `json:"l,omitempty"`
	Start int    `json:"s"`
	End   int    `json:"e"`
}

// encodeMeta encodes metadata that document.Validate has normalised.
func encodeMeta(m map[string]any) ([]metaValue, error) {
	out := make([]metaValue, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		mv := metaValue{Key: k}
		switch x := m[k].(type) {
		case string:
			mv.S = &x
		case bool:
			mv.B = &x
		case float64:
			mv.F = &x
		case time.Time:
			s := x.UTC().Format(time.RFC3339Nano)
			mv.T = &s
		case []string:
			mv.List, mv.IsL = slices.Clone(x), true
		default:
			return nil, fmt.Errorf("%w: metadata %q has type %T", document.ErrInvalidDocument, k, x)
		}
		out = append(out, mv)
	}
	return out, nil
}

func decodeMeta(mvs []metaValue) (map[string]any, error) {
	if len(mvs) == 0 {
		return nil, nil
	}
	m := make(map[string]any, len(mvs))
	for _, mv := range mvs {
		switch {
		case mv.S != nil:
			m[mv.Key] = *mv.S
		case mv.B != nil:
			m[mv.Key] = *mv.B
		case mv.F != nil:
			m[mv.Key] = *mv.F
		case mv.T != nil:
			t, err := time.Parse(time.RFC3339Nano, *mv.T)
			if err != nil {
				return nil, fmt.Errorf("%w: metadata %q: %v", document.ErrInvalidDocument, mv.Key, err)
			}
			m[mv.Key] = t
		case mv.IsL:
			m[mv.Key] = mv.List
		default:
			return nil, fmt.Errorf("%w: metadata %q has no value", document.ErrInvalidDocument, mv.Key)
		}
	}
	return m, nil
}

// document returns the document an inline job carries, or the fields a
// referenced file's documents take (all but Content and Spans).
func (a *ingestArgs) document() (document.Document, error) {
	meta, err := decodeMeta(a.Meta)
	if err != nil {
		return document.Document{}, err
	}
	d := document.Document{
		ID: a.ID, Title: a.Title, Source: a.Source, Tags: a.Tags,
		Content: a.Content, Metadata: meta,
	}
	for _, sp := range a.Spans {
		d.Spans = append(d.Spans, document.Span{Kind: sp.Kind, Label: sp.Label, Start: sp.Start, End: sp.End})
	}
	return d, nil
}
