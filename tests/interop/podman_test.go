package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/tests/internal/dockerlike"
	"golang.org/x/sys/unix"
)

// podman is Podman with its storage, run root, temporary and network
// directories under dir, and a containers.conf of its own.
type podman struct {
	s       *suite
	dir     string
	parent  string // --cgroup-parent of every container
	env     []string
	started time.Time
	ids     map[string]string // name -> full container ID
}

// podmanConf: the cgroupfs manager, the file events logger, libpod's state
// under the test's directory, and default ulimits this host allows:
// Podman's defaults (nofile 1048576, nproc = its own limit) are above the
// hard limits here and raising them needs CAP_SYS_RESOURCE.
const podmanConf = `[containers]
default_ulimits = ["nofile=%[1]d:%[1]d", "nproc=%[2]d:%[2]d"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = %[3]q
tmp_dir = %[4]q
static_dir = %[5]q
volume_path = %[6]q

[network]
network_config_dir = %[7]q
`

const podmanStorageConf = `[storage]
driver = "vfs"
graphroot = %q
runroot = %q
`

// TestPodman drives each runtime through Podman (`podman --runtime RUNTIME`).
func TestPodman(t *testing.T) {
	requireInterop(t)
	requireTools(t, "podman", "conmon", "umoci", "skopeo")
	for _, rt := range env.runtimes {
		t.Run(rt.name, func(t *testing.T) { testPodman(t, rt) })
	}
}

func testPodman(t *testing.T, rt runtimeUnderTest) {
	s := newSuite(t, "podman", rt)
	dir := instanceDir(t, "pod", rt)
	p := &podman{s: s, dir: dir, parent: "/" + uniqueName("pod", rt), ids: map[string]string{}}
	// conmon's cgroup, PARENT/conmon, is left by Podman by design.
	l := &leftovers{dir: dir, parents: []string{p.parent}, residue: []string{p.parent, p.parent + "/conmon"}}
	l.before = takeSnapshot(t, l.parents)
	teardown := teardownOnce(t, func(t *testing.T) error { return p.teardown(t, l) })

	s.check("configure", nil, func(t *testing.T) error { return p.configure() })
	dockerlike.PodmanChecks(s.Suite, p, "")
	s.check("userns-container", []string{"load"}, func(*testing.T) error { return p.usernsContainer() })
	s.check(checkNoLeftovers, nil, teardown)
}

// usernsContainer: `run --userns container:NAME` runs a container in
// another's user namespace (Podman gives the runtime its path, with the
// maps): root inside, with the owner's maps and namespace.
func (p *podman) usernsContainer() error {
	owner := p.podman(p.RunArgs("-d", "--name=usernsowner", "--uidmap=0:1:1000", "--gidmap=0:1:1000", "sleep", "1000")...)
	if owner.Code != 0 {
		return owner.Failure()
	}
	defer p.podman("rm", "-f", "-t", "0", "usernsowner")
	pid := p.podman("inspect", "--format", "{{.State.Pid}}", "usernsowner")
	if pid.Code != 0 {
		return pid.Failure()
	}
	want, err := os.Readlink("/proc/" + pid.Out() + "/ns/user")
	if err != nil {
		return err
	}
	r := p.podman(p.RunArgs("--rm", "--userns=container:usernsowner", "sh", "-c", "cat /proc/self/uid_map; readlink /proc/self/ns/user; id -u")...)
	if r.Code != 0 {
		return r.Failure()
	}
	if got := strings.Join(strings.Fields(r.Stdout), " "); got != "0 1 1000 "+want+" 0" {
		return fmt.Errorf("uid_map, user namespace and uid: %q, want %q (the owner's)\n%s", got, "0 1 1000 "+want+" 0", r)
	}
	return nil
}

// configure writes containers.conf and storage.conf and makes the
// directories they name.
func (p *podman) configure() error {
	d := func(name string) string { return filepath.Join(p.dir, name) }
	for _, name := range []string{"tmp", "net", "imgtmp"} {
		if err := os.MkdirAll(d(name), 0o700); err != nil {
			return err
		}
	}
	nofile, nproc := hostLimit(unix.RLIMIT_NOFILE), min(hostLimit(unix.RLIMIT_NPROC), maxPIDs())
	conf := fmt.Sprintf(podmanConf, nofile, nproc, d("events.log"), d("tmp"),
		d("root/libpod"), d("root/volumes"), d("net"))
	if err := os.WriteFile(d("containers.conf"), []byte(conf), 0o644); err != nil {
		return err
	}
	storage := fmt.Sprintf(podmanStorageConf, d("root"), d("runroot"))
	if err := os.WriteFile(d("storage.conf"), []byte(storage), 0o644); err != nil {
		return err
	}
	p.started = time.Now()
	p.env = cleanEnv("CONTAINERS_CONF="+d("containers.conf"), "CONTAINERS_STORAGE_CONF="+d("storage.conf"),
		"TMPDIR="+d("imgtmp"))
	p.s.T.Logf("podman: containers.conf:\n%s", conf)
	return nil
}

// podman runs podman with the runtime under test and the test's storage.
func (p *podman) podman(args ...string) cmdResult {
	return p.s.run(labelFor("podman", args), p.env, append(p.globalArgs(), args...)...)
}

func (p *podman) globalArgs() []string {
	return []string{tool("podman"), "--root", filepath.Join(p.dir, "root"), "--runroot", filepath.Join(p.dir, "runroot"),
		"--storage-driver", "vfs", "--runtime", p.s.rt.path, "--cgroup-manager", "cgroupfs",
		"--events-backend", "file"}
}

// RunArgs is `run --network none --pull never --cgroup-parent P FLAGS...
// IMAGE ARGS...` (flags end where the first argument without a leading
// dash after them begins: the command).
func (p *podman) RunArgs(args ...string) []string {
	return dockerlike.RunArgv([]string{"run", "--network", "none", "--pull", "never", "--cgroup-parent", p.parent}, imageFullRef, args)
}

// Load loads the busybox image archive (dockerlike.Podman).
func (p *podman) Load(t *testing.T) error {
	archive, err := imageArchive(t)
	if err != nil {
		return err
	}
	if r := p.podman("load", "-i", archive); r.Code != 0 {
		return r.Failure()
	}
	if r := p.podman("image", "exists", imageFullRef); r.Code != 0 {
		return fmt.Errorf("podman image exists %s after the load: %s\n%s", imageFullRef, r.Why(), r)
	}
	return nil
}

// CLI, WithLog, ID, SetID, RuntimePath, RuntimeState and CgroupGone:
// dockerlike.Podman.
func (p *podman) CLI(args ...string) cmdResult { return p.podman(args...) }

// WithLog: Podman has no daemon, hence no log to add.
func (p *podman) WithLog(err error) error { return err }

func (p *podman) ID(name string) string { return p.ids[name] }

func (p *podman) SetID(name, id string) { p.ids[name] = id }

func (p *podman) RuntimePath() string { return p.s.rt.path }

func (p *podman) RuntimeState(id string) (string, bool) {
	path := filepath.Join(p.s.rt.defaultRoot, id)
	_, err := os.Stat(path)
	return path, err == nil
}

func (p *podman) CgroupGone(id string) error { return cgroupGone(p.parent + "/libpod-" + id) }

// WantStatus polls podman inspect until the container has status.
func (p *podman) WantStatus(name, status string) error {
	var last cmdResult
	err := poll(func() error {
		last = runCmd(p.env, append(p.globalArgs(), "inspect", "--format", "{{.State.Status}}", name)...)
		if last.Out() != status {
			return fmt.Errorf("container %s is %q, want %q", name, last.Out(), status)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%v (after %v)\n%s", err, env.timeout, last)
	}
	return nil
}

// teardown removes every container (Podman has no daemon to stop) and
// checks for leftovers.
func (p *podman) teardown(t *testing.T, l *leftovers) error {
	if p.env != nil && p.s.Stalled() != "" {
		t.Logf("teardown: not removing containers through Podman, which hung (%s)", p.s.Stalled())
	} else if p.env != nil {
		// The IDs of every container it made, removed or not.
		r := runCmd(p.env, append(p.globalArgs(), "events", "--since", p.started.Format(time.RFC3339),
			"--until", time.Now().Add(time.Second).Format(time.RFC3339),
			"--filter", "event=create", "--format", "{{.ID}}")...)
		l.names = append(l.names, nonEmptyLines(r.Stdout)...)
		if r := runCmd(p.env, append(p.globalArgs(), "rm", "--all", "--force", "--time", "0")...); r.Code != 0 {
			t.Logf("teardown: %v", r.Failure())
		}
	}
	return l.check(t)
}
