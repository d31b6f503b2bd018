package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// MountNSRun is what RunInOwnMountNS saw: the mount table of the
// namespace before and after the script, and what the script printed.
type MountNSRun struct {
	Before, After, Output string
}

// RunInOwnMountNS runs script with sh inside a new mount namespace (unshare
// -m, from util-linux) whose / is first made recursively shared, as a
// host's usually is, in peer groups of its own: a config that could touch
// the caller's mounts (no mount namespace, shared propagation) is run there,
// so that a bug changes only that throw-away table, and a change of
// propagation shows in it. It records the namespace's mount table before
// and after the script; env adds KEY=VALUE pairs to the script's
// environment (D is a scratch directory). timeout bounds the whole run;
// on time-out the script's process group is killed.
func RunInOwnMountNS(script string, timeout time.Duration, env ...string) (MountNSRun, error) {
	var r MountNSRun
	if _, err := exec.LookPath("unshare"); err != nil {
		return r, fmt.Errorf("unshare(1) (util-linux) is needed to keep the case in a mount namespace of its own: %w", err)
	}
	dir, err := os.MkdirTemp("", "md-mountns-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	full := "set -u\nmount --make-rshared / || exit 99\ncat /proc/self/mountinfo > \"$D/before\"\n" +
		script + "\ncat /proc/self/mountinfo > \"$D/after\"\n"
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--mount", "--propagation", "private", "sh", "-c", full)
	cmd.Env = append(append(os.Environ(), "D="+dir), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	r.Output = string(out)
	if err != nil {
		return r, fmt.Errorf("unshare -m sh: %w\n%s", err, out)
	}
	before, err := os.ReadFile(filepath.Join(dir, "before"))
	if err != nil {
		return r, err
	}
	after, err := os.ReadFile(filepath.Join(dir, "after"))
	if err != nil {
		return r, err
	}
	r.Before, r.After = string(before), string(after)
	return r, nil
}
