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
// standard output, and, when libseccomp did not know some of the
// profile's syscall names, one line on its standard error:
// "unknown syscalls: NAME NAME..." (ServeCompile).
const HelperCompile = "seccomp-compile"

// unknownLine starts the helper's line of unknown syscall names.
const unknownLine = "unknown syscalls:"

// compiler is what turns a checked profile into a program in this binary
// (with the syscall names it did not know), its version in the cache key
// and its name for people; err says why there is none.
type compiler struct {
	compile func(*specs.LinuxSeccomp) (prog []byte, unknown []string, err error)
	version string
	name    string
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
		compile: func(p *specs.LinuxSeccomp) ([]byte, []string, error) { return compileInHelper(path, p) },
		version: fmt.Sprintf("%s %d:%d %d %d", path, st.Dev, st.Ino, fi.Size(), fi.ModTime().UnixNano()),
		name:    "libseccomp in " + path,
	}
}

// compileInHelper runs `helper seccomp-compile` on p and returns the
// program (Cache.Filter checks its length) and the names libseccomp did
// not know. The helper is ours, checked like the init (package sealed):
// its output is taken as it comes, and its error message from its
// standard error.
func compileInHelper(path string, p *specs.LinuxSeccomp) ([]byte, []string, error) {
	in, err := json.Marshal(p)
	if err != nil {
		return nil, nil, fmt.Errorf("linux.seccomp: %w", err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(path, HelperCompile)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := err.Error()
		if s := bytes.TrimSpace(stderr.Bytes()); len(s) > 0 {
			msg = strings.TrimSpace(strings.TrimPrefix(string(s), "minimal-docker-helper: "))
		}
		return nil, nil, fmt.Errorf("%s %s: %s", path, HelperCompile, msg)
	}
	var unknown []string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if names, ok := strings.CutPrefix(line, unknownLine); ok {
			unknown = append(unknown, strings.Fields(names)...)
		}
	}
	return out, unknown, nil
}

// ServeCompile is minimal-docker-helper's seccomp-compile command: it
// reads a linux.seccomp profile (JSON) from r, compiles it with the
// libseccomp in this binary, writes the program to stdout and, when
// libseccomp did not know some syscall names, the line "unknown syscalls:
// NAME..." to stderr.
func ServeCompile(r io.Reader, stdout, stderr io.Writer) error {
	var p specs.LinuxSeccomp
	if err := json.NewDecoder(io.LimitReader(r, 16<<20)).Decode(&p); err != nil {
		return fmt.Errorf("%s: read the profile: %w", HelperCompile, err)
	}
	if compileBPF == nil {
		return ErrNoCompiler
	}
	if _, err := check(&p); err != nil {
		return err
	}
	prog, unknown, err := compileBPF(&p)
	if err != nil {
		return err
	}
	if _, err := stdout.Write(prog); err != nil {
		return err
	}
	if len(unknown) > 0 {
		_, err = fmt.Fprintf(stderr, "%s %s\n", unknownLine, strings.Join(unknown, " "))
	}
	return err
}
