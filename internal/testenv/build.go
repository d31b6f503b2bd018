package testenv

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), extraEnv...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build -o %s %s: %w\n%s", out, pkg, err, b)
	}
	return nil
}

// GoBuildInit builds the container init (./cmd/minimal-docker-init, pure
// Go) into dir, beside runtimes built there: where they look for it.
func GoBuildInit(root, dir string) error {
	return GoBuild(root, filepath.Join(dir, "minimal-docker-init"), "./cmd/minimal-docker-init", "CGO_ENABLED=0")
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
