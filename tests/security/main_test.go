// The Go runtime would otherwise keep the cgroup CPU files open (for
// GOMAXPROCS), and the test binary, when it serves as the escape helper,
// would report them as leaked descriptors.
//
//go:debug containermaxprocs=0

// Package security is the adversarial suite of issue 5: from inside a
// container, a static helper (tests/security/escape, at /bin/escape in a
// busybox rootfs) attempts one escape per case, and each case is a row of a
// table with the outcome expected under the defaults, the defence
// responsible for it, and what Docker documents under --privileged and
// --cap-add. After every case the host is checked to be unchanged.
//
// TestMain builds what the tests need into a temporary directory:
//
//   - the binaries: go build ./cmd/minimal-docker and ./cmd/minimal-runc
//     (and the container init and minimal-docker-helper beside them),
//     unless MD_BIN and MD_RUNC name them;
//   - the helper (CGO_ENABLED=0 go build ./tests/security/escape), unless
//     MD_ESCAPE names one; without a Go toolchain a statically linked test
//     binary serves as the helper itself (run as "escape", TestMain hands
//     over to it), so that `go test -c` with CGO_ENABLED=0 runs in the
//     cgroup v2 lane like tests/integration;
//   - a busybox rootfs from MD_BUSYBOX or /bin/busybox, with the helper at
//     /bin/escape.
//
// Before any case it checks that a default container has its own PID,
// mount and UTS namespaces; if not, every test skips and says why, loudly.
// MD_TIMEOUT (a Go duration, default 60s) bounds every wait. Not as root,
// every test skips.
package security

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/testenv"
	"github.com/minimal-docker/minimal-docker/tests/security/internal/escapes"
)

// env is what TestMain prepared; read-only once the tests run.
var env struct {
	tmp     string // the temporary directory holding everything below
	bin     string // minimal-docker under test
	runc    string // minimal-runc under test
	escape  string // the helper (also at /bin/escape in rootfs)
	busybox string
	rootfs  string        // the busybox rootfs shared by the tests
	marker  string        // a host file outside every rootfs
	timeout time.Duration // bound for every wait

	hostNS    string     // ESCAPE_HOST_NS: the host's pid, mnt and uts namespaces
	blockdev  hostDevice // a block device of the host (mknod-block)
	chardev   hostDevice // a character device no container gets (mknod-char)
	cgroupV2  bool
	facts     hostFacts
	isolation string // why the suite cannot run (not isolated), or ""
	// pending: defences that have not landed, by name, with what shows it.
	pending map[string]string
}

func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "escape" {
		// This test binary serves as the helper in the container.
		os.Exit(escapes.Main(os.Args))
	}
	os.Exit(testenv.RootSuite(m, "tests/security", setupAndSay))
}

// setupAndSay is setup, then the banner when the suite skips as a whole.
func setupAndSay(tmp string) error {
	if err := setup(tmp); err != nil {
		return err
	}
	if env.isolation != "" {
		banner := strings.Repeat("!", 78)
		fmt.Printf("%s\ntests/security: SKIPPING THE WHOLE SUITE: %s\n%s\n", banner, env.isolation, banner)
	}
	return nil
}

// setup fills env.
func setup(tmp string) error {
	env.tmp = tmp
	suite, err := testenv.SuiteSetup(tmp)
	if err != nil {
		return err
	}
	env.timeout, env.busybox = suite.Timeout, suite.Busybox
	if err := findBinaries(tmp); err != nil {
		return err
	}
	env.rootfs = filepath.Join(tmp, "rootfs")
	if err := buildRootfs(env.rootfs); err != nil {
		return err
	}
	env.marker = filepath.Join(tmp, "host-marker")
	if err := os.WriteFile(env.marker, []byte("seeing this file from a container is an escape\n"), 0o644); err != nil {
		return err
	}
	ns, err := ownNamespaces()
	if err != nil {
		return err
	}
	env.hostNS = ns
	env.blockdev = firstBlockDevice()
	env.chardev = spareCharDevice()
	mode, err := cgroups.Detect()
	if err != nil {
		return fmt.Errorf("cgroups.Detect: %w", err)
	}
	env.cgroupV2 = mode == cgroups.V2
	env.facts = readHostFacts()
	env.isolation = checkIsolation()
	env.pending = detectPending()
	fmt.Printf("tests/security: binary %s, runc %s, helper %s, rootfs %s, cgroup mode %v\n", env.bin, env.runc, env.escape, env.rootfs, mode)
	fmt.Printf("tests/security: host: %s\n", env.facts)
	fmt.Printf("tests/security: devices: block %s, char %s\n", env.blockdev, env.chardev)
	for _, d := range []string{"seccomp", "devcgroup", "sealing"} {
		if why, ok := env.pending[d]; ok {
			fmt.Printf("tests/security: defence not landed: %s (%s)\n", d, why)
		} else {
			fmt.Printf("tests/security: defence landed: %s\n", d)
		}
	}
	return nil
}

// findBinaries builds or finds minimal-docker, minimal-runc and the helper.
func findBinaries(tmp string) error {
	if os.Getenv("MD_ESCAPE") == "" {
		if _, err := testenv.ModuleRoot(); err != nil {
			// No source tree (the cgroup v2 lane): this test binary is the
			// helper, if it can run in a busybox rootfs.
			self, err := os.Executable()
			if err != nil {
				return err
			}
			if static, err := testenv.IsStatic(self); err != nil || !static {
				return fmt.Errorf("MD_ESCAPE is not set and this test binary (%s) is not statically linked (build it with CGO_ENABLED=0), so it cannot serve as the helper", self)
			}
			env.escape = self
		}
	}
	bins := []testenv.Bin{
		{Path: &env.bin, Env: "MD_BIN", Pkg: "./cmd/minimal-docker", Runtime: true},
		{Path: &env.runc, Env: "MD_RUNC", Pkg: "./cmd/minimal-runc", Runtime: true},
	}
	if env.escape == "" {
		bins = append(bins, testenv.Bin{Path: &env.escape, Env: "MD_ESCAPE", Pkg: "./tests/security/escape"})
	}
	if err := testenv.Binaries(tmp, bins...); err != nil {
		return err
	}
	if static, err := testenv.IsStatic(env.escape); err != nil || !static {
		return fmt.Errorf("the helper %s must be a static executable (CGO_ENABLED=0): static=%v err=%v", env.escape, static, err)
	}
	return nil
}

// buildRootfs makes a busybox rootfs at dir with the helper.
func buildRootfs(dir string) error {
	return testenv.BuildBusyboxRootfs(dir, env.busybox, map[string]string{"/bin/escape": env.escape})
}

// ownNamespaces is ESCAPE_HOST_NS: "pid:[N] mnt:[N] uts:[N]".
func ownNamespaces() (string, error) {
	var parts []string
	for _, kind := range []string{"pid", "mnt", "uts"} {
		l, err := os.Readlink("/proc/self/ns/" + kind)
		if err != nil {
			return "", err
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, " "), nil
}

// hostDevice is a device node of the host: its numbers, and what the
// host's own root got when it opened it read-only (nil: it could).
type hostDevice struct {
	path    string
	dev     string // MAJOR:MINOR, "" if none was found
	openErr error
}

func (d hostDevice) String() string {
	if d.dev == "" {
		return "none"
	}
	return fmt.Sprintf("%s (%s, host open: %v)", d.path, d.dev, errOrOK(d.openErr))
}

func errOrOK(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// probeDevice opens path read-only (nothing is read) to see whether the
// host itself may.
func probeDevice(path, dev string) hostDevice {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err == nil {
		f.Close()
	}
	return hostDevice{path: path, dev: dev, openErr: err}
}

// firstBlockDevice is the first device in /proc/partitions.
func firstBlockDevice() hostDevice {
	b, err := os.ReadFile("/proc/partitions")
	if err != nil {
		return hostDevice{}
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 4 && f[0] != "major" {
			return probeDevice("/dev/"+f[3], f[0]+":"+f[1])
		}
	}
	return hostDevice{}
}

// spareCharDevice is the first of a few harmless character devices (open
// read-only and closed, they do nothing) that the host has and may open.
func spareCharDevice() hostDevice {
	var first hostDevice
	for _, c := range []struct{ path, dev string }{
		{"/dev/net/tun", "10:200"}, {"/dev/fuse", "10:229"}, {"/dev/loop-control", "10:237"}, {"/dev/hwrng", "10:183"},
	} {
		if !testenv.Exists(c.path) {
			continue
		}
		d := probeDevice(c.path, c.dev)
		if d.openErr == nil {
			return d
		}
		if first.dev == "" {
			first = d
		}
	}
	if first.dev == "" {
		return hostDevice{path: "(absent)", dev: "10:200", openErr: os.ErrNotExist}
	}
	return first
}

// checkIsolation runs "escape namespaces" in a default container and
// returns why the suite must not run ("" when the container's PID, mount
// and UTS namespaces are its own).
func checkIsolation() string {
	o, err := runHelper(nil, env.rootfs, "namespaces")
	if err != nil {
		return fmt.Sprintf("could not run a default container: %v", err)
	}
	if o.token != "ok" {
		return fmt.Sprintf("escape namespaces: %s", o)
	}
	seen := map[string]string{}
	for _, f := range strings.Fields(o.detail) {
		if k, v, ok := strings.Cut(f, "="); ok {
			seen[k] = v
		}
	}
	for _, kind := range []string{"pid", "mnt", "uts"} {
		host, _ := os.Readlink("/proc/self/ns/" + kind)
		switch {
		case seen[kind] == "" || seen[kind] == "?":
			return fmt.Sprintf("cannot tell a default container's %s namespace (%s)", kind, o)
		case seen[kind] == host:
			return fmt.Sprintf("a default container shares the host's %s namespace (%s): these attempts run as root and could change the host", kind, host)
		}
	}
	return ""
}

// notLanded are the defences that were being built when this suite was
// written: a row of theirs whose attempt gets through skips ("waiting for
// ...") instead of failing. Whoever lands one deletes its line. seccomp and
// the device cgroup are also detected (detectPending): once a default
// container shows them, their rows fail rather than skip, line or not.
// All three have landed: no row may skip.
var notLanded = map[string]string{}

// detectPending lists the defences of notLanded that a default container
// does not show yet: seccomp until it shows "Seccomp: 2", the device cgroup
// until its rules are not "a *:* rwm" (v1) or a BPF_CGROUP_DEVICE program
// is attached to its cgroup (v2).
func detectPending() map[string]string {
	p := map[string]string{}
	for d, why := range notLanded {
		p[d] = why
	}
	if st, err := containerStatus(nil); err == nil && st["Seccomp"] == "2" {
		delete(p, "seccomp")
	} else if _, ok := p["seccomp"]; ok {
		p["seccomp"] += fmt.Sprintf("; a default container shows Seccomp: %q (%v)", st["Seccomp"], err)
	}
	if why := deviceCgroupMissing(); why == "" {
		delete(p, "devcgroup")
	} else if _, ok := p["devcgroup"]; ok {
		p["devcgroup"] += "; " + why
	}
	return p
}

// sha256File is the hex SHA-256 of the file at path.
func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
