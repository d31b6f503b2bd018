// Package integration drives the minimal-docker binary as a user would:
// real containers from a busybox rootfs, as root. A file per area; the
// shared helpers (running the binary, reading cgroup files, the leftover
// check every test goes through) are in helpers_test.go.
//
// TestMain builds what the tests need into a temporary directory:
//
//   - the binaries: go build ./cmd/minimal-docker and ./cmd/minimal-runc,
//     with minimal-docker-helper (the container's init) and the monitor
//     beside them, unless MD_BIN and MD_RUNC name them (put the helper and
//     the monitor beside those);
//   - the probe (tests/probe, CGO_ENABLED=0), unless MD_PROBE names one;
//   - a busybox rootfs from MD_BUSYBOX or /bin/busybox, with the probe at
//     /bin/probe.
//
// With MD_BIN, MD_RUNC and MD_PROBE set the compiled test binary (go test -c) runs
// where there is no Go toolchain. MD_TIMEOUT (a Go duration, default 60s)
// bounds every wait. Not as root, every test skips.
package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// env is what TestMain prepared; read-only once the tests run.
var env struct {
	tmp     string        // the temporary directory holding everything below
	bin     string        // the minimal-docker binary under test
	runc    string        // the minimal-runc binary under test
	probe   string        // the probe binary (also at /bin/probe in rootfs)
	busybox string        // the static busybox the rootfs is made from
	rootfs  string        // the busybox rootfs shared by the tests
	timeout time.Duration // bound for every wait

	hier *cgroups.Hierarchies // the cgroup layout in force
	self map[string]string    // this process's cgroup per controller ("" = v2)
}

// notExecutable is a rootfs file that exists but has no execute bit.
const notExecutable = "/usr/local/bin/not-executable"

func TestMain(m *testing.M) {
	os.Exit(testenv.RootSuite(m, "tests/integration", setup))
}

// setup fills env: builds or finds the binaries, builds the rootfs, and
// detects the cgroup layout.
func setup(tmp string) error {
	env.tmp = tmp
	suite, err := testenv.SuiteSetup(tmp)
	if err != nil {
		return err
	}
	env.timeout, env.busybox = suite.Timeout, suite.Busybox

	if err := testenv.Binaries(tmp,
		testenv.Bin{Path: &env.bin, Env: "MD_BIN", Pkg: "./cmd/minimal-docker", Runtime: true},
		testenv.Bin{Path: &env.runc, Env: "MD_RUNC", Pkg: "./cmd/minimal-runc", Runtime: true},
		testenv.Bin{Path: &env.probe, Env: "MD_PROBE", Pkg: "./tests/probe"},
	); err != nil {
		return err
	}

	env.rootfs = filepath.Join(tmp, "rootfs")
	if err := testenv.BuildBusyboxRootfs(env.rootfs, env.busybox, map[string]string{"/bin/probe": env.probe}); err != nil {
		return err
	}
	// For exit code 126: a file that exists but cannot be executed.
	if err := os.WriteFile(filepath.Join(env.rootfs, notExecutable), []byte("#!/bin/sh\necho should not run\n"), 0o644); err != nil {
		return err
	}

	hier, err := cgroups.FindHierarchies()
	if err != nil {
		return fmt.Errorf("cgroups.FindHierarchies: %w", err)
	}
	self, err := cgroups.SelfPaths()
	if err != nil {
		return fmt.Errorf("cgroups.SelfPaths: %w", err)
	}
	env.hier, env.self = hier, self
	fmt.Printf("tests/integration: binary %s, rootfs %s, cgroup mode %v\n", env.bin, env.rootfs, hier.Mode)
	return nil
}
