package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// ErrNotFound and ErrNotExecutable classify a failed command lookup (and
// a failed execve): the user sees exit status 127 and 126 (package
// exitcode).
var (
	ErrNotFound      = errors.New("executable file not found")
	ErrNotExecutable = errors.New("permission denied: not an executable file")
)

// LookPath finds file as the container would: a name with a slash is taken
// as is (relative to cwd), any other is searched in pathEnv. All paths are
// resolved inside root ("/" once pivot_root is done). It returns the path as
// seen inside the container.
func LookPath(root, file, pathEnv, cwd string) (string, error) {
	if strings.Contains(file, "/") {
		p := file
		if !path.IsAbs(p) {
			p = path.Join(cwd, p)
		}
		if err := checkExecutable(root, p); err != nil {
			return "", fmt.Errorf("%q: %w", file, err)
		}
		return p, nil
	}
	var denied error
	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		p := path.Join(dir, file)
		if !path.IsAbs(p) {
			p = path.Join(cwd, p)
		}
		err := checkExecutable(root, p)
		if err == nil {
			return p, nil
		}
		if errors.Is(err, ErrNotExecutable) && denied == nil {
			denied = err
		}
	}
	if denied != nil {
		return "", fmt.Errorf("%q: %w", file, denied)
	}
	return "", fmt.Errorf("%w in $PATH: %q", ErrNotFound, file)
}

// Getenv returns the value of key in a KEY=VALUE list, a process's
// environment (the last one wins): LookPath's PATH comes from it.
func Getenv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

func checkExecutable(root, p string) error {
	full, err := securejoin.SecureJoin(root, p)
	if err != nil {
		return ErrNotFound
	}
	fi, err := os.Stat(full)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return ErrNotExecutable
		}
		return ErrNotFound
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return ErrNotExecutable
	}
	return nil
}
