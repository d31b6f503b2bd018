package seccomp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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

// compileInHelper runs `helper seccomp-compile` on p and returns the program.
func compileInHelper(path string, p *specs.LinuxSeccomp) ([]byte, error) {
	in, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: %w", err)
	}
	var out, stderr bytes.Buffer
	cmd := exec.Command(path, HelperCompile)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stdout = &limitedWriter{w: &out, n: maxFile}
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(strings.TrimPrefix(stderr.String(), "minimal-docker-helper: "))
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("%s %s: %s", path, HelperCompile, msg)
	}
	return out.Bytes(), nil
}

// limitedWriter keeps the first n bytes written to it and drops the rest
// (a program longer than any valid one is refused by its length).
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(b []byte) (int, error) {
	k := min(len(b), l.n)
	if k > 0 {
		if _, err := l.w.Write(b[:k]); err != nil {
			return 0, err
		}
		l.n -= k
	}
	return len(b), nil
}
