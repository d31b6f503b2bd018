package testenv

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ModuleRoot finds the directory holding go.mod, upwards from the working
// directory (go test runs in the package directory).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// GoBuild builds pkg (relative to the module root) into out, with extraEnv
// (for example "CGO_ENABLED=0") added to the environment.
func GoBuild(root, out, pkg string, extraEnv ...string) error {
	return goBuild(root, out, pkg, nil, extraEnv)
}

// staticCgo links a cgo binary (minimal-docker-helper: libseccomp, the
// nsenter constructor) statically, as make build does: no dynamic loading
// at each start, and it runs where there is no libc.
var staticCgo = []string{"-tags", "netgo,osusergo", "-ldflags", "-extldflags -static"}

// GoBuildRuntime builds a runtime (./cmd/minimal-docker, ./cmd/minimal-runc)
// into out as make build does: pure Go, minimal-docker lean (it hands
// pull, load, save and import to minimal-docker-image: GoBuildCompanions).
func GoBuildRuntime(root, out, pkg string) error {
	var flags []string
	if pkg == dockerPkg {
		flags = []string{"-tags", "lean"}
	}
	return goBuild(root, out, pkg, flags, []string{"CGO_ENABLED=0"})
}

// dockerPkg is minimal-docker's main package.
const dockerPkg = "./cmd/minimal-docker"

// GoBuildCompanions builds the runtimes' companions into dir, beside
// runtimes built there (where they look for them), as make build does:
// minimal-docker-helper (./cmd/minimal-docker-helper, cgo, static: the
// container's init), minimal-docker-image (minimal-docker built whole)
// and the detached containers' monitor (BuildMonitor).
func GoBuildCompanions(root, dir string) error {
	if err := goBuild(root, filepath.Join(dir, "minimal-docker-helper"), "./cmd/minimal-docker-helper", staticCgo, []string{"CGO_ENABLED=1"}); err != nil {
		return err
	}
	if err := GoBuild(root, filepath.Join(dir, "minimal-docker-image"), dockerPkg, "CGO_ENABLED=0"); err != nil {
		return err
	}
	return BuildMonitor(root, filepath.Join(dir, "minimal-docker-monitor"))
}

// BuildMonitor compiles the monitor of detached containers
// (cmd/minimal-docker-monitor, C) into out as make monitor does.
func BuildMonitor(root, out string) error {
	args := []string{"-static", "-Os", "-Wall", "-Wextra", "-o", out, "cmd/minimal-docker-monitor/monitor.c"}
	cmd := exec.Command("gcc", args...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("gcc %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

func goBuild(root, out, pkg string, flags, extraEnv []string) error {
	args := append(append([]string{"build"}, flags...), "-o", out, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), extraEnv...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

// IsStatic reports whether the ELF executable at path has no program
// interpreter (it runs where there is no libc, as in a busybox rootfs).
func IsStatic(path string) (bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false, nil
		}
	}
	return true, nil
}

// Bin is a binary a suite needs: taken from the environment variable Env,
// or else built from Pkg (relative to the module root) into the suite's
// directory.
type Bin struct {
	Path *string
	Env  string // "MD_BIN"
	Pkg  string // "./cmd/minimal-docker"
	// Runtime: built as make build builds the runtimes, with the
	// companions (GoBuildCompanions) beside it; otherwise built pure Go
	// and static (CGO_ENABLED=0), to run inside a busybox rootfs.
	Runtime bool
}

// Binaries fills each bin's Path from its Env or, when that is empty, by
// building it into dir; the paths come back absolute. Building needs the
// source tree: without it the error names the variables to set.
func Binaries(dir string, bins ...Bin) error {
	var root string
	var companions bool
	for _, b := range bins {
		if *b.Path = os.Getenv(b.Env); *b.Path != "" {
			continue
		}
		if root == "" {
			var err error
			if root, err = ModuleRoot(); err != nil {
				var envs []string
				for _, b := range bins {
					envs = append(envs, b.Env)
				}
				return fmt.Errorf("%w; set %s to run without the source tree", err, strings.Join(envs, ", "))
			}
		}
		*b.Path = filepath.Join(dir, filepath.Base(b.Pkg))
		var err error
		if b.Runtime {
			err = GoBuildRuntime(root, *b.Path, b.Pkg)
			companions = true
		} else {
			err = GoBuild(root, *b.Path, b.Pkg, "CGO_ENABLED=0")
		}
		if err != nil {
			return err
		}
	}
	if companions {
		if err := GoBuildCompanions(root, dir); err != nil {
			return err
		}
	}
	for _, b := range bins {
		abs, err := filepath.Abs(*b.Path)
		if err != nil {
			return err
		}
		*b.Path = abs
	}
	return nil
}
