//go:build !unix

package tokenizer

import "time"

// cpuTime reports no CPU time where getrusage is not available.
func cpuTime() (time.Duration, bool) { return 0, false }
