package integration

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/spec"
	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// TestMountInsideInvisibleOutside mounts a tmpfs inside a running container
// and looks for it from the host while the container still runs.
func TestMountInsideInvisibleOutside(t *testing.T) {
	testenv.RequireRoot(t)
	source := uniqueName("md-inner")
	dir := "/tmp/" + source
	t.Cleanup(func() { os.RemoveAll(filepath.Join(env.rootfs, dir)) })
	// mount needs CAP_SYS_ADMIN, which the defaults (Docker's 14) leave out.
	p := startWithStdin(t, runArgs([]string{"-i", "--cap-add", "SYS_ADMIN"}, "sh", "-c",
		"mkdir -p "+dir+" && mount -t tmpfs "+source+" "+dir+" && echo secret > "+dir+"/file && "+
			"grep -q "+source+" /proc/self/mountinfo && echo ready && read x")...)
	p.waitLine(t, "ready")

	mounts, err := testenv.ReadMountinfo()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mounts {
		if m.Source == source || strings.Contains(m.Mountpoint, source) {
			t.Errorf("the container's mount shows in the host's mount table: %s", m.Line)
		}
	}
	if _, err := os.Stat(filepath.Join(env.rootfs, dir, "file")); !os.IsNotExist(err) {
		t.Errorf("a file on the container's tmpfs is visible in the rootfs on the host (stat: %v)", err)
	}
	p.release(t)
	p.wait(t).wantExit(t, 0)
}

// TestHostMountsNotVisible checks the container's mount table: exactly one
// root (the rootfs), the mounts minimal-docker makes, and nothing of the
// host's.
func TestHostMountsNotVisible(t *testing.T) {
	testenv.RequireRoot(t)
	r := run(t, nil, "cat", "/proc/self/mountinfo")
	r.wantExit(t, 0)
	inside, err := testenv.ParseMountinfo(r.stdout)
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"/": true, "/proc": true, "/dev": true, "/dev/pts": true,
		"/dev/shm": true, "/dev/mqueue": true, "/sys": true,
		// The container's own files (network_names_test.go), from its
		// directory under --root.
		"/etc/hosts": true, "/etc/hostname": true, "/etc/resolv.conf": true}
	// The default masked paths (an empty tmpfs or /dev/null over them).
	for _, p := range spec.DefaultMaskedPaths {
		allowed[p] = true
	}
	var roots []testenv.Mount
	for _, m := range inside {
		switch {
		case m.Mountpoint == "/":
			roots = append(roots, m)
		case strings.HasPrefix(m.Mountpoint, "/etc/"):
			// --root/writable/ID/hosts on /etc/hosts...
			if !allowed[m.Mountpoint] || filepath.Base(filepath.Dir(filepath.Dir(m.Root))) != "writable" || filepath.Base(m.Root) != filepath.Base(m.Mountpoint) {
				t.Errorf("unexpected mount inside the container: %s", m.Line)
			}
		case allowed[m.Mountpoint], testenv.IsUnder(m.Mountpoint, "/sys/fs/cgroup"), testenv.IsUnder(m.Mountpoint, "/proc"):
		default:
			t.Errorf("unexpected mount inside the container: %s", m.Line)
		}
	}
	if len(roots) != 1 {
		t.Errorf("%d mounts on /, want 1 (the rootfs; the old root detached)\n%s", len(roots), r)
	} else if !strings.HasSuffix(roots[0].Root, "/rootfs") {
		t.Errorf("the container's / is %s, want the rootfs %s: %s", roots[0].Root, env.rootfs, roots[0].Line)
	}

	host, err := testenv.ReadMountinfo()
	if err != nil {
		t.Fatal(err)
	}
	insidePoints := map[string]bool{}
	for _, m := range inside {
		insidePoints[m.Mountpoint] = true
	}
	var leaked []string
	for _, m := range host {
		if !allowed[m.Mountpoint] && !testenv.IsUnder(m.Mountpoint, "/sys/fs/cgroup") && insidePoints[m.Mountpoint] {
			leaked = append(leaked, m.Mountpoint)
		}
	}
	sort.Strings(leaked)
	if len(leaked) > 0 {
		t.Errorf("host mount points visible inside the container: %v", leaked)
	}
}

// TestSysReadOnly checks that /sys and the cgroup filesystems under it are
// mounted read-only and refuse writes.
func TestSysReadOnly(t *testing.T) {
	testenv.RequireRoot(t)
	r := run(t, nil, "sh", "-c", "cat /proc/self/mountinfo; if mkdir /sys/fs/cgroup/md-test 2>/dev/null; then echo WRITABLE; fi")
	r.wantExit(t, 0)
	if strings.Contains(r.stdout, "WRITABLE") {
		t.Errorf("mkdir under /sys/fs/cgroup succeeded inside the container\n%s", r)
	}
	mounts, err := testenv.ParseMountinfo(strings.ReplaceAll(r.stdout, "WRITABLE\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	sawSys, sawCgroup := false, false
	for _, m := range mounts {
		if m.Mountpoint != "/sys" && !testenv.IsUnder(m.Mountpoint, "/sys/fs/cgroup") {
			continue
		}
		sawSys = sawSys || m.Mountpoint == "/sys"
		sawCgroup = sawCgroup || testenv.IsUnder(m.Mountpoint, "/sys/fs/cgroup")
		if !hasOption(m.Options, "ro") {
			t.Errorf("%s is mounted read-write: %s", m.Mountpoint, m.Line)
		}
	}
	if !sawSys {
		t.Errorf("no mount on /sys\n%s", r)
	}
	if !sawCgroup {
		t.Errorf("no mount on /sys/fs/cgroup\n%s", r)
	}
}

func hasOption(options, want string) bool {
	for _, o := range strings.Split(options, ",") {
		if o == want {
			return true
		}
	}
	return false
}
