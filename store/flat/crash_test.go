package flat_test

import (
	"path/filepath"
	"testing"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/flat"
	"github.com/ragkit-go/rag/store/storetest"
)

// The crash test of storetest: a child process writing, killed with
// SIGKILL at random moments, ten rounds. The child folds its log into the
// snapshot every 256 KiB, so kills also land inside snapshot writes; half
// the reopened stores are closed (folding the log), half abandoned, so
// the next child starts from both.
var crashOptions = storetest.CrashOptions{
	Child: "TestCrashChild",
	Open: func(dir string, _ int) (store.Store, error) {
		flat.SetCompactMinBytes(256 << 10)
		return flat.New(flat.Options{Path: filepath.Join(dir, "crash.flat")})
	},
	Leftovers: func(dir string) []string {
		left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
		return left
	},
	Leave: func(s store.Store, round int) error {
		if round%2 == 0 {
			return s.(*flat.Store).Close()
		}
		flat.Abandon(s.(*flat.Store))
		return nil
	},
}

func TestCrashChild(t *testing.T) { storetest.CrashChild(t, crashOptions) }

func TestCrashConsistency(t *testing.T) {
	defer flat.SetCompactMinBytes(256 << 10)() // restored after the parent's reopens
	storetest.Crash(t, crashOptions)
}
