package rootless

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// The XDG base directories (the XDG Base Directory Specification) that a
// rootless runtime keeps its files in, as Podman does: images and
// volumes under the data home, containers' state under the runtime
// directory (a tmpfs of the user's own, as pam_systemd makes
// /run/user/UID: nothing there outlives a reboot, as no container does).
const (
	EnvDataHome   = "XDG_DATA_HOME"
	EnvRuntimeDir = "XDG_RUNTIME_DIR"
)

// Name is the directory each base directory gets for minimal-docker.
const Name = "minimal-docker"

// DataDir is $XDG_DATA_HOME/minimal-docker ($HOME/.local/share/minimal-docker
// when the variable is unset or not absolute, as the specification says):
// a rootless minimal-docker's image store (--root).
func DataDir() (string, error) {
	if d := os.Getenv(EnvDataHome); filepath.IsAbs(d) {
		return filepath.Join(d, Name), nil
	}
	home := os.Getenv("HOME")
	if !filepath.IsAbs(home) {
		return "", fmt.Errorf("rootless: neither $%s nor $HOME is an absolute path: set one (the image store goes to $%s/%s)", EnvDataHome, EnvDataHome, Name)
	}
	return filepath.Join(home, ".local", "share", Name), nil
}

// RuntimeDir is $XDG_RUNTIME_DIR/sub, made if missing (mode 0700): a
// rootless runtime's state. The variable must name an absolute
// directory of this user's that nobody else can write: an error says
// what is wrong with it and how to set it up.
func RuntimeDir(sub string) (string, error) {
	base := os.Getenv(EnvRuntimeDir)
	if err := checkRuntimeDir(base); err != nil {
		return "", err
	}
	dir := filepath.Join(base, sub)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("rootless: state directory: %w", err)
	}
	// The first directory below the base stays the user's: the user's
	// later commands look in it before they enter the namespace (holders).
	first, _, _ := strings.Cut(filepath.Clean(sub), string(filepath.Separator))
	if err := ChownToOwner(filepath.Join(base, first)); err != nil {
		return "", fmt.Errorf("rootless: state directory: %w", err)
	}
	return dir, nil
}

// checkRuntimeDir checks that dir, $XDG_RUNTIME_DIR, can hold this
// user's state.
func checkRuntimeDir(dir string) error {
	const how = " (rootless minimal-docker keeps its containers' state there: a directory of your own, mode 0700, on a tmpfs; pam_systemd makes /run/user/$UID, or make one: mkdir -m 0700 DIR and export " + EnvRuntimeDir + "=DIR)"
	if dir == "" {
		return errors.New("rootless: $" + EnvRuntimeDir + " is not set" + how)
	}
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("rootless: $%s=%s is not an absolute path%s", EnvRuntimeDir, dir, how)
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return fmt.Errorf("rootless: $%s=%s: %w%s", EnvRuntimeDir, dir, err, how)
	}
	own, err := Own()
	if err != nil {
		return err
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return fmt.Errorf("rootless: $%s=%s is not a directory%s", EnvRuntimeDir, dir, how)
	case st.Uid != own.UID:
		return fmt.Errorf("rootless: $%s=%s belongs to uid %d, not to you%s", EnvRuntimeDir, dir, st.Uid, how)
	case st.Mode&0o022 != 0:
		return fmt.Errorf("rootless: $%s=%s is writable by others (mode %#o)%s", EnvRuntimeDir, dir, st.Mode&0o7777, how)
	}
	if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
		return fmt.Errorf("rootless: $%s=%s: not writable: %w%s", EnvRuntimeDir, dir, err, how)
	}
	return nil
}
