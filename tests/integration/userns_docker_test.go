package integration

// minimal-docker run --userns=auto (as root): each container its own
// range of host ids, its root filesystem seen through an idmapped mount.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
	"github.com/minimal-docker/minimal-docker/internal/userns"
)

// usernsRoot is a --root for --userns=auto tests: a temporary directory
// whose parent the containers' roots may search (t.TempDir's parent is
// root's alone; --userns=auto opens the --root itself to them, 0711).
func usernsRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.Chmod(filepath.Dir(root), 0o755); err != nil {
		t.Fatal(err)
	}
	testenv.RequireIdmap(t, root)
	return root
}

// hostRootfs is a copy of the shared rootfs, owned by the host's root as
// it is, where a container's mapped root may search the way to it.
func hostRootfs(t *testing.T) string {
	t.Helper()
	dir := usernsRoot(t)
	root := filepath.Join(dir, "rootfs")
	if out, err := execCommand("cp", "-a", env.rootfs, root); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	return root
}

// mappedRoot reads the host id of a container's root from its uid_map
// line ("0 HOST SIZE"), checking that the range is --userns=auto's.
func mappedRoot(t *testing.T, uidMap string) uint32 {
	t.Helper()
	f := strings.Fields(uidMap)
	if len(f) != 3 || f[0] != "0" || f[2] != strconv.Itoa(userns.Size) {
		t.Fatalf("uid_map %q: want 0 HOST %d", uidMap, userns.Size)
	}
	host, err := strconv.ParseUint(f[1], 10, 32)
	if err != nil || host < userns.First || (host-userns.First)%userns.Size != 0 {
		t.Fatalf("uid_map %q: the host range is not one of --userns=auto's", uidMap)
	}
	return uint32(host)
}

// TestRunUsernsAuto: a container of --userns=auto is root inside, of a
// range of its own; the host's root-owned rootfs and its /etc files are
// its root's (idmapped), and what it writes there stays the host root's;
// the range is freed when it ends.
func TestRunUsernsAuto(t *testing.T) {
	root, rootfs := usernsRoot(t), hostRootfs(t)
	r := mdi(t, root, "run", "--userns=auto", "--network", "none", rootfs, "sh", "-c",
		"cat /proc/self/uid_map; id -u; stat -c %u:%g /bin/busybox /etc/hosts; touch /tmp/made")
	r.wantExit(t, 0)
	lines := r.lines()
	if len(lines) != 4 {
		t.Fatalf("want 4 lines\n%s", r)
	}
	mappedRoot(t, lines[0])
	if lines[1] != "0" || lines[2] != "0:0" || lines[3] != "0:0" {
		t.Errorf("id, owner of /bin/busybox and /etc/hosts = %q, want 0, 0:0, 0:0", lines[1:])
	}
	fi, err := os.Stat(filepath.Join(rootfs, "tmp", "made"))
	if err != nil {
		t.Fatal(err)
	}
	if uid, gid := ownerOf(fi); uid != 0 || gid != 0 {
		t.Errorf("a file the container made in its idmapped rootfs is %d:%d on the host, want 0:0", uid, gid)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "userns")); len(ents) != 0 {
		t.Errorf("the run's range is still allocated: %d allocation(s) left", len(ents))
	}
}

// TestRunUsernsAutoIsolated: two containers at once get ranges that do
// not overlap; a file root makes in one, on a bind mount both have, is
// its range's on the host and nobody's in the other; rm frees the ranges.
func TestRunUsernsAutoIsolated(t *testing.T) {
	root, rootfs := usernsRoot(t), hostRootfs(t)
	shared := filepath.Join(root, "shared")
	if err := os.Mkdir(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	a := detached(t, root, "--userns=auto", "--network", "none", "-v", shared+":/shared", rootfs, "sleep", "1000")
	b := detached(t, root, "--userns=auto", "--network", "none", "-v", shared+":/shared", rootfs, "sleep", "1000")
	mapOf := func(id string) uint32 {
		r := mdi(t, root, "exec", id, "cat", "/proc/self/uid_map")
		r.wantExit(t, 0)
		return mappedRoot(t, strings.TrimSpace(r.stdout))
	}
	ra, rb := mapOf(a), mapOf(b)
	if ra == rb {
		t.Fatalf("both containers got the range from %d", ra)
	}
	mdi(t, root, "exec", a, "sh", "-c", "echo a > /shared/from-a").wantExit(t, 0)
	fi, err := os.Stat(filepath.Join(shared, "from-a"))
	if err != nil {
		t.Fatal(err)
	}
	if uid, gid := ownerOf(fi); uid != int(ra) || gid != int(ra) {
		t.Errorf("a file A's root made on a bind mount is %d:%d on the host, want %d:%d (its range's root)", uid, gid, ra, ra)
	}
	r := mdi(t, root, "exec", b, "stat", "-c", "%u:%g", "/shared/from-a")
	r.wantExit(t, 0)
	if got := strings.TrimSpace(r.stdout); got != "65534:65534" {
		t.Errorf("in B, A's root's file is %s, want nobody's (65534:65534)", got)
	}
	// B's root can't change A's file (it is nobody's to B).
	if r := mdi(t, root, "exec", b, "sh", "-c", "echo b >> /shared/from-a"); r.code == 0 {
		t.Errorf("B's root wrote to A's root's 0644 file\n%s", r)
	}
	mdi(t, root, "rm", "-f", a, b).wantExit(t, 0)
	if ents, _ := os.ReadDir(filepath.Join(root, "userns")); len(ents) != 0 {
		t.Errorf("rm left %d range allocation(s)", len(ents))
	}
}

// TestRunUsernsAutoImage: an image's files (root's on the host) are its
// root's inside, through idmapped layers; what it writes goes to its
// writable layer, the image unchanged.
func TestRunUsernsAutoImage(t *testing.T) {
	reg := startRegistry(t)
	ref := reg + "/test/userns:1"
	pushBusyboxImage(t, ref, v1.Config{Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}})
	root := usernsRoot(t)
	mdi(t, root, "pull", ref).wantExit(t, 0)
	r := mdi(t, root, "run", "--userns=auto", "--network", "none", ref, "sh", "-c",
		"cat /proc/self/uid_map; stat -c %u:%g / /bin/busybox /app/hello; echo w > /app/hello; cat /app/hello; touch /new; stat -c %u:%g /new")
	r.wantExit(t, 0)
	lines := r.lines()
	if len(lines) != 6 {
		t.Fatalf("want 6 lines\n%s", r)
	}
	mappedRoot(t, lines[0])
	if got := strings.Join(lines[1:], " "); got != "0:0 0:0 0:0 w 0:0" {
		t.Errorf("owners of /, /bin/busybox, /app/hello; the write; a new file's owner = %q, want 0:0 0:0 0:0 w 0:0", got)
	}
	r = mdi(t, root, "run", "--network", "none", ref, "cat", "/app/hello")
	if r.code != 0 || r.stdout != "from-image\n" {
		t.Errorf("the image changed\n%s", r)
	}
}

// TestRunUsernsBad: --userns takes host or auto.
func TestRunUsernsBad(t *testing.T) {
	r := md(t, "run", "--userns=bogus", env.rootfs, "true")
	if r.code != 125 || !strings.Contains(r.stderr, `invalid --userns "bogus": want host, auto or keep-id`) {
		t.Errorf("want 125 naming --userns\n%s", r)
	}
}

func execCommand(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// TestRunUsernsAutoVolume: a named volume is an idmapped bind for a
// container of --userns=auto: its root owns the volume and writes in it,
// what it writes is root's on the host, and a second container of another
// range sees it as root's too (and may change it).
func TestRunUsernsAutoVolume(t *testing.T) {
	root, rootfs := usernsRoot(t), hostRootfs(t)
	r := mdi(t, root, "run", "--rm", "--userns=auto", "--network", "none", "-v", "uvol:/data", rootfs, "sh", "-c",
		"stat -c %u:%g /data; echo a > /data/f; stat -c %u:%g /data/f")
	r.wantExit(t, 0)
	if got := strings.Join(r.lines(), " "); got != "0:0 0:0" {
		t.Errorf("owners of the volume and of a file its root made = %q, want 0:0 0:0\n%s", got, r)
	}
	fi, err := os.Stat(filepath.Join(root, "volumes", "uvol", "_data", "f"))
	if err != nil {
		t.Fatal(err)
	}
	if uid, gid := ownerOf(fi); uid != 0 || gid != 0 {
		t.Errorf("the file on the host is %d:%d, want root's 0:0", uid, gid)
	}
	r = mdi(t, root, "run", "--rm", "--userns=auto", "--network", "none", "-v", "uvol:/data", rootfs, "sh", "-c",
		"stat -c %u:%g /data/f; echo b >> /data/f; cat /data/f")
	r.wantExit(t, 0)
	if got := strings.Join(r.lines(), " "); got != "0:0 a b" {
		t.Errorf("in a second container: %q, want 0:0 a b\n%s", got, r)
	}
	mdi(t, root, "volume", "rm", "uvol").wantExit(t, 0)
}
