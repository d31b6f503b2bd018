package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// RootlessUserName is the unprivileged user that the rootless tests run
// as (Command), with the subordinate ranges mdrootless:200000:65536 in
// /etc/subuid and /etc/subgid. scripts/host-setup.sh makes it; .ci/run
// runs that script before the tests.
const RootlessUserName = "mdrootless"

// OtherRootlessUserName is a second unprivileged user (ranges
// 265536:65536), whose containers the first's must not reach.
const OtherRootlessUserName = "mdrootless2"

// RootlessUser is the CI user, as the password database has it.
type RootlessUser struct {
	Name     string
	UID, GID int
	Home     string
}

// LookupRootlessUser finds RootlessUserName, or says how to make it.
func LookupRootlessUser() (RootlessUser, error) { return LookupRootlessUserNamed(RootlessUserName) }

// LookupRootlessUserNamed finds the user name (RootlessUserName or
// OtherRootlessUserName), or says how to make it.
func LookupRootlessUserNamed(name string) (RootlessUser, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return RootlessUser{}, fmt.Errorf("look up the rootless tests' user: %w (make it with scripts/host-setup.sh, as root)", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return RootlessUser{}, fmt.Errorf("user %s: uid %q: %w", u.Username, u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return RootlessUser{}, fmt.Errorf("user %s: gid %q: %w", u.Username, u.Gid, err)
	}
	return RootlessUser{Name: u.Username, UID: uid, GID: gid, Home: u.HomeDir}, nil
}

// RequireRootlessUser skips the test unless it runs as root (Command
// needs it) and the rootless tests' user exists; it returns the user.
func RequireRootlessUser(t testing.TB) RootlessUser {
	t.Helper()
	return RequireRootlessUserNamed(t, RootlessUserName)
}

// RequireRootlessUserNamed is RequireRootlessUser for the user name.
func RequireRootlessUserNamed(t testing.TB, name string) RootlessUser {
	t.Helper()
	RequireRoot(t)
	u, err := LookupRootlessUserNamed(name)
	if err != nil {
		t.Skip(err)
	}
	return u
}

// RuntimeDir is the user's XDG_RUNTIME_DIR, /run/user/UID, as
// systemd-logind makes it at login (host-setup.sh makes it: a command started as the user does
// not log in).
func (u RootlessUser) RuntimeDir() string {
	return filepath.Join("/run/user", strconv.Itoa(u.UID))
}

// Env is the environment of a login of the user: HOME, USER, LOGNAME,
// SHELL, a PATH, XDG_RUNTIME_DIR. Callers append what their test needs.
func (u RootlessUser) Env() []string {
	return []string{
		"HOME=" + u.Home,
		"USER=" + u.Name,
		"LOGNAME=" + u.Name,
		"SHELL=/bin/sh",
		"PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin",
		"XDG_RUNTIME_DIR=" + u.RuntimeDir(),
	}
}

// Command runs name with args as the user (its uid and gid, no
// supplementary groups: as runuser would, but without a PAM session,
// which a test's guest may lack and which costs a login per command),
// with Env as its environment and the user's home as its directory.
func (u RootlessUser) Command(name string, args ...string) *exec.Cmd {
	return u.CommandContext(context.Background(), name, args...)
}

// CommandContext is Command, killed (by its PID) when ctx is done.
func (u RootlessUser) CommandContext(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = AsUser(u.UID, u.GID)
	cmd.Env = u.Env()
	cmd.Dir = u.Home
	return cmd
}

// SharedDir makes a directory that the user can read and search (0755, a
// fresh one under the system's temporary directory: the suites' own are
// root's, 0700), removed when the test ends. Copy binaries the user must
// run into it with CopyExecutable.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "md-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove %s: %v", dir, err)
		}
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// CopyExecutable copies the file src into dir under its own name, mode
// 0755, and returns the copy's path.
func CopyExecutable(dir, src string) (string, error) {
	dst := filepath.Join(dir, filepath.Base(src))
	if err := copyFile(src, dst, 0o755); err != nil {
		return "", err
	}
	return dst, nil
}

// AsUser is the SysProcAttr of a command run as uid and gid, with no
// supplementary groups.
func AsUser(uid, gid int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}
}
