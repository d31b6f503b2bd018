// Package oci runs the OCI runtime-tools validation suite
// (github.com/opencontainers/runtime-tools v0.9.0: its validation/
// programs as published, and cmd/runtimetest, the checker they run inside
// each container) against runc, the control, and minimal-runc, and
// compares them as tests/cri/compare compares critest's runs: a file
// passes for a runtime when its program exits 0 and prints no "not ok";
// the test fails for every file runc passes that minimal-runc fails
// (unless knownDifferences names it, with the reason), and for every file
// of mustPass (the id mappings of issue 18) that minimal-runc fails.
//
// The programs are built from tests/oci/runtime-tools, a Go module of its
// own (v0.9.0 has no go.mod: its dependencies are pinned there, so that
// they stay out of minimal-docker's go.mod); everything comes from the Go
// module proxy. Each program runs in a working directory holding
// runtimetest and the suite's rootfs-amd64.tar.gz (from the module), with
// RUNTIME a script that calls the runtime with a --root of the test's own,
// and TMPDIR (where the suite makes its bundles) in the test's directory.
// After each run the runtime's state, the cgroups the suite names
// (/cgrouptest, and testdir/cgrouptest/container beneath this process's
// cgroup) and the bundles are checked and removed: the suite's programs
// skip their own clean-up when they fail.
//
// Root, and MD_OCI=1 (make test-oci sets it); otherwise every test skips.
// Environment: MD_RUNC (minimal-runc, with minimal-docker-helper beside
// it; default: built into the temporary directory), MD_CONTROL_RUNC
// (default: runc on PATH), MD_TIMEOUT (a Go duration, default 60s: the
// bound of each program).
package oci

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// toolsModule is the directory, beneath the module root, of the module
// that pins runtime-tools and its dependencies.
const toolsModule = "tests/oci/runtime-tools"

// runtimeTools is the suite's module path.
const runtimeTools = "github.com/opencontainers/runtime-tools"

// mustPass are the files minimal-runc must pass whatever runc does.
var mustPass = []string{
	// Issue 18: a user namespace with uid and gid mappings (v0.9.0 has
	// no separate gid file: this one maps both, and runtimetest checks
	// /proc/self/uid_map and gid_map).
	"linux_uid_mappings",
}

// knownDifferences are the files runc passes here and minimal-runc does
// not, on purpose; each with the reason. A file here that minimal-runc
// passes fails the test: the entry is to go.
var knownDifferences = map[string]string{
	"linux_cgroups_pids":          pidsAtReady,
	"linux_cgroups_relative_pids": pidsAtReady,
	"delete_resources":            pidsAtReady,
}

const pidsAtReady = "minimal-runc writes pids.max when the init is about to execute the user's program " +
	"(cgroups.SplitAtReady: the init's setup and its hooks never count against the limit), " +
	"not at create, when the suite reads it (\"max\")"

// runtimeUnderTest is a runtime the programs are run against.
type runtimeUnderTest struct {
	name    string // "runc", "minimal-runc"
	path    string
	root    string // its --root
	wrapper string // RUNTIME: the runtime with --root
}

// env is what TestMain prepared; read-only once the tests run.
var env struct {
	skip     string
	tmp      string
	timeout  time.Duration
	work     string   // runtimetest and the rootfs tarball: the programs' working directory
	programs string   // the validation programs, one per file
	files    []string // their names, sorted
	runtimes []runtimeUnderTest
	cgroups  []string // where the suite's cgroups can appear
}

func TestMain(m *testing.M) {
	if os.Getenv("MD_OCI") != "1" {
		fmt.Println("tests/oci: set MD_OCI=1 to run the OCI validation suite (make test-oci) - every test skips")
		env.skip = "MD_OCI is not 1"
		os.Exit(m.Run())
	}
	os.Exit(testenv.RootSuite(m, "tests/oci", setup))
}

func setup(tmp string) error {
	env.tmp = tmp
	// The bundles are made beneath tmp: the root of linux_uid_mappings'
	// user namespace (host uid 1000) must reach them.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	suite, err := testenv.SuiteSetup(tmp)
	if err != nil {
		return err
	}
	env.timeout = suite.Timeout
	control := os.Getenv("MD_CONTROL_RUNC")
	if control == "" {
		if control, err = exec.LookPath("runc"); err != nil {
			return errors.New("no runc on PATH for the control (apt-get install runc, or set MD_CONTROL_RUNC)")
		}
	}
	var minimal string
	if err := testenv.Binaries(tmp, testenv.Bin{Path: &minimal, Env: "MD_RUNC", Pkg: "./cmd/minimal-runc", Runtime: true}); err != nil {
		return err
	}
	if err := buildSuite(tmp); err != nil {
		return err
	}
	for _, rt := range []runtimeUnderTest{{name: "runc", path: control}, {name: "minimal-runc", path: minimal}} {
		if rt.path, err = filepath.Abs(rt.path); err != nil {
			return err
		}
		rt.root = filepath.Join(tmp, "state-"+rt.name)
		rt.wrapper = filepath.Join(tmp, "runtime-"+rt.name)
		script := fmt.Sprintf("#!/bin/sh\nexec %q --root %q \"$@\"\n", rt.path, rt.root)
		if err := os.WriteFile(rt.wrapper, []byte(script), 0o755); err != nil {
			return err
		}
		env.runtimes = append(env.runtimes, rt)
	}
	hier, err := cgroups.FindHierarchies()
	if err != nil {
		return fmt.Errorf("cgroups.FindHierarchies: %w", err)
	}
	self, err := cgroups.SelfPaths()
	if err != nil {
		return fmt.Errorf("cgroups.SelfPaths: %w", err)
	}
	env.cgroups = suiteCgroups(hier, self)
	for _, d := range env.cgroups {
		if testenv.Exists(d) {
			return fmt.Errorf("%s exists before the suite ran (another run's, or left behind): remove it first", d)
		}
	}
	fmt.Printf("tests/oci: runtime-tools v0.9.0, %d files; runc %s (control), minimal-runc %s, cgroup mode %v\n",
		len(env.files), env.runtimes[0].path, env.runtimes[1].path, hier.Mode)
	return nil
}

// buildSuite builds runtimetest and every validation program from the
// tools module into tmp, and copies the suite's rootfs tarball beside
// runtimetest.
func buildSuite(tmp string) error {
	root, err := testenv.ModuleRoot()
	if err != nil {
		return err
	}
	dir := filepath.Join(root, toolsModule)
	pkgs, err := goOutput(dir, "list", runtimeTools+"/validation/...")
	if err != nil {
		return err
	}
	var mains []string
	for _, p := range strings.Fields(pkgs) {
		if !strings.HasSuffix(p, "/validation/util") {
			mains = append(mains, p)
			env.files = append(env.files, filepath.Base(p))
		}
	}
	slices.Sort(env.files)
	env.work = filepath.Join(tmp, "work")
	env.programs = filepath.Join(tmp, "programs")
	for _, d := range []string{env.work, env.programs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	if _, err := goOutput(dir, append([]string{"build", "-o", env.programs + "/"}, mains...)...); err != nil {
		return err
	}
	// runtimetest runs inside the suite's busybox rootfs: static.
	if _, err := goOutput(dir, "build", "-o", filepath.Join(env.work, "runtimetest"), runtimeTools+"/cmd/runtimetest"); err != nil {
		return err
	}
	modDir, err := goOutput(dir, "list", "-m", "-f", "{{.Dir}}", runtimeTools)
	if err != nil {
		return err
	}
	tarball := "rootfs-amd64.tar.gz"
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(modDir), tarball))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(env.work, tarball), b, 0o644)
}

// goOutput runs the go command in dir (pure Go: runtimetest must be
// static) and returns its output.
func goOutput(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s (in %s): %w\n%s", strings.Join(args, " "), dir, err, stderr.String())
	}
	return string(out), nil
}

// suiteCgroups are the cgroup directories the suite's programs make, in
// every hierarchy: cgroups.AbsCgroupPath (/cgrouptest) at the mount
// point, RelCgroupPath's first part (testdir) beneath this process's
// cgroup, and both in either place (a runtime may read either path
// either way).
func suiteCgroups(hier *cgroups.Hierarchies, self map[string]string) []string {
	bases := testenv.OwnCgroupDirs(hier.V1, hier.Unified, self)
	for _, mnt := range hier.V1 {
		bases = append(bases, mnt)
	}
	if hier.Unified != "" {
		bases = append(bases, hier.Unified)
	}
	var dirs []string
	for _, b := range bases {
		dirs = append(dirs, filepath.Join(b, "cgrouptest"), filepath.Join(b, "testdir"))
	}
	slices.Sort(dirs)
	return slices.Compact(dirs)
}

// outcome is one file's result with one runtime.
type outcome struct {
	pass bool
	why  string // the first "not ok" line, or the exit status
}

var results struct {
	mu   sync.Mutex
	rows map[string]map[string]outcome // file -> runtime -> outcome
}

func record(file, rt string, o outcome) {
	results.mu.Lock()
	defer results.mu.Unlock()
	if results.rows == nil {
		results.rows = map[string]map[string]outcome{}
	}
	if results.rows[file] == nil {
		results.rows[file] = map[string]outcome{}
	}
	results.rows[file][rt] = o
}

// printResults writes the table of every file run, and each runtime's
// count.
func printResults() {
	results.mu.Lock()
	defer results.mu.Unlock()
	if len(results.rows) == 0 {
		return
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "\nFILE\tRUNC\tMINIMAL-RUNC\tWHY (MINIMAL-RUNC)")
	passed := map[string]int{}
	for _, f := range slices.Sorted(maps.Keys(results.rows)) {
		row := results.rows[f]
		cell := func(rt string) string {
			o, ok := row[rt]
			switch {
			case !ok:
				return "-"
			case o.pass:
				passed[rt]++
				return "PASS"
			}
			return "FAIL"
		}
		why := ""
		if o, ok := row["minimal-runc"]; ok && !o.pass {
			why = o.why
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f, cell("runc"), cell("minimal-runc"), why)
	}
	tw.Flush()
	for _, rt := range env.runtimes {
		fmt.Printf("tests/oci: %s passes %d of %d files\n", rt.name, passed[rt.name], len(results.rows))
	}
}
