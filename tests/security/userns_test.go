package security

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// usernsRootfs is a copy of the suite's rootfs (root's, as it is) in a
// directory a --userns=auto container's root may search, with the helper
// made setuid root; and the flags of a --userns=auto run with a --root of
// the test's own (--userns=auto opens its --root to the containers' roots
// and records ranges there: not the host's default store).
func usernsRootfs(t *testing.T) (rootfs string, flags []string) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	testenv.RequireIdmap(t, dir)
	root := filepath.Join(dir, "rootfs")
	if out, err := exec.Command("cp", "-a", env.rootfs, root).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	if err := os.Chmod(filepath.Join(root, "bin", "escape"), 0o4755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	return root, []string{"--root", filepath.Join(dir, "store"), "--userns=auto", "--network", "none"}
}

// TestUsernsSetuid: in a container of its own user namespace
// (--userns=auto), a setuid-root binary (root's on the host, its root's
// through the idmapped rootfs) run by an unprivileged user gets root of
// the container — enough, with --privileged's capabilities and
// no_new_privs off, to set the container's own host name — and nothing
// on the host: every attempt
// that needs a capability over the host's kernel fails, though no
// seccomp filter and no capability drop stands in the way.
func TestUsernsSetuid(t *testing.T) {
	requireSuite(t)
	rootfs, flags := usernsRootfs(t)
	flags = append(flags, "--privileged", "--security-opt", "no-new-privileges=false", "--user", "1000:1000")
	// ENOSYS: this host's kernel lacks the call (no modules, no iopl);
	// EACCES: the kernel refuses the node's mknod (or its open) first.
	for _, tc := range []struct{ helper, want string }{
		{"sethostname", "ok"}, // root of the container: the helper is setuid
		{"clock-settime", "errno=EPERM"},
		{"init-module", "errno=EPERM|errno=ENOSYS"},
		{"iopl", "errno=EPERM|errno=ENOSYS"},
		// Linux 6.10 lets open_by_handle_at through in a user namespace
		// for handles under the caller's own root: no escape.
		{"open-by-handle", "errno=EPERM|ok escaped=no host-marker=invisible"},
		{"mknod-char", "errno=EPERM|errno=EACCES"},
		{"reboot", "errno=EPERM|errno=EINVAL"},
	} {
		t.Run(tc.helper, func(t *testing.T) {
			before := takeHostState(t, nil)
			o, err := runHelper(flags, rootfs, tc.helper)
			if err != nil {
				t.Fatal(err)
			}
			judge(t, o, "userns", expect{want: tc.want}, hostChanges(t, before, nil))
		})
	}
}

// TestUsernsBindOwner: what a --userns=auto container's root makes on a
// bind mount belongs on the host to its range, never to root.
func TestUsernsBindOwner(t *testing.T) {
	requireSuite(t)
	rootfs, flags := usernsRootfs(t)
	shared := filepath.Join(filepath.Dir(rootfs), "shared")
	if err := os.Mkdir(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{"run"}, flags...), "-v", shared+":/shared", rootfs,
		"sh", "-c", "touch /shared/f && mkdir /shared/d && chown 0:0 /shared/f")
	_, stderr, code, err := runCommand(env.bin, args...)
	if err != nil || code != 0 {
		t.Fatalf("run: exit %d %v: %s", code, err, stderr)
	}
	for _, n := range []string{"f", "d"} {
		fi, err := os.Stat(filepath.Join(shared, n))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid == 0 || st.Gid == 0 || st.Uid < 1<<30 {
			t.Errorf("%s made by the container's root is %d:%d on the host, want its range's (from %d)", n, st.Uid, st.Gid, 1<<30)
		}
	}
}
