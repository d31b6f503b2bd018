package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/spec"
)

// TestRuncRootOverlay: a bundle whose config.json has the root-overlay
// annotation runs on an overlay that the init mounts in the container's
// own mount namespace — the shared busybox rootfs read-only below, the
// container's writes in its upper directory — in the foreground and
// through create, start, exec and delete. Nothing is mounted on the host.
func TestRuncRootOverlay(t *testing.T) {
	for _, detached := range []bool{false, true} {
		name := "run"
		if detached {
			name = "create-start-exec-delete"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			upper, work, mnt := filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "mnt")
			for _, d := range []string{upper, work, mnt} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			write := "echo written >/overlay-test; cat /overlay-test; grep -c '^overlay / overlay' /proc/mounts"
			args := []string{"sh", "-c", write}
			if detached {
				args = []string{"sleep", "1000"}
			}
			b := newBundle(t, args...)
			b.edit(t, func(s *specs.Spec) {
				s.Root.Path = mnt
				if err := spec.WithRootOverlay(handshake.Overlay{Lower: []string{env.rootfs}, Upper: upper, Work: work})(s); err != nil {
					t.Fatal(err)
				}
			})
			id := "overlay-" + name
			if detached {
				runc(t, b, "create", id).wantExit(t, 0)
				runc(t, b, "start", id).wantExit(t, 0)
				r := runc(t, b, "exec", id, "sh", "-c", write)
				r.wantExit(t, 0)
				if r.stdout != "written\n1\n" {
					t.Errorf("exec: want the file written and one overlay root\n%s", r)
				}
				runc(t, b, "delete", "--force", id).wantExit(t, 0)
			} else {
				r := runc(t, b, "run", id)
				r.wantExit(t, 0)
				if r.stdout != "written\n1\n" {
					t.Errorf("want the file written and one overlay root\n%s", r)
				}
			}
			if got, err := os.ReadFile(filepath.Join(upper, "overlay-test")); err != nil || string(got) != "written\n" {
				t.Errorf("the write is not in the upper directory: %q, %v", got, err)
			}
			if _, err := os.Stat(filepath.Join(env.rootfs, "overlay-test")); err == nil {
				t.Errorf("the write reached the lower directory (the shared rootfs)")
			}
			if entries, _ := os.ReadDir(mnt); len(entries) != 0 {
				t.Errorf("the mount point on the host is not empty: the overlay was mounted on the host")
			}
			mounts, err := os.ReadFile("/proc/self/mountinfo")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(mounts), mnt) {
				t.Errorf("the overlay is mounted on the host")
			}
			b.wantNothingLeft(t)
		})
	}
}
