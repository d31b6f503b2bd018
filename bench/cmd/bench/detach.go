package main

// The detached bench (issue 15, "Speed"): `run -d IMAGE sleep` until
// `ps` shows the container running, with minimal-docker, podman (conmon
// and its own OCI runtime) and docker (a dockerd of the bench's own, and
// the containerd it starts), interleaved round by round, each container
// removed after its round (not measured); then `ps -a` of minimal-docker
// with 100 containers, and the PSS of those 100 idle containers'
// monitors; then tests/monitor/mem.sh, our monitor beside conmon under the
// same harness. Every engine runs the same image, imported from the
// bench's busybox rootfs, with --network none.

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

var (
	detachRounds = flag.Int("detach", 10, "measured rounds of the detached bench, after one warm-up round (0 skips it)")
	detachOnly   = flag.Bool("detach-only", false, "run only the detached bench")
	psCount      = flag.Int("ps-containers", 100, "idle containers for the ps -a and monitor memory measures")
	memScript    = flag.String("monitor-mem", "tests/monitor/mem.sh", "our monitor beside conmon (\"\" skips it)")
)

// detachImage is the image every engine runs.
const detachImage = "mdbench/busybox:latest"

// engine is one way to run a detached container.
type engine struct {
	name, version, missing string
	// cli runs the engine's CLI with args; its output.
	cli func(args ...string) ([]byte, error)
	// runArgs is the run -d command for container name.
	runArgs func(name string) []string
	stop    func() // stops its daemon and removes what it made
	samples []time.Duration
	failed  error
}

// once runs one container detached and waits until ps shows it Up; the
// wall time of the two, then the container removed.
func (g *engine) once(name string) (time.Duration, error) {
	t0 := time.Now()
	if out, err := g.cli(g.runArgs(name)...); err != nil {
		return 0, fmt.Errorf("run -d: %w: %s", err, out)
	}
	deadline := time.Now().Add(pullTimeout)
	for {
		out, err := g.cli("ps", "--filter", "name=^"+name+"$", "--format", "{{.Status}}")
		if err != nil {
			return 0, fmt.Errorf("ps: %w: %s", err, out)
		}
		if strings.HasPrefix(string(out), "Up") {
			break
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s not Up within %v: %q", name, pullTimeout, out)
		}
	}
	wall := time.Since(t0)
	if out, err := g.cli("rm", "-f", name); err != nil {
		return 0, fmt.Errorf("rm -f: %w: %s", err, out)
	}
	return wall, nil
}

// cliOf runs bin with the fixed arguments pre and cmdEnv (nil: ours).
func cliOf(cmdEnv []string, bin string, pre ...string) func(args ...string) ([]byte, error) {
	return func(args ...string) ([]byte, error) {
		cmd := exec.Command(bin, append(slices.Clone(pre), args...)...)
		cmd.Env = cmdEnv
		return cmd.CombinedOutput()
	}
}

// detachBench runs the series and returns the report's section.
func (e *env) detachBench() string {
	var b strings.Builder
	b.WriteString("### Detached containers: `run -d IMAGE sleep` until `ps` shows it Up\n\n")
	dir := filepath.Join(e.tmp, "detach")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fmt.Fprintf(&b, "Not run: %v\n", err)
		return b.String()
	}
	defer cleanDir(dir)
	tar := filepath.Join(dir, "busybox.tar")
	if out, err := exec.Command("tar", "-C", e.rootfs, "-cf", tar, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(&b, "Not run: tar %s: %v: %s\n", e.rootfs, err, out)
		return b.String()
	}
	ours := e.ourEngine(filepath.Join(dir, "md"))
	engines := []*engine{ours, e.podmanEngine(filepath.Join(dir, "podman")), e.dockerEngine(filepath.Join(dir, "docker"), false)}
	for _, g := range engines {
		if g.missing != "" {
			continue
		}
		if out, err := g.cli("import", tar, detachImage); err != nil {
			g.missing = fmt.Sprintf("import of the image failed: %v: %s", err, strings.TrimSpace(string(out)))
		}
	}
	defer func() {
		for _, g := range engines {
			if g.stop != nil {
				g.stop()
			}
		}
	}()
	fmt.Printf("detach: 1 warm-up + %d rounds of %s\n", *detachRounds, engineNames(engines))
	for round := 0; round <= *detachRounds; round++ {
		for _, g := range engines {
			if g.missing != "" || g.failed != nil {
				continue
			}
			d, err := g.once(fmt.Sprintf("%s-d%d", e.prefix, round))
			if err != nil {
				fmt.Fprintf(os.Stderr, "bench: detach %s: %v\n", g.name, err)
				g.failed = err
				continue
			}
			if round > 0 {
				g.samples = append(g.samples, d)
			}
		}
	}
	e.detachReport(&b, engines)
	if ours.missing == "" {
		e.psAndMonitors(&b, ours)
	}
	monitorMem(&b)
	return b.String()
}

func engineNames(gs []*engine) string {
	var s []string
	for _, g := range gs {
		if g.missing == "" {
			s = append(s, g.name)
		}
	}
	return strings.Join(s, ", ")
}

func (e *env) detachReport(b *strings.Builder, engines []*engine) {
	fmt.Fprintf(b, "%d interleaved rounds after one warm-up (ratios: the median of the per-round ratios); wall time from the `run -d` command's start until a `ps` "+
		"(polled at once) shows the container Up; each container removed (`rm -f`, not timed) before the next round. "+
		"The same image (the bench's busybox rootfs, imported into each engine), `sleep 100000`, `--network none`.\n\n", *detachRounds)
	for _, g := range engines {
		if g.missing == "" {
			fmt.Fprintf(b, "- %s: %s\n", g.name, g.version)
		}
	}
	b.WriteString("\n| engine | median | min | max | / minimal-docker |\n| --- | ---: | ---: | ---: | ---: |\n")
	base := engines[0].samples // minimal-docker's
	for _, g := range engines {
		switch {
		case g.missing != "":
			fmt.Fprintf(b, "| %s | skipped: %s | | | |\n", g.name, g.missing)
		case g.failed != nil:
			fmt.Fprintf(b, "| %s | failed: %s | | | |\n", g.name, strings.Join(strings.Fields(g.failed.Error()), " "))
		default:
			m := median(g.samples)
			ratio := "—"
			if len(base) == len(g.samples) && len(base) > 0 {
				ratio = fmt.Sprintf("%.2f×", roundRatio(g.samples, base))
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", g.name, ms(m), ms(slices.Min(g.samples)), ms(slices.Max(g.samples)), ratio)
		}
	}
	b.WriteString("\n")
}

// ourEngine is minimal-docker with its store under root.
func (e *env) ourEngine(root string) *engine {
	cli := cliOf(nil, e.mdocker, "--root", root)
	return &engine{
		name:    "minimal-docker",
		version: firstLine(e.mdocker, "--version") + " (its C monitor, minimal-runc)",
		cli:     cli,
		runArgs: func(name string) []string {
			return []string{"run", "-d", "--name", name, "--network", "none", detachImage, "sleep", "100000"}
		},
		stop: func() {
			if ids, err := cli("ps", "-a", "-q"); err == nil && len(strings.Fields(string(ids))) > 0 {
				_, _ = cli(append([]string{"rm", "-f"}, strings.Fields(string(ids))...)...)
			}
		},
	}
}

// ownCgroupUnder is an absolute cgroup path beneath the bench's own
// (its pids controller's, the same as the others' under isolated.sh and
// systemd), for an engine's containers; "" when unknown.
func ownCgroupUnder(name string) string {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		parts := strings.SplitN(s.Text(), ":", 3)
		if len(parts) == 3 && (slices.Contains(strings.Split(parts[1], ","), "pids") || parts[1] == "") {
			return filepath.Join(parts[2], name)
		}
	}
	return ""
}

// removeCgroups removes the (empty) cgroup directories of path in every
// hierarchy, deepest first.
func removeCgroups(path string) {
	if path == "" {
		return
	}
	hiers, _ := filepath.Glob("/sys/fs/cgroup/*")
	hiers = append(hiers, "/sys/fs/cgroup")
	for _, h := range hiers {
		top := filepath.Join(h, path)
		var dirs []string
		_ = filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		slices.Reverse(dirs)
		for _, d := range dirs {
			_ = unix.Rmdir(d)
		}
	}
}

// podmanEngine is podman with its store, run root, tmp dir and
// configuration under dir, cgroupfs beneath the bench's cgroup, file
// events; /var/lib (its blob info cache) an overlay in the bench's mount
// namespace while it runs.
func (e *env) podmanEngine(dir string) *engine {
	g := &engine{name: "podman"}
	podman, err := exec.LookPath("podman")
	if err != nil {
		g.missing = "podman is not installed (bash tests/interop/install.sh podman conmon)"
		return g
	}
	path := func(name string) string { return filepath.Join(dir, name) }
	for _, d := range []string{"tmp", "varlib-upper", "varlib-work", "cni"} {
		if err := os.MkdirAll(path(d), 0o700); err != nil {
			g.missing = err.Error()
			return g
		}
	}
	// Podman's default ulimits (nofile 1048576, nproc its own) are above
	// the hard limits here, which only CAP_SYS_RESOURCE may raise: the
	// host's, as tests/interop does.
	nofile, nproc := hardLimit(unix.RLIMIT_NOFILE), hardLimit(unix.RLIMIT_NPROC)
	if b, err := os.ReadFile("/proc/sys/kernel/pid_max"); err == nil {
		if max, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && max < nproc {
			nproc = max
		}
	}
	files := map[string]string{
		"storage.conf": fmt.Sprintf("[storage]\ndriver = \"overlay\"\ngraphroot = %q\nrunroot = %q\n", path("root"), path("run")),
		"containers.conf": fmt.Sprintf("[containers]\ndefault_ulimits = [\"nofile=%[1]d:%[1]d\", \"nproc=%[2]d:%[2]d\"]\n\n", nofile, nproc) +
			fmt.Sprintf("[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"+
				"events_logfile_path = %q\ntmp_dir = %q\nstatic_dir = %q\nvolume_path = %q\n\n",
				path("events.log"), path("libpod-tmp"), path("libpod"), path("volumes")) +
			// Its networks' conflists (the default one is made in memory) here, not in /etc/cni/net.d.
			fmt.Sprintf("[network]\nnetwork_config_dir = %q\n", path("cni")),
	}
	for name, text := range files {
		if err := os.WriteFile(path(name), []byte(text), 0o644); err != nil {
			g.missing = err.Error()
			return g
		}
	}
	overlay := fmt.Sprintf("lowerdir=/var/lib,upperdir=%s,workdir=%s", path("varlib-upper"), path("varlib-work"))
	if err := unix.Mount("overlay", "/var/lib", "overlay", 0, overlay); err != nil {
		g.missing = fmt.Sprintf("overlay on /var/lib: %v", err)
		return g
	}
	cmdEnv := append(os.Environ(), "TMPDIR="+path("tmp"), "CONTAINERS_CONF="+path("containers.conf"),
		"CONTAINERS_STORAGE_CONF="+path("storage.conf"))
	g.cli = cliOf(cmdEnv, podman, "--root", path("root"), "--runroot", path("run"), "--tmpdir", path("libpod-tmp"),
		"--storage-driver", "overlay", "--cgroup-manager", "cgroupfs", "--events-backend", "file")
	parent := ownCgroupUnder(e.prefix + "-podman")
	g.runArgs = func(name string) []string {
		return []string{"run", "-d", "--name", name, "--network", "none", "--cgroup-parent", parent, detachImage, "sleep", "100000"}
	}
	rt := "its default OCI runtime"
	if out, err := g.cli("info", "--format", "{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Version}}"); err == nil {
		rt, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
	}
	g.version = fmt.Sprintf("%s, conmon, %s, overlay, cgroupfs", firstLine(podman, "--version"), rt)
	g.stop = func() {
		_, _ = g.cli("rm", "-af")
		_, _ = g.cli("system", "reset", "-f")
		if err := unix.Unmount("/var/lib", unix.MNT_DETACH); err != nil {
			fmt.Fprintf(os.Stderr, "bench: unmount /var/lib overlay: %v\n", err)
		}
		removeCgroups(parent)
	}
	return g
}

// roundRatio is the median of the per-round ratios a[i]/b[i].
func roundRatio(a, b []time.Duration) float64 {
	r := make([]float64, len(a))
	for i := range a {
		r[i] = float64(a[i]) / float64(b[i])
	}
	slices.Sort(r)
	if len(r)%2 == 0 {
		return (r[len(r)/2-1] + r[len(r)/2]) / 2
	}
	return r[len(r)/2]
}

func hardLimit(resource int) uint64 {
	var rl unix.Rlimit
	if err := unix.Getrlimit(resource, &rl); err != nil {
		return 1024
	}
	return rl.Max
}

// dockerEngine is a dockerd of the bench's own under dir (data root, exec
// root, socket; the containerd it starts; overlay2; cgroups beneath the
// bench's), with runc, stopped at the end. bridge false: no iptables and
// no bridge (the detached bench); true: Docker's default bridge and its
// rules (the network bench, in a network namespace of its own).
func (e *env) dockerEngine(dir string, bridge bool) *engine {
	g := &engine{name: "docker"}
	dockerd, err := exec.LookPath("dockerd")
	docker, err2 := exec.LookPath("docker")
	if err != nil || err2 != nil {
		g.missing = "dockerd or docker is not installed (bash tests/interop/install.sh docker)"
		return g
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		g.missing = err.Error()
		return g
	}
	path := func(name string) string { return filepath.Join(dir, name) }
	cfg := path("daemon.json")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("{%q: %q}\n", "deprecated-key-path", path("key.json"))), 0o644); err != nil {
		g.missing = err.Error()
		return g
	}
	parent := ownCgroupUnder(e.prefix + "-docker")
	sock := "unix://" + path("docker.sock")
	args := []string{"--config-file", cfg, "--data-root", path("data"), "--exec-root", path("exec"), "--pidfile", path("docker.pid"),
		"-H", sock, "--storage-driver", "overlay2", "--cgroup-parent", parent}
	if !bridge {
		args = append(args, "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none")
	}
	d, err := startDaemon(dockerd, path("dockerd.log"), os.Environ(), args...)
	if err != nil {
		g.missing = err.Error()
		return g
	}
	g.stop = func() {
		stopDaemon(d)
		removeCgroups(parent)
	}
	cliEnv := append(os.Environ(), "DOCKER_CONFIG="+path("cli"))
	g.cli = cliOf(cliEnv, docker, "-H", sock)
	if err := waitReady(d, docker, "-H", sock, "version"); err != nil {
		g.missing = fmt.Sprintf("dockerd did not start: %v (log %s)", err, path("dockerd.log"))
		return g
	}
	g.runArgs = func(name string) []string {
		return []string{"run", "-d", "--name", name, "--network", "none", detachImage, "sleep", "100000"}
	}
	ver, _ := g.cli("version", "--format", "{{.Server.Version}}")
	g.version = fmt.Sprintf("dockerd %s, containerd and its runc shim, runc, overlay2", strings.TrimSpace(string(ver)))
	return g
}

// psAndMonitors starts psCount idle containers of ours, times `ps -a`
// with them listed, measures their monitors' PSS, and removes them.
func (e *env) psAndMonitors(b *strings.Builder, ours *engine) {
	n := *psCount
	fmt.Printf("detach: %d idle containers of minimal-docker for ps -a and the monitors' memory\n", n)
	var names []string
	defer func() {
		if len(names) > 0 {
			_, _ = ours.cli(append([]string{"rm", "-f"}, names...)...)
		}
	}()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s-idle%d", e.prefix, i)
		if out, err := ours.cli(ours.runArgs(name)...); err != nil {
			fmt.Fprintf(b, "`ps -a` with %d containers: not run: run -d: %v: %s\n", n, err, out)
			return
		}
		names = append(names, name)
	}
	var ps []time.Duration
	for i := 0; i < *warmup+*rounds; i++ {
		t0 := time.Now()
		out, err := ours.cli("ps", "-a")
		d := time.Since(t0)
		if err != nil {
			fmt.Fprintf(b, "`ps -a`: failed: %v: %s\n", err, out)
			return
		}
		if lines := strings.Count(string(out), "\n"); lines != n+1 {
			fmt.Fprintf(b, "`ps -a` listed %d lines, want %d\n", lines, n+1)
			return
		}
		if i >= *warmup {
			ps = append(ps, d)
		}
	}
	fmt.Fprintf(b, "`minimal-docker ps -a` with %d running containers (the CLI's wall time, %d runs after %d warm-up; goal under 50 ms): "+
		"median %s, max %s.\n\n", n, len(ps), *warmup, ms(median(ps)), ms(slices.Max(ps)))

	out, err := ours.cli(append([]string{"inspect"}, names...)...)
	var recs []struct{ State struct{ MonitorPid int } }
	if err == nil {
		err = json.Unmarshal(out, &recs)
	}
	if err != nil {
		fmt.Fprintf(b, "Monitors' memory: not measured: inspect: %v\n", err)
		return
	}
	var pss, rss []int64
	for _, r := range recs {
		p, q, err := smapsRollup(r.State.MonitorPid)
		if err != nil {
			fmt.Fprintf(b, "Monitors' memory: not measured: %v\n", err)
			return
		}
		pss, rss = append(pss, p), append(rss, q)
	}
	fmt.Fprintf(b, "The monitors of those %d idle containers (minimal-docker-monitor, C, static; /proc/PID/smaps_rollup): "+
		"PSS median %d kB, total %.1f MiB; RSS median %d kB.\n\n", n, medianInt(pss), float64(sum(pss))/1024, medianInt(rss))
}

// smapsRollup is pid's PSS and RSS in kB.
func smapsRollup(pid int) (pss, rss int64, err error) {
	if pid <= 0 {
		return 0, 0, errors.New("no monitor recorded")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, 0, err
	}
	f := testenv.StatusFields(string(b))
	parse := func(k string) int64 {
		n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(f[k], " kB")), 10, 64)
		return n
	}
	return parse("Pss"), parse("Rss"), nil
}

func medianInt(v []int64) int64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func sum(v []int64) (t int64) {
	for _, x := range v {
		t += x
	}
	return t
}

// monitorMem runs tests/monitor/mem.sh (our monitor beside conmon, 100
// idle containers each) and adds its table.
func monitorMem(b *strings.Builder) {
	if *memScript == "" {
		return
	}
	if _, err := os.Stat(*memScript); err != nil {
		fmt.Fprintf(b, "Monitor beside conmon: not run: %v\n", err)
		return
	}
	if _, err := exec.LookPath("conmon"); err != nil {
		fmt.Fprintf(b, "Monitor beside conmon: not run: conmon is not installed\n")
		return
	}
	fmt.Println("detach: tests/monitor/mem.sh (our monitor beside conmon)")
	out, err := exec.Command("bash", *memScript).CombinedOutput()
	if err != nil {
		fmt.Fprintf(b, "Monitor beside conmon (%s): failed: %v\n\n```\n%s```\n", *memScript, err, out)
		return
	}
	fmt.Fprintf(b, "Monitor beside conmon, 100 idle `sleep` containers each under the same harness (`%s`):\n\n", *memScript)
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "|") {
			b.WriteString(line + "\n")
		}
	}
	b.WriteString("\n")
}
