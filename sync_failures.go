package rag

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/ragkit-go/rag/loader"
)

// ErrFailedBefore: Sync did not read a file again because SyncFailures
// remembers that its loader failed on it and its stamp has not changed
// since. The error also matches the loader's sentinel of then
// (loader.ErrUnsupported, loader.ErrMalformed...).
var ErrFailedBefore = errors.New("rag: sync: failed before, unchanged since")

// SyncFailures remembers the files a loader failed on, by stamp (root,
// path, size, modification time, embedder), so that a Sync given it
// (SyncOptions.Failures) neither reads nor parses them again until they
// change: a failed file has no documents in the store to hold its stamp.
// Only a loader's failures are remembered (unsupported type, too large,
// malformed, encrypted, no text, timeout, panic), which depend on the
// file's bytes and the loaders; a file that could not be read, or whose
// documents failed in ingestion, is tried again. SyncOptions.Force, or a
// new SyncFailures after the loaders changed, tries every file again.
//
// The zero value is empty and ready to use. It marshals to JSON, to be
// kept between runs (cmd/rag keeps it in its store directory). Its
// methods may be called concurrently.
type SyncFailures struct {
	mu sync.Mutex
	m  map[string]syncFailure // by stamp
}

// syncFailure is one remembered failure.
type syncFailure struct {
	Root   string `json:"root"`
	Path   string `json:"path"`
	Format string `json:"format,omitempty"`
	Kind   string `json:"kind"` // the name of the loader sentinel it matched, in failureKinds
	Reason string `json:"reason"`
}

// failureKinds are the loader sentinels a remembered failure may match,
// by name.
var failureKinds = []struct {
	name string
	err  error
}{
	{"unsupported", loader.ErrUnsupported},
	{"too large", loader.ErrTooLarge},
	{"timeout", loader.ErrTimeout},
	{"encrypted", loader.ErrEncrypted},
	{"no text", loader.ErrNoText},
	{"panic", loader.ErrPanic},
	{"malformed", loader.ErrMalformed},
}

// kindErr returns the sentinel named name, or nil.
func kindErr(name string) error {
	for _, k := range failureKinds {
		if k.name == name {
			return k.err
		}
	}
	return nil
}

// kindOf names the first loader sentinel err matches, or "".
func kindOf(err error) string {
	for _, k := range failureKinds {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return ""
}

// Len returns the number of files remembered.
func (f *SyncFailures) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}

// MarshalJSON encodes the failures.
func (f *SyncFailures) MarshalJSON() ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(f.m)
}

// UnmarshalJSON replaces the failures with those of b. Entries of an
// unknown kind are dropped (those files are tried again).
func (f *SyncFailures) UnmarshalJSON(b []byte) error {
	var m map[string]syncFailure
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("rag: sync failures: %w", err)
	}
	maps.DeleteFunc(m, func(_ string, e syncFailure) bool { return kindErr(e.Kind) == nil })
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m = m
	return nil
}

// remembered returns the error to report for the file of stamp, if it
// failed before.
func (f *SyncFailures) remembered(stamp string) (error, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.m[stamp]
	if !ok {
		return nil, false
	}
	return &loader.Error{Name: e.Path, Format: e.Format, Err: &rememberedError{kind: kindErr(e.Kind), reason: e.Reason}}, true
}

// rememberedError is a failure Sync did not repeat.
type rememberedError struct {
	kind   error
	reason string
}

func (e *rememberedError) Error() string   { return e.reason + " (" + ErrFailedBefore.Error() + ")" }
func (e *rememberedError) Unwrap() []error { return []error{ErrFailedBefore, e.kind} }

// update replaces the failures remembered for root with those a Sync of
// it reports. Entries of other roots stay.
func (f *SyncFailures) update(root string, files []SyncedFile) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]syncFailure{}
	}
	maps.DeleteFunc(f.m, func(_ string, e syncFailure) bool { return e.Root == root })
	for _, sf := range files {
		if sf.Status != FileFailed || sf.Stamp == "" {
			continue
		}
		var re *rememberedError
		var le *loader.Error
		var de *DocumentError
		switch {
		case !errors.As(sf.Err, &le), errors.As(sf.Err, &de):
			// Not the loader's failure: the file could not be read, or
			// ingestion failed.
		case errors.As(sf.Err, &re):
			f.m[sf.Stamp] = syncFailure{Root: root, Path: sf.Path, Format: le.Format, Kind: kindOf(re.kind), Reason: re.reason}
		case errors.Is(sf.Err, context.Canceled), errors.Is(sf.Err, context.DeadlineExceeded):
		default:
			if k := kindOf(sf.Err); k != "" {
				f.m[sf.Stamp] = syncFailure{Root: root, Path: sf.Path, Format: le.Format, Kind: k, Reason: le.Err.Error()}
			}
		}
	}
}
