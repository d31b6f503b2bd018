// Package interop proves minimal-runc as a drop-in for runc: real engines —
// containerd (through ctr), Podman and Docker — drive it exactly as they
// drive runc, and every check runs once with runc itself as the control.
// The Docker suite also trades image archives with minimal-docker: each
// loads and runs what the other saved (docker_archive_test.go).
//
// The tests run only with MD_INTEROP=1 and as root (`make test-interop`
// installs the engines from Debian and sets it); otherwise every test
// skips, so `go test ./...` and `make test` stay quick.
//
// Each test starts its engine itself, once per runtime, with a private
// root, state directory and socket under a temporary directory, on a
// busybox image that it builds itself (busybox-static into an OCI layout
// with umoci, then a docker-archive with skopeo: nothing is pulled). The
// checks of one engine and runtime are subtests named after the issue's
// list (TestContainerd/minimal-runc/exec); a check that needs an earlier
// one that failed fails as "not reached". The last check of each,
// no-leftovers, stops the engine by its PID and fails for every process,
// mount, cgroup directory, network interface, network namespace, iptables
// rule or runtime state directory left behind, then removes them. At the
// end TestMain prints the table of every check with the reason of each
// failure (the engine's error text, which carries the runtime's).
//
// Environment: MD_RUNC (the minimal-runc binary, with minimal-docker-helper
// beside it; default: go build ./cmd/minimal-runc and the helper into the
// temporary directory), MD_BIN (the minimal-docker
// binary, for the image archive checks; built the same way by default),
// MD_CONTROL_RUNC (the
// control, default the runc on PATH), MD_BUSYBOX (default /bin/busybox),
// MD_TIMEOUT (a Go duration, default 60s: the bound for every command and
// wait). go test's -run picks engines and runtimes: -run '/^runc$' runs
// only the control.
package interop

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// runtimeUnderTest is an OCI runtime binary that the engines are pointed at.
type runtimeUnderTest struct {
	name        string // subtest name: "runc" or "minimal-runc"
	path        string // absolute path of the binary
	dockerName  string // the name given to dockerd's --add-runtime
	defaultRoot string // its state root when the caller passes no --root
	control     bool   // runc: the checks must pass with it
}

// env is what TestMain prepared; read-only once the tests run.
var env struct {
	skip     string        // why every test skips; "" when they run
	tmp      string        // temporary directory holding everything
	timeout  time.Duration // bound for every command and wait
	busybox  string        // static busybox the image is built from
	mdocker  string        // the minimal-docker binary (image archive checks)
	runtimes []runtimeUnderTest

	hier *cgroups.Hierarchies // the cgroup layout in force
	self map[string]string    // this process's cgroup per controller ("" = v2)
}

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	switch {
	case os.Getenv("MD_INTEROP") != "1":
		env.skip = "set MD_INTEROP=1 to run the engine interop tests (make test-interop)"
	case os.Geteuid() != 0:
		env.skip = "the engine interop tests need root (sudo make test-interop)"
	}
	if env.skip != "" {
		fmt.Println("tests/interop:", env.skip, "- every test skips")
		return m.Run()
	}
	// A short directory: unix socket paths beneath it must fit 108 bytes.
	tmp, err := os.MkdirTemp("", "mdi-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests/interop:", err)
		return 1
	}
	hostBefore, since := snapshotResidue(), time.Now()
	defer func() {
		for _, msg := range restoreResidue(hostBefore, since) {
			fmt.Println("tests/interop:", msg)
		}
	}()
	defer testenv.RemoveTemp("tests/interop", tmp)
	if err := setup(tmp); err != nil {
		fmt.Fprintln(os.Stderr, "tests/interop: setup:", err)
		return 1
	}
	start := time.Now()
	code := m.Run()
	printResults(os.Stdout, time.Since(start))
	return code
}

// setup fills env: the runtimes, the busybox binary and the cgroup layout.
func setup(tmp string) error {
	env.tmp = tmp
	suite, err := testenv.SuiteSetup(tmp)
	if err != nil {
		return err
	}
	env.timeout, env.busybox = suite.Timeout, suite.Busybox

	control := os.Getenv("MD_CONTROL_RUNC")
	if control == "" {
		p, err := exec.LookPath("runc")
		if err != nil {
			return errors.New("no runc on PATH for the control (apt-get install runc, or set MD_CONTROL_RUNC)")
		}
		control = p
	}
	var minimal string
	if err := testenv.Binaries(tmp,
		testenv.Bin{Path: &minimal, Env: "MD_RUNC", Pkg: "./cmd/minimal-runc", Runtime: true},
		testenv.Bin{Path: &env.mdocker, Env: "MD_BIN", Pkg: "./cmd/minimal-docker", Runtime: true}); err != nil {
		return err
	}
	for _, p := range []*string{&control, &minimal, &env.mdocker} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return err
		}
		*p = abs
	}
	env.runtimes = []runtimeUnderTest{
		{name: "runc", path: control, dockerName: "control", defaultRoot: "/run/runc", control: true},
		{name: "minimal-runc", path: minimal, dockerName: "minimal", defaultRoot: "/run/minimal-docker"},
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
	fmt.Printf("tests/interop: runc %s (control), minimal-runc %s, cgroup mode %v, temp %s\n",
		control, minimal, hier.Mode, tmp)
	return nil
}

// requireInterop skips the test unless TestMain set everything up.
func requireInterop(t *testing.T) {
	t.Helper()
	if env.skip != "" {
		t.Skip(env.skip)
	}
}

// requireTools skips the test when a program it drives is not installed:
// that is this machine, not the runtime.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, name := range tools {
		if _, err := exec.LookPath(tool(name)); err != nil {
			t.Skipf("%s is not installed (make test-interop installs it): %v", name, err)
		}
	}
}

// debianPaths are where the Debian packages put the programs. A program
// of the same name earlier on PATH (a static docker CLI of another
// version in /usr/local/bin, say) is not the one the package tested.
var debianPaths = map[string]string{
	"containerd": "/usr/bin/containerd",
	"ctr":        "/usr/bin/ctr",
	"podman":     "/usr/bin/podman",
	"dockerd":    "/usr/sbin/dockerd",
	"docker":     "/usr/bin/docker",
	"umoci":      "/usr/bin/umoci",
	"skopeo":     "/usr/bin/skopeo",
}

// tool is the path of the named program: the Debian package's if it is
// there, else the name (looked up on PATH).
func tool(name string) string {
	if p, ok := debianPaths[name]; ok {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return name
}
