package seccomp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/sealed"
)

// HelperCompile is minimal-docker-helper's command that compiles a
// profile: linux.seccomp as JSON on its standard input, the program on its
// standard output.
const HelperCompile = "seccomp-compile"

// compiler is what turns a checked profile into a program in this binary,
// and its name in the cache key; err says why there is none.
type compiler struct {
	compile func(*specs.LinuxSeccomp) ([]byte, error)
	version string
	err     error
}

// helperCompiler compiles in minimal-docker-helper beside this binary
// (package sealed checks its owner and mode). Its libseccomp is linked
// into it, so the key names the helper file as it is now — path, size,
// modification time — and a rebuilt helper compiles afresh.
func helperCompiler() compiler {
	path, err := sealed.Beside(sealed.HelperName)
	if err != nil {
		return compiler{err: fmt.Errorf("linux.seccomp: no compiler: %w", err)}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return compiler{err: fmt.Errorf("linux.seccomp: no compiler: %w", err)}
	}
	st := fi.Sys().(*syscall.Stat_t)
	return compiler{
		compile: func(p *specs.LinuxSeccomp) ([]byte, error) { return compileInHelper(path, p) },
		version: fmt.Sprintf("%s %d:%d %d %d", path, st.Dev, st.Ino, fi.Size(), fi.ModTime().UnixNano()),
	}
}

// compileInHelper runs `helper seccomp-compile` on p and returns the
// program (Cache.Filter checks its length). The helper is ours, checked
// like the init (package sealed): its output is taken as it comes, and its
// error message from the standard error that exec keeps.
func compileInHelper(path string, p *specs.LinuxSeccomp) ([]byte, error) {
	in, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: %w", err)
	}
	cmd := exec.Command(path, HelperCompile)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		msg := err.Error()
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(bytes.TrimSpace(ee.Stderr)) > 0 {
			msg = strings.TrimSpace(strings.TrimPrefix(string(ee.Stderr), "minimal-docker-helper: "))
		}
		return nil, fmt.Errorf("%s %s: %s", path, HelperCompile, msg)
	}
	return out, nil
}
