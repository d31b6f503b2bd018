package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
	"github.com/minimal-docker/minimal-docker/tests/internal/dockerlike"
)

// dockerd is one dockerd started by a test, with its data root, exec root,
// socket and pid file under dir, the runtime under test added with
// --add-runtime, and the docker CLI of the same package.
type dockerd struct {
	s       *suite
	dir     string
	sock    string
	parent  string // --cgroup-parent: containers go to PARENT/ID
	d       *daemon
	started time.Time
	cliEnv  []string
	ids     map[string]string // name -> full container ID
}

// TestDocker drives each runtime through dockerd (`--add-runtime NAME=RUNTIME`,
// `docker run --runtime NAME`), with Docker's defaults: its seccomp
// profile, its prestart hook.
func TestDocker(t *testing.T) {
	requireInterop(t)
	requireTools(t, "dockerd", "docker", "containerd", "containerd-shim-runc-v2", "umoci", "skopeo")
	for _, rt := range env.runtimes {
		t.Run(rt.name, func(t *testing.T) { testDocker(t, rt) })
	}
}

func testDocker(t *testing.T, rt runtimeUnderTest) {
	s := newSuite(t, "docker", rt)
	dir := instanceDir(t, "dkr", rt)
	k := &dockerd{s: s, dir: dir, sock: filepath.Join(dir, "docker.sock"), parent: "/" + uniqueName("dkr", rt),
		ids: map[string]string{}, cliEnv: cleanEnv("DOCKER_CONFIG=" + filepath.Join(dir, "client"))}
	l := &leftovers{dir: dir, parents: []string{k.parent}, residue: []string{k.parent}}
	l.before = takeSnapshot(t, l.parents)
	teardown := teardownOnce(t, func(t *testing.T) error { return k.teardown(t, l) })

	s.check("start", nil, func(t *testing.T) error { return k.start() })
	s.check("load", []string{"start"}, func(t *testing.T) error {
		archive, err := imageArchive(t)
		if err != nil {
			return err
		}
		if r := k.docker("load", "-i", archive); r.Code != 0 {
			return r.Failure()
		}
		if r := k.docker("image", "inspect", "--format", "{{.Id}}", imageTag); r.Code != 0 {
			return fmt.Errorf("docker image inspect %s after the load: %s\n%s", imageTag, r.Why(), r)
		}
		return nil
	})
	dockerlike.RunEchoChecks(s.Suite, k)
	s.check("exit-status", []string{"load"}, func(t *testing.T) error {
		r := k.docker(k.RunArgs("--rm", "sh", "-c", "exit 3")...)
		if r.Code != 3 {
			return k.WithLog(fmt.Errorf("exit status %d, want 3: %s\n%s", r.Code, r.Why(), r))
		}
		return nil
	})
	s.check("run-detached", []string{"load"}, func(t *testing.T) error {
		r := k.docker(k.RunArgs("-d", "--name", "detached", "sleep", "1000")...)
		if r.Code != 0 {
			return k.WithLog(r.Failure())
		}
		k.ids["detached"] = r.Out()
		var st struct {
			State      struct{ Status string }
			HostConfig struct{ Runtime string }
		}
		if err := k.inspect("detached", &st); err != nil {
			return err
		}
		if st.State.Status != "running" || st.HostConfig.Runtime != rt.dockerName {
			return fmt.Errorf("docker inspect: status %q runtime %q, want running and %q",
				st.State.Status, st.HostConfig.Runtime, rt.dockerName)
		}
		return nil
	})
	s.check("runtime-state", []string{"run-detached"}, func(t *testing.T) error {
		root, err := k.runtimeRoot(k.ids["detached"])
		if err != nil {
			return err
		}
		r := s.run(rt.name+" state", cleanEnv(), rt.path, "--root", root, "state", k.ids["detached"])
		if r.Code != 0 {
			return r.Failure()
		}
		var st struct{ Status string }
		if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil || st.Status != "running" {
			return fmt.Errorf("%s state: status %q (%v), want running\n%s", rt.name, st.Status, err, r)
		}
		return nil
	})
	// Not in the list for Docker: pause-unpause (it is for
	// containerd and Podman).
	dockerlike.DetachedChecks(s.Suite, k, "")
	archiveChecks(s, k)
	s.check(checkNoLeftovers, nil, teardown)
}

// start starts dockerd and waits until it answers. No iptables, no
// forwarding, no bridge: containers run with --network none. The trust key
// goes under dir (its default is /etc/docker/key.json).
func (k *dockerd) start() error {
	d := func(name string) string { return filepath.Join(k.dir, name) }
	cfg := d("daemon.json")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("{%q: %q}\n", "deprecated-key-path", d("key.json"))), 0o644); err != nil {
		return err
	}
	argv := []string{tool("dockerd"),
		"--config-file", cfg,
		"--data-root", d("data"),
		"--exec-root", d("exec"),
		"--pidfile", d("docker.pid"),
		"-H", "unix://" + k.sock,
		"--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false",
		"--bridge=none",
		"--storage-driver", "vfs",
		"--cgroup-parent", k.parent,
		"--add-runtime", k.s.rt.dockerName + "=" + k.s.rt.path,
	}
	k.started = time.Now()
	dm, err := startDaemon("dockerd", d("dockerd.log"), cleanEnv(), argv...)
	if err != nil {
		return err
	}
	k.d = dm
	k.s.T.Logf("dockerd pid %d, log %s", dm.Pid(), dm.logPath)
	return dm.waitReady(func() cmdResult {
		return runCmd(k.cliEnv, tool("docker"), "-H", "unix://"+k.sock, "version")
	})
}

// docker runs the docker CLI against this dockerd.
func (k *dockerd) docker(args ...string) cmdResult {
	return k.s.run(labelFor("docker", args), k.cliEnv, append([]string{tool("docker"), "-H", "unix://" + k.sock}, args...)...)
}

// RunArgs is `run --runtime NAME --network none --pull never FLAGS... IMAGE
// ARGS...` with the busybox image.
func (k *dockerd) RunArgs(args ...string) []string { return k.runImageArgs(imageTag, args...) }

// runImageArgs is RunArgs with the image img.
func (k *dockerd) runImageArgs(img string, args ...string) []string {
	return dockerlike.RunArgv([]string{"run", "--runtime", k.s.rt.dockerName, "--network", "none", "--pull", "never"}, img, args)
}

// runtimeRoot finds the --root that dockerd's shim gives the runtime for
// the container id: dockerd 20.10 uses EXEC-ROOT/runtime-runc for every
// runc-like runtime, with containerd's namespace "moby" beneath it.
func (k *dockerd) runtimeRoot(id string) (string, error) {
	roots, _ := filepath.Glob(filepath.Join(k.dir, "exec", "runtime-*", "moby"))
	for _, root := range roots {
		if _, err := os.Stat(filepath.Join(root, id)); err == nil {
			return root, nil
		}
	}
	return "", fmt.Errorf("no runtime state for %s in any of %v", id, roots)
}

// inspect decodes docker inspect NAME into v.
func (k *dockerd) inspect(name string, v any) error {
	r := k.docker("inspect", "--type", "container", "--format", "{{json .}}", name)
	if r.Code != 0 {
		return r.Failure()
	}
	if err := json.Unmarshal([]byte(r.Out()), v); err != nil {
		return fmt.Errorf("docker inspect %s: %v\n%s", name, err, r)
	}
	return nil
}

// CLI, ID, RuntimeState and CgroupGone: dockerlike.Engine.
func (k *dockerd) CLI(args ...string) cmdResult { return k.docker(args...) }

func (k *dockerd) ID(name string) string { return k.ids[name] }

func (k *dockerd) RuntimeState(id string) (string, bool) {
	root, err := k.runtimeRoot(id)
	return filepath.Join(root, id), err == nil
}

func (k *dockerd) CgroupGone(id string) error { return cgroupGone(k.parent + "/" + id) }

// WantStatus polls docker inspect until the container has status.
func (k *dockerd) WantStatus(name, status string) error {
	var last cmdResult
	err := poll(func() error {
		last = runCmd(k.cliEnv, tool("docker"), "-H", "unix://"+k.sock, "inspect", "--format", "{{.State.Status}}", name)
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

// WithLog appends the last errors dockerd logged.
func (k *dockerd) WithLog(err error) error {
	if k.d == nil {
		return err
	}
	if lines := k.d.logGrep(10, []string{"error"}); lines != "" {
		return fmt.Errorf("%w\ndockerd's log (errors, last ones):\n%s", err, testenv.Indent(lines))
	}
	return err
}

// teardown removes every container, stops dockerd by its PID (it stops
// its containerd), and checks for leftovers.
func (k *dockerd) teardown(t *testing.T, l *leftovers) error {
	var errs errList
	if k.s.Stalled() != "" {
		t.Logf("teardown: not removing containers through dockerd, which hung (%s)", k.s.Stalled())
	} else if k.d != nil && !k.d.Exited() {
		base := []string{tool("docker"), "-H", "unix://" + k.sock}
		// The IDs of every container it made, removed or not.
		r := runCmd(k.cliEnv, append(base, "events", "--since", strconv.FormatInt(k.started.Unix(), 10),
			"--until", strconv.FormatInt(time.Now().Unix()+1, 10),
			"--filter", "type=container", "--filter", "event=create", "--format", "{{.Actor.ID}}")...)
		l.names = append(l.names, nonEmptyLines(r.Stdout)...)
		r = runCmd(k.cliEnv, append(base, "ps", "-a", "-q")...)
		if ids := nonEmptyLines(r.Stdout); len(ids) > 0 {
			if r := runCmd(k.cliEnv, append(append(base, "rm", "-f"), ids...)...); r.Code != 0 {
				t.Logf("teardown: %v", r.Failure())
			}
		}
	}
	if k.d != nil {
		if err := k.d.stop(30 * time.Second); err != nil {
			errs.Add("%v", err)
		}
	}
	if err := l.check(t); err != nil {
		errs = append(errs, err)
	}
	return errs.Err()
}
