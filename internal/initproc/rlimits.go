package initproc

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/plan"
)

// rlimitTypes is the kernel's table of process.rlimits types
// (setrlimit(2)), kept with the plan that carries them.
var rlimitTypes = plan.Rlimits

// rlimit is one process.rlimits entry resolved.
type rlimit struct {
	name     string
	resource int
	lim      unix.Rlimit
}

// parseRlimits resolves process.rlimits: an unknown type, a duplicate type
// or a soft limit above the hard one is an error naming it.
func parseRlimits(rl []specs.POSIXRlimit) ([]rlimit, error) {
	seen := map[string]bool{}
	out := make([]rlimit, 0, len(rl))
	for _, r := range rl {
		res, ok := rlimitTypes[r.Type]
		if !ok {
			return nil, fmt.Errorf("process.rlimits: unknown type %q (want one of setrlimit(2)'s, such as RLIMIT_NOFILE)", r.Type)
		}
		if seen[r.Type] {
			return nil, fmt.Errorf("process.rlimits: %s is given more than once", r.Type)
		}
		seen[r.Type] = true
		if r.Soft > r.Hard {
			return nil, fmt.Errorf("process.rlimits %s: soft limit %d is above hard limit %d", r.Type, r.Soft, r.Hard)
		}
		out = append(out, rlimit{name: r.Type, resource: res, lim: unix.Rlimit{Cur: r.Soft, Max: r.Hard}})
	}
	return out, nil
}
