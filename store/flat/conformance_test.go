package flat_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/flat"
	"github.com/ragkit-go/rag/store/storetest"
)

func newFlat(t *testing.T, opts flat.Options) store.Store {
	t.Helper()
	s, err := flat.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return newFlat(t, flat.Options{})
	}, storetest.Options{})
}

// The quantized search keeps so many candidates here that it re-scores
// every record of the suite's small collections, so it must conform
// exactly; TestQuantizedRecall measures it where it does not.
func TestConformanceQuantized(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return newFlat(t, flat.Options{Quantize: true, Oversample: 1 << 16})
	}, storetest.Options{})
}

func TestConformancePersistent(t *testing.T) {
	runPersistent(t, func(t *testing.T, s *flat.Store) {
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
}

// Reopening after a crash (the store abandoned, never closed): the log
// alone carries every write back, and, with compactions at every few
// hundred bytes, the snapshots folded in the background carry the rest.
func TestConformanceCrashReopen(t *testing.T) {
	for _, compactAt := range []int64{64 << 20, 512} {
		t.Run(fmt.Sprintf("compact at %d bytes", compactAt), func(t *testing.T) {
			defer flat.SetCompactMinBytes(compactAt)()
			runPersistent(t, func(_ *testing.T, s *flat.Store) { flat.Abandon(s) })
		})
	}
}

// runPersistent runs the suite on persistent stores, reopened after leave
// is done with them.
func runPersistent(t *testing.T, leave func(*testing.T, *flat.Store)) {
	var paths sync.Map // store.Store -> its snapshot path
	open := func(t *testing.T, path string) store.Store {
		s := newFlat(t, flat.Options{Path: path})
		paths.Store(s, path)
		return s
	}
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "store.flat"))
	}, storetest.Options{
		Reopen: func(t *testing.T, s store.Store) store.Store {
			leave(t, s.(*flat.Store))
			path, _ := paths.Load(s)
			return open(t, path.(string))
		},
	})
}
