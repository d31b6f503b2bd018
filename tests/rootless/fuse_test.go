package rootless

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuseProgram is Debian's fuse-overlayfs, which the tests force with
// --storage-opt overlay.mount_program (this machine's kernel mounts the
// kernel's overlay in a user namespace: the automatic fallback is the
// unit tests' (rootfs.TestChooseOverlayMount)).
const fuseProgram = "/usr/bin/fuse-overlayfs"

// TestFuseOverlayfs: an image's container runs on fuse-overlayfs when
// the user asks for it: the image's files are readable (by root and by
// another uid of the container), the root is a fuse-overlayfs mount,
// what the container writes lands in its upper directory, and the
// program goes with the container (its end, rm, a failed start): no
// mount and no fuse-overlayfs process is left.
func TestFuseOverlayfs(t *testing.T) {
	h := newHome(t)
	if err := fuseReady(); err != nil {
		t.Skip(err)
	}
	img := importBusybox(t, h)
	fo := []string{"--storage-opt", "overlay.mount_program=" + fuseProgram}
	writable := filepath.Join(h.dir, "data", "minimal-docker", "writable")

	t.Run("foreground", func(t *testing.T) {
		script := "grep ' / / ' /proc/self/mountinfo | sed 's/.* - //' | cut -d' ' -f1; ls /bin/busybox; echo new > /new && cat /new"
		r := h.md(t, append(fo, "run", "--rm", "--network", "none", img, "sh", "-c", script)...)
		r.wantExit(t, 0)
		if want := "fuse.fuse-overlayfs\n/bin/busybox\nnew\n"; r.stdout != want {
			t.Errorf("stdout %q, want %q\n%s", r.stdout, want, r)
		}
		// Another uid of the container reads the image (allow_other).
		r = h.md(t, append(fo, "run", "--rm", "--network", "none", "-u", "1000:1000", img, "sh", "-c", "id -u; head -c 4 /bin/busybox | tail -c 3")...)
		r.wantExit(t, 0)
		if want := "1000\nELF"; r.stdout != want {
			t.Errorf("as uid 1000: stdout %q, want %q\n%s", r.stdout, want, r)
		}
		// keep-id: the container's own user namespace sees the image's
		// files as their owners, and writes as the user.
		r = h.md(t, append(fo, "run", "--rm", "--network", "none", "--userns=keep-id", img, "sh", "-c", "id -u; stat -c %u /bin/busybox; echo k > /tmp/k && cat /tmp/k")...)
		r.wantExit(t, 0)
		if want := fmt.Sprintf("%d\n0\nk\n", env.uid); r.stdout != want {
			t.Errorf("keep-id: stdout %q, want %q\n%s", r.stdout, want, r)
		}
		wantNoFuse(t, h.dir)
	})

	t.Run("detached-rm", func(t *testing.T) {
		r := h.md(t, append(fo, "run", "-d", "--network", "none", "--name", "fo", img, "sh", "-c", "echo written > /written; sleep 1000")...)
		r.wantExit(t, 0)
		id := strings.TrimSpace(r.stdout)
		t.Cleanup(func() { h.md(t, "rm", "-f", "fo") })
		upper := filepath.Join(writable, id, "upper")
		if !waitFor(func() bool {
			b, err := os.ReadFile(filepath.Join(upper, "written"))
			return err == nil && string(b) == "written\n"
		}) {
			t.Fatalf("%s/written: not there (the container's write did not land in its upper directory)", upper)
		}
		if pids := fusePids(upper); len(pids) != 1 {
			t.Errorf("fuse-overlayfs processes serving %s: %v, want one", upper, pids)
		}
		r = h.md(t, "exec", "fo", "cat", "/written")
		r.wantExit(t, 0)
		if r.stdout != "written\n" {
			t.Errorf("exec cat /written: %q\n%s", r.stdout, r)
		}
		// The container's end ends the program; cp from the stopped
		// container mounts it again for the copy alone.
		h.md(t, "kill", "fo").wantExit(t, 0)
		wantNoFuse(t, upper)
		dst := h.userDir(t, "cp")
		h.md(t, "cp", "fo:/written", dst).wantExit(t, 0)
		if b, err := os.ReadFile(filepath.Join(dst, "written")); err != nil || string(b) != "written\n" {
			t.Errorf("cp fo:/written from the stopped container: %q, %v", b, err)
		}
		wantNoFuse(t, upper)
		h.md(t, "rm", "-f", "fo").wantExit(t, 0)
		if _, err := os.Stat(filepath.Join(writable, id)); !os.IsNotExist(err) {
			t.Errorf("%s: still there after rm (%v)", filepath.Join(writable, id), err)
		}
		wantNoFuse(t, h.dir)
	})

	t.Run("failures", func(t *testing.T) {
		// The container's command fails after the mount was handed over.
		r := h.md(t, append(fo, "run", "--rm", "--network", "none", img, "/no/such/command")...)
		r.wantExit(t, 127)
		// The program fails before: the error names it.
		r = h.md(t, "--storage-opt", "overlay.mount_program=/bin/false", "run", "--rm", "--network", "none", img, "true")
		r.wantExit(t, 125)
		r.wantStderr(t, "/bin/false")
		// A mistyped option is named.
		r = h.md(t, "--storage-opt", "overlay.mount_programme=x", "run", "--rm", img, "true")
		r.wantExit(t, 125)
		r.wantStderr(t, `unknown option "overlay.mount_programme"`)
		wantNoFuse(t, h.dir)
		if ents, _ := os.ReadDir(writable); len(ents) != 0 {
			t.Errorf("%s: %d entries left", writable, len(ents))
		}
	})
}

// TestImageOverlayPath: without --storage-opt a rootless runtime asks
// the kernel once whether its overlay mounts in the user namespace on the
// store's file system, keeps the answer in the store, and mounts image
// containers' roots accordingly: the kernel's overlay where it mounts,
// else fuse-overlayfs (as the answer of a kernel before 5.11, written
// into the store here, makes it do). The path taken is logged: this
// machine's and the v2 guest's.
func TestImageOverlayPath(t *testing.T) {
	h := newHome(t)
	img := importBusybox(t, h)
	script := "grep ' / / ' /proc/self/mountinfo | sed 's/.* - //' | cut -d' ' -f1"
	r := h.md(t, "run", "--rm", "--network", "none", img, "sh", "-c", script)
	r.wantExit(t, 0)
	probe := filepath.Join(h.dir, "data", "minimal-docker", "overlay-probe")
	b, err := os.ReadFile(probe)
	if err != nil {
		t.Fatal(err)
	}
	release, answer, _ := strings.Cut(string(b), "\n")
	want := "overlay\n"
	if answer != "" {
		want = "fuse.fuse-overlayfs\n"
	}
	t.Logf("kernel %s: the kernel's overlay in a user namespace on the store (%s): %q; the root: %s", release, h.dir, answer, strings.TrimSpace(r.stdout))
	if r.stdout != want {
		t.Errorf("root's file system %q, want %q (the kept answer: %q)\n%s", r.stdout, want, answer, r)
	}
	r = h.md(t, "check")
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.Contains(l, "image overlay") {
			t.Logf("check: %s", l)
		}
	}
	if answer != "" {
		return
	}
	t.Run("after-a-refusal", func(t *testing.T) {
		if err := fuseReady(); err != nil {
			t.Skip(err)
		}
		if err := os.WriteFile(probe, []byte(release+"\nmount overlay: invalid argument (the test's)"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := h.md(t, "run", "--rm", "--network", "none", img, "sh", "-c", script)
		r.wantExit(t, 0)
		if r.stdout != "fuse.fuse-overlayfs\n" {
			t.Errorf("root's file system %q after the kernel's refusal, want fuse-overlayfs\n%s", r.stdout, r)
		}
		wantNoFuse(t, h.dir)
	})
}

// fuseReady says why fuse-overlayfs can't be used here, if it can't.
func fuseReady() error {
	if _, err := os.Stat(fuseProgram); err != nil {
		return fmt.Errorf("no fuse-overlayfs: %v (apt-get install fuse-overlayfs)", err)
	}
	if fi, err := os.Stat("/dev/fuse"); err != nil || fi.Mode().Perm()&0o006 != 0o006 {
		return fmt.Errorf("/dev/fuse is not readable and writable by every user (%v): scripts/host-setup.sh makes it so", err)
	}
	return nil
}

// importBusybox imports the busybox rootfs as an image of the user's.
func importBusybox(t *testing.T, h *home) string {
	t.Helper()
	archive := filepath.Join(h.dir, "rootfs.tar")
	writeRootfsTar(t, archive)
	if err := chownTree(archive, h.uid, h.gid); err != nil {
		t.Fatal(err)
	}
	const img = "localhost/rootless-bb:1"
	h.md(t, "import", archive, img).wantExit(t, 0)
	return img
}

// waitFor polls cond until it holds or the suite's timeout passes.
func waitFor(cond func() bool) bool {
	for end := time.Now().Add(env.timeout); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// wantNoFuse fails t when a fuse-overlayfs process serves a directory
// under dir (after the suite's timeout: it exits once the kernel ends
// its mount) or a process mounts a fuse-overlayfs.
func wantNoFuse(t *testing.T, dir string) {
	t.Helper()
	if !waitFor(func() bool { return len(fusePids(dir)) == 0 }) {
		t.Errorf("fuse-overlayfs processes left serving %s: %v", dir, fusePids(dir))
	}
	for _, pid := range userProcs() {
		if b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/mountinfo"); bytes.Contains(b, []byte(" - fuse.fuse-overlayfs ")) {
			t.Errorf("process %d of the user still has a fuse-overlayfs mount", pid)
		}
	}
}

// fusePids lists the fuse-overlayfs processes whose arguments name a
// path under dir.
func fusePids(dir string) []int {
	var pids []int
	for _, pid := range procPids() {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if filepath.Base(args[0]) == "fuse-overlayfs" && strings.Contains(string(b), dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}
