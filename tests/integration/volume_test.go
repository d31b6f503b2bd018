package integration

// Volumes: run's -v and --mount (bind mounts, named and anonymous volumes,
// tmpfs) and the volume verbs, with a temporary --root each. The
// containers run from a rootfs of the test's own, since mounting creates
// the mount points in it.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// ownRootfs builds a busybox rootfs for this test alone.
func ownRootfs(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rootfs")
	if err := testenv.BuildBusyboxRootfs(dir, env.busybox, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runIn runs `minimal-docker --root root run FLAGS rootfs COMMAND...`.
func runIn(t *testing.T, root, rootfs string, flags []string, command ...string) result {
	t.Helper()
	args := append([]string{"run"}, flags...)
	args = append(append(args, rootfs), command...)
	return mdi(t, root, args...)
}

func writeHostFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func wantHostFile(t *testing.T, p, want string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("%s holds %q, want %q", p, b, want)
	}
}

func TestVolumeBindMount(t *testing.T) {
	root, rootfs, host := t.TempDir(), ownRootfs(t), t.TempDir()
	writeHostFile(t, filepath.Join(host, "in"), "from host\n")

	for _, flags := range [][]string{
		{"-v", host + ":/data"},
		{"-v", host + ":/data:rw"},
		{"--mount", "type=bind,src=" + host + ",dst=/data"},
	} {
		t.Run(strings.Join(flags, " "), func(t *testing.T) {
			r := runIn(t, root, rootfs, flags, "sh", "-c", "cat /data/in && echo from container > /data/out")
			r.wantExit(t, 0)
			if r.stdout != "from host\n" {
				t.Errorf("stdout %q, want the host file's content\n%s", r.stdout, r)
			}
			wantHostFile(t, filepath.Join(host, "out"), "from container\n")
			os.Remove(filepath.Join(host, "out"))
		})
	}
}

func TestVolumeBindMountReadOnly(t *testing.T) {
	root, rootfs, host := t.TempDir(), ownRootfs(t), t.TempDir()
	in := filepath.Join(host, "in")
	writeHostFile(t, in, "unchanged\n")
	for _, flags := range [][]string{
		{"-v", host + ":/data:ro"},
		{"--mount", "type=bind,source=" + host + ",target=/data,readonly"},
	} {
		t.Run(strings.Join(flags, " "), func(t *testing.T) {
			r := runIn(t, root, rootfs, flags, "sh", "-c", "cat /data/in; echo changed > /data/in || exit 3; touch /data/new || exit 4")
			r.wantExit(t, 3)
			r.wantStderr(t, "Read-only file system")
			if r.stdout != "unchanged\n" {
				t.Errorf("stdout %q, want the host file readable\n%s", r.stdout, r)
			}
			wantHostFile(t, in, "unchanged\n")
			if _, err := os.Stat(filepath.Join(host, "new")); err == nil {
				t.Error("a file was made in a read-only bind mount")
			}
		})
	}
}

// -v makes a missing host directory, as Docker's; --mount refuses it.
func TestVolumeBindMissingSource(t *testing.T) {
	root, rootfs := t.TempDir(), ownRootfs(t)
	missing := filepath.Join(t.TempDir(), "made", "by", "v")
	r := runIn(t, root, rootfs, []string{"-v", missing + ":/data"}, "sh", "-c", "echo hi > /data/f")
	r.wantExit(t, 0)
	wantHostFile(t, filepath.Join(missing, "f"), "hi\n")

	refused := filepath.Join(t.TempDir(), "absent")
	r = runIn(t, root, rootfs, []string{"--mount", "type=bind,source=" + refused + ",target=/data"}, "true")
	r.wantExit(t, 125)
	r.wantStderr(t, "--mount", "bind source path does not exist: "+refused)
	if _, err := os.Stat(refused); err == nil {
		t.Error("--mount made the missing bind source")
	}
}

func TestVolumeNamedPersists(t *testing.T) {
	root, rootfs := t.TempDir(), ownRootfs(t)
	runIn(t, root, rootfs, []string{"-v", "data:/d"}, "sh", "-c", "echo kept > /d/f").wantExit(t, 0)
	r := runIn(t, root, rootfs, []string{"--mount", "source=data,target=/other,readonly"}, "sh", "-c", "cat /other/f; echo x > /other/g")
	if r.stdout != "kept\n" || r.code == 0 {
		t.Errorf("second run: want the first's file and the write refused (read-only)\n%s", r)
	}
	wantHostFile(t, filepath.Join(root, "volumes", "data", "_data", "f"), "kept\n")
	ls := mdi(t, root, "volume", "ls", "-q")
	ls.wantExit(t, 0)
	if ls.stdout != "data\n" {
		t.Errorf("volume ls -q: %q, want data\n%s", ls.stdout, ls)
	}
}

// -v TARGET: an anonymous volume, removed with the container (which
// minimal-docker always removes, as Docker's run --rm).
func TestVolumeAnonymous(t *testing.T) {
	root, rootfs := t.TempDir(), ownRootfs(t)
	r := runIn(t, root, rootfs, []string{"-v", "/anon", "--mount", "type=volume,target=/anon2"}, "sh", "-c", "echo x > /anon/f && echo y > /anon2/f && cat /anon/f /anon2/f")
	r.wantExit(t, 0)
	if r.stdout != "x\ny\n" {
		t.Errorf("stdout %q, want x y\n%s", r.stdout, r)
	}
	if ls := mdi(t, root, "volume", "ls", "-q"); ls.stdout != "" {
		t.Errorf("anonymous volumes left after the run: %q", ls.stdout)
	}
}

func TestVolumeMountTmpfs(t *testing.T) {
	root, rootfs := t.TempDir(), ownRootfs(t)
	r := runIn(t, root, rootfs, []string{"--mount", "type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770"},
		"sh", "-c", "grep ' /t ' /proc/mounts; stat -c %a /t")
	r.wantExit(t, 0)
	if !strings.Contains(r.stdout, "tmpfs /t tmpfs") || !strings.Contains(r.stdout, "size=1024k") || !strings.Contains(r.stdout, "\n1770\n") {
		t.Errorf("want a 1m tmpfs of mode 1770 at /t\n%s", r)
	}
}

// A mount target through a symlink in the rootfs lands inside the root:
// the host directory the link names is untouched.
func TestVolumeTargetThroughSymlink(t *testing.T) {
	root, rootfs, aimed := t.TempDir(), ownRootfs(t), t.TempDir()
	canary := filepath.Join(aimed, "canary")
	writeHostFile(t, canary, "host's\n")
	if err := os.Symlink(aimed, filepath.Join(rootfs, "escape")); err != nil {
		t.Fatal(err)
	}
	host := t.TempDir()
	for _, tc := range []struct {
		flags  []string
		landed string // where the container's write to /escape/canary must land
	}{
		{[]string{"-v", "vol:/escape"}, filepath.Join(root, "volumes", "vol", "_data", "canary")},
		{[]string{"-v", host + ":/escape"}, filepath.Join(host, "canary")},
		{[]string{"--mount", "type=tmpfs,target=/escape/sub"}, ""},
	} {
		t.Run(strings.Join(tc.flags, " "), func(t *testing.T) {
			// The mount is where the link leads inside the root: the
			// container's write goes through it.
			r := runIn(t, root, rootfs, tc.flags, "sh", "-c", "echo container > /escape/canary; mkdir -p /escape/sub; echo x > /escape/sub/f; grep -c ' "+aimed+"' /proc/mounts")
			r.wantExit(t, 0)
			if r.stdout != "1\n" {
				t.Errorf("want one mount at %s inside the container\n%s", aimed, r)
			}
			if tc.landed != "" {
				wantHostFile(t, tc.landed, "container\n")
			}
			wantHostFile(t, canary, "host's\n")
			entries, _ := os.ReadDir(aimed)
			if len(entries) != 1 {
				t.Errorf("the host directory the symlink names holds %d entries, want only the canary", len(entries))
			}
		})
	}
}

func TestVolumeBadFlags(t *testing.T) {
	root, rootfs := t.TempDir(), ownRootfs(t)
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"-v", "data:rel"}, `invalid -v "data:rel"`},
		{[]string{"-v", "bad/name:/d"}, "includes invalid characters for a local volume name"},
		{[]string{"-v", "/h:/d:rx"}, `invalid mode "rx"`},
		{[]string{"--mount", "type=nfs,target=/d"}, `invalid --mount "type=nfs,target=/d"`},
		{[]string{"--mount", "type=bind,target=/d"}, "source is required"},
		{[]string{"-v", "a1:/d", "-v", "b1:/d"}, "duplicate mount point /d"},
	} {
		t.Run(strings.Join(tc.flags, " "), func(t *testing.T) {
			r := runIn(t, root, rootfs, tc.flags, "true")
			r.wantExit(t, 125)
			r.wantStderr(t, tc.want)
			if _, err := os.Stat(filepath.Join(root, "volumes")); err == nil {
				t.Error("a refused run made volumes")
			}
		})
	}
}

func TestVolumeVerbs(t *testing.T) {
	root := t.TempDir()
	r := mdi(t, root, "volume", "create", "named")
	r.wantExit(t, 0)
	if r.stdout != "named\n" {
		t.Errorf("volume create named printed %q", r.stdout)
	}
	r = mdi(t, root, "volume", "create")
	r.wantExit(t, 0)
	random := strings.TrimSpace(r.stdout)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(random) {
		t.Errorf("volume create without a name printed %q, want 64 hex digits", r.stdout)
	}
	mdi(t, root, "volume", "create", "bad/name").wantExit(t, 1)

	r = mdi(t, root, "volume", "ls")
	r.wantExit(t, 0)
	lines := r.lines()
	if len(lines) != 3 || !regexp.MustCompile(`^DRIVER +VOLUME NAME$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^local +`+random+`$`).MatchString(lines[1]) || !regexp.MustCompile(`^local +named$`).MatchString(lines[2]) {
		t.Errorf("volume ls:\n%s", r)
	}

	r = mdi(t, root, "volume", "inspect", "named")
	r.wantExit(t, 0)
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got) != 1 {
		t.Fatalf("volume inspect: %v\n%s", err, r)
	}
	v := got[0]
	if v["Name"] != "named" || v["Driver"] != "local" || v["Scope"] != "local" ||
		v["Mountpoint"] != filepath.Join(root, "volumes", "named", "_data") {
		t.Errorf("volume inspect: %v", v)
	}
	for _, k := range []string{"CreatedAt", "Labels", "Options"} {
		if _, ok := v[k]; !ok {
			t.Errorf("volume inspect has no %s: %v", k, v)
		}
	}
	r = mdi(t, root, "volume", "inspect", "named", "nosuch")
	r.wantExit(t, 1)
	r.wantStderr(t, "no such volume")

	r = mdi(t, root, "volume", "rm", "nosuch")
	r.wantExit(t, 1)
	r.wantStderr(t, "nosuch", "no such volume")
	mdi(t, root, "volume", "rm", "-f", "nosuch").wantExit(t, 0)
	r = mdi(t, root, "volume", "rm", random)
	r.wantExit(t, 0)
	if r.stdout != random+"\n" {
		t.Errorf("volume rm printed %q", r.stdout)
	}

	// prune: anonymous volumes by default (none here), every unused one with -a.
	r = mdi(t, root, "volume", "prune", "-f")
	r.wantExit(t, 0)
	if ls := mdi(t, root, "volume", "ls", "-q"); ls.stdout != "named\n" {
		t.Errorf("volume prune -f removed a named volume: ls -q %q", ls.stdout)
	}
	r = mdi(t, root, "volume", "prune", "-a", "-f")
	r.wantExit(t, 0)
	if !strings.Contains(r.stdout, "Deleted Volumes:\nnamed\n") {
		t.Errorf("volume prune -a -f:\n%s", r)
	}
	if ls := mdi(t, root, "volume", "ls", "-q"); ls.stdout != "" {
		t.Errorf("volumes left after prune -a: %q", ls.stdout)
	}
}

// A volume a running container uses is not removed, not even with -f, nor
// pruned; once the container is gone it is.
func TestVolumeRmInUse(t *testing.T) {
	root, rootfs := t.TempDir(), ownRootfs(t)
	p := startWithStdin(t, "--root", root, "run", "-i", "-v", "busy:/d", rootfs, "sh", "-c", "echo ready; read x; echo done > /d/f")
	p.waitLine(t, "ready")
	for _, args := range [][]string{{"volume", "rm", "busy"}, {"volume", "rm", "-f", "busy"}} {
		r := mdi(t, root, args...)
		r.wantExit(t, 1)
		r.wantStderr(t, "busy", "volume is in use")
	}
	if r := mdi(t, root, "volume", "prune", "-a", "-f"); strings.Contains(r.stdout, "busy") {
		t.Errorf("volume prune removed a volume in use\n%s", r)
	}
	p.release(t)
	p.wait(t).wantExit(t, 0)
	wantHostFile(t, filepath.Join(root, "volumes", "busy", "_data", "f"), "done\n")
	mdi(t, root, "volume", "rm", "busy").wantExit(t, 0)
}

// An image's container mounts volumes on its overlay root as a rootfs
// container does; the image's own files stay untouched.
func TestVolumeImageRun(t *testing.T) {
	reg := startRegistry(t)
	ref := reg + "/test/vol:1"
	pushBusyboxImage(t, ref, v1.Config{Env: []string{"PATH=/bin"}, Cmd: []string{"sh"}})
	root, host := t.TempDir(), t.TempDir()
	mdi(t, root, "pull", "-q", ref).wantExit(t, 0)
	r := mdi(t, root, "run", "-v", "data:/app", "-v", host+":/mnt/host", ref,
		"sh", "-c", "ls /app; echo v > /app/f; echo h > /mnt/host/f")
	r.wantExit(t, 0)
	if r.stdout != "" {
		t.Errorf("/app is the empty volume, not the image's /app: ls printed %q\n%s", r.stdout, r)
	}
	wantHostFile(t, filepath.Join(root, "volumes", "data", "_data", "f"), "v\n")
	wantHostFile(t, filepath.Join(host, "f"), "h\n")
	r = mdi(t, root, "run", ref, "cat", "/app/hello")
	if r.stdout != "from-image\n" {
		t.Errorf("the image's /app after a run with a volume over it\n%s", r)
	}
}
