package container

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/explain"
	"github.com/minimal-docker/minimal-docker/internal/proc"
	"github.com/minimal-docker/minimal-docker/internal/rootless"
	"github.com/minimal-docker/minimal-docker/internal/seccomp"
)

// seccompFilter compiles the spec's linux.seccomp, or finds it in the
// cache in cacheDir, before anything is made: a bad profile leaves
// nothing. Nil when the spec has none. At --log-level debug it says which
// (step seccomp-compile or seccomp-cached) and what it cost, and why a
// compiled filter could not be cached.
func seccompFilter(s *specs.Spec, cacheDir string, dl debugLog, x *explain.Log) (*seccomp.Filter, error) {
	if s.Linux == nil || s.Linux.Seccomp == nil {
		x.Parent(0, "no seccomp filter (no linux.seccomp)")
		return nil, nil
	}
	t0 := time.Now()
	if cacheDir == "" && os.Getenv(seccomp.EnvCacheDir) == "" && rootless.Active() {
		// The user's: seccomp.DefaultCacheDir is not (when the runtime
		// directory is unusable, that default stays: nothing is kept).
		cacheDir, _ = rootless.RuntimeDir(filepath.Join(rootless.Name, "seccomp"))
	}
	r, err := seccomp.NewCache(cacheDir).Filter(s.Linux.Seccomp)
	if err != nil {
		return nil, err
	}
	x.Parent(time.Since(t0), "%s; installed by the init right before execve", seccomp.Summary(s.Linux.Seccomp, r))
	if r.Cached {
		dl.step("seccomp-cached", t0)
	} else {
		dl.step("seccomp-compile", t0)
	}
	if r.CacheErr != nil && dl.on {
		fmt.Fprintf(dl.w, "%s: debug: %v (the filter is not cached)\n", proc.Name(), r.CacheErr)
	}
	return r.Filter, nil
}
