package chromem_test

import (
	"testing"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
	"github.com/ragkit-go/rag/store/storetest"
)

func TestConformanceMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := chromem.New(chromem.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}, storetest.Options{})
}

func testPersistent(t *testing.T, opts chromem.Options) {
	newStore := func(t *testing.T) store.Store {
		o := opts
		o.Path = t.TempDir()
		s, err := chromem.New(o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	reopen := func(t *testing.T, st store.Store) store.Store {
		s := st.(*chromem.Store)
		path := s.Path()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		o := opts
		o.Path = path
		s2, err := chromem.New(o)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		t.Cleanup(func() { s2.Close() })
		return s2
	}
	storetest.Run(t, newStore, storetest.Options{Reopen: reopen})
}

func TestConformancePersistent(t *testing.T) { testPersistent(t, chromem.Options{}) }

func TestConformancePersistentCompressed(t *testing.T) {
	testPersistent(t, chromem.Options{Compress: true, Collection: "other"})
}
