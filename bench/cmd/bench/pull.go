package main

// The pull bench (issue 14, "Speed and memory"): minimal-docker pull,
// ctr images pull (containerd) and podman pull of one ~100 MB image of
// five layers from a docker-registry on 127.0.0.1, each a cold pull and
// unpack into an empty store, interleaved round by round.

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

var (
	pullRounds = flag.Int("pull", 5, "measured rounds of the pull bench, after one warm-up round (0 skips it)")
	pullOnly   = flag.Bool("pull-only", false, "run only the pull bench")
)

// pullTimeout bounds every wait of the pull bench that is not measured
// (a daemon or the registry coming up, a daemon stopping).
const pullTimeout = 30 * time.Second

// pullSample is one pull.
type pullSample struct {
	wall, cpu time.Duration // cpu: the command's user+sys (wait4) and the daemon's during the pull
	rss       int64         // KiB: the command's peak RSS (wait4)
	daemonRSS int64         // KiB: the daemon's peak RSS during the pull (VmHWM); 0 without a daemon
	floor     int64         // KiB: the launcher's peak RSS, under rss (measure)
}

// puller is one tool that pulls the image into a store under dir.
type puller struct {
	name, version string
	missing       string // why it is skipped; "" if it runs
	pull          func(dir string) (pullSample, error)
	samples       []pullSample
	failed        error
}

// pullBench pushes the image, runs the series and returns the report's
// section. What cannot run is said in the section, not fatal.
func (e *env) pullBench() string {
	var b strings.Builder
	b.WriteString("### Pull and unpack: a ~100 MB image of five layers from a loopback registry\n\n")
	dir := filepath.Join(e.tmp, "pull")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fmt.Fprintf(&b, "Not run: %v\n", err)
		return b.String()
	}
	defer cleanDir(dir)
	regBin, err := testenv.RegistryBin()
	if err != nil {
		fmt.Fprintf(&b, "Not run: no registry (%v; make deps installs docker-registry).\n", err)
		return b.String()
	}
	regDir := filepath.Join(dir, "registry")
	if err := os.Mkdir(regDir, 0o700); err != nil {
		fmt.Fprintf(&b, "Not run: %v\n", err)
		return b.String()
	}
	reg, err := testenv.StartRegistry(regBin, regDir, pullTimeout)
	if err != nil {
		fmt.Fprintf(&b, "Not run: %v\n", err)
		return b.String()
	}
	defer reg.Stop()
	fmt.Println("pull: building and pushing the image to", reg.Addr)
	im, err := pushPullImage(reg.Addr + "/bench/big:latest")
	if err != nil {
		fmt.Fprintf(&b, "Not run: %v\n", err)
		return b.String()
	}

	pullers := []*puller{e.ourPuller(im.ref), e.containerdPuller(im.ref), e.podmanPuller(im.ref)}
	fmt.Printf("pull: 1 warm-up + %d rounds of %s\n", *pullRounds, pullerNames(pullers))
	for round := 0; round <= *pullRounds; round++ {
		for _, p := range pullers {
			if p.missing != "" || p.failed != nil {
				continue
			}
			s, err := p.pullOnce(filepath.Join(dir, fmt.Sprintf("%s-%d", p.name, round)), im)
			if err != nil {
				fmt.Fprintf(os.Stderr, "bench: pull %s: %v\n", p.name, err)
				p.failed = err
				continue
			}
			if round > 0 {
				p.samples = append(p.samples, s)
			}
		}
	}
	e.pullReport(&b, im, regBin, pullers)
	return b.String()
}

func pullerNames(ps []*puller) string {
	var s []string
	for _, p := range ps {
		if p.missing == "" {
			s = append(s, p.name)
		}
	}
	return strings.Join(s, ", ")
}

// pullOnce pulls into an empty dir, checks that every file of the image
// was unpacked there, and removes dir (unmounting what the tool left
// mounted under it).
func (p *puller) pullOnce(dir string, im pullImage) (pullSample, error) {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return pullSample{}, err
	}
	s, err := p.pull(dir)
	if err == nil {
		err = checkUnpacked(dir, im)
	}
	if cerr := cleanDir(dir); cerr != nil && err == nil {
		err = cerr
	}
	return s, err
}

// checkUnpacked walks dir for the image's files: every layer's marker
// with its text, and at least the image's bytes of its files' names.
func checkUnpacked(dir string, im pullImage) error {
	found := map[int]bool{}
	var bytes int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		for i := 1; i <= pullLayers; i++ {
			if !strings.Contains(path, "/"+layerDir(i)) {
				continue
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			bytes += info.Size()
			if strings.HasSuffix(path, "/"+markerPath(i)) {
				b, err := os.ReadFile(path)
				found[i] = err == nil && string(b) == markerText(i)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := 1; i <= pullLayers; i++ {
		if !found[i] {
			return fmt.Errorf("%s: layer %d's %s not unpacked", dir, i, markerPath(i))
		}
	}
	if bytes < im.unpacked {
		return fmt.Errorf("%s: %d bytes of the image's files unpacked, want %d", dir, bytes, im.unpacked)
	}
	return nil
}

// cleanDir unmounts every mount at or under dir (deepest first) and
// removes dir.
func cleanDir(dir string) error {
	mounts, err := testenv.MountedUnder(dir)
	if err != nil {
		return err
	}
	slices.SortFunc(mounts, func(a, b string) int { return len(b) - len(a) })
	var errs []error
	for _, m := range mounts {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			errs = append(errs, &os.PathError{Op: "umount", Path: m, Err: err})
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (e *env) ourPuller(ref string) *puller {
	return &puller{
		name:    "minimal-docker",
		version: firstLine(e.mdocker, "--version"),
		pull: func(dir string) (pullSample, error) {
			s, floor, err := e.measure(dir, nil, e.mdocker, "--root", filepath.Join(dir, "root"), "pull", ref)
			return pullSample{wall: s.wall, cpu: s.cpu, rss: s.maxRSS, floor: floor}, err
		},
	}
}

// containerdPuller starts a containerd of its own on an empty root for
// every pull (so that each is cold: no content, no snapshots) and runs
// ctr images pull, which fetches and unpacks into the overlayfs
// snapshotter. Its RSS is ctr's (wait4) and, apart, the daemon's peak
// during the pull (VmHWM, reset through clear_refs just before).
func (e *env) containerdPuller(ref string) *puller {
	p := &puller{name: "containerd"}
	daemon, err := exec.LookPath("containerd")
	if err != nil {
		p.missing = "containerd is not installed (bash tests/interop/install.sh containerd podman conmon)"
		return p
	}
	ctr, err := exec.LookPath("ctr")
	if err != nil {
		p.missing = "ctr is not installed (bash tests/interop/install.sh containerd podman conmon)"
		return p
	}
	p.version = firstLine(daemon, "--version")
	p.pull = func(dir string) (pullSample, error) {
		sock := filepath.Join(dir, "containerd.sock")
		cfg, err := testenv.WriteContainerdConfig(dir, sock, false)
		if err != nil {
			return pullSample{}, err
		}
		tmp := filepath.Join(dir, "tmp")
		if err := os.Mkdir(tmp, 0o700); err != nil {
			return pullSample{}, err
		}
		cmdEnv := append(os.Environ(), "TMPDIR="+tmp)
		d, err := startDaemon(daemon, filepath.Join(dir, "containerd.log"), cmdEnv, "--config", cfg)
		if err != nil {
			return pullSample{}, err
		}
		defer stopDaemon(d)
		if err := waitReady(d, ctr, "-a", sock, "version"); err != nil {
			return pullSample{}, fmt.Errorf("%w; its log: %s", err, filepath.Join(dir, "containerd.log"))
		}
		status := fmt.Sprintf("/proc/%d/", d.Pid())
		if err := os.WriteFile(status+"clear_refs", []byte("5"), 0); err != nil {
			return pullSample{}, fmt.Errorf("reset containerd's peak RSS: %w", err)
		}
		cpu0, err := cpuTime(d.Pid())
		if err != nil {
			return pullSample{}, err
		}
		s, floor, err := e.measure(dir, cmdEnv, ctr, "-a", sock, "-n", "bench", "images", "pull",
			"--plain-http", "--snapshotter", "overlayfs", ref)
		if err != nil {
			return pullSample{}, err
		}
		cpu1, err := cpuTime(d.Pid())
		if err != nil {
			return pullSample{}, err
		}
		hwm, err := vmHWM(d.Pid())
		return pullSample{wall: s.wall, cpu: s.cpu + cpu1 - cpu0, rss: s.maxRSS, daemonRSS: hwm, floor: floor}, err
	}
	return p
}

// podmanPuller runs podman pull with a store, run root, tmp dir and
// configuration under the run's directory, and /var/lib an overlay
// whose writes go there too: nothing of the host's /var/lib/containers,
// /run or /etc/containers is read or written.
func (e *env) podmanPuller(ref string) *puller {
	p := &puller{name: "podman"}
	podman, err := exec.LookPath("podman")
	if err != nil {
		p.missing = "podman is not installed (bash tests/interop/install.sh containerd podman conmon)"
		return p
	}
	p.version = firstLine(podman, "--version")
	host, _, _ := strings.Cut(ref, "/")
	p.pull = func(dir string) (pullSample, error) {
		path := func(name string) string { return filepath.Join(dir, name) }
		tmp := path("tmp")
		if err := os.Mkdir(tmp, 0o700); err != nil {
			return pullSample{}, err
		}
		files := map[string]string{
			"registries.conf": fmt.Sprintf("unqualified-search-registries = []\n\n[[registry]]\nlocation = %q\ninsecure = true\n", host),
			"storage.conf":    fmt.Sprintf("[storage]\ndriver = \"overlay\"\ngraphroot = %q\nrunroot = %q\n", path("root"), path("run")),
			"containers.conf": fmt.Sprintf("[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"+
				"events_logfile_path = %q\ntmp_dir = %q\nimage_copy_tmp_dir = %q\nstatic_dir = %q\nvolume_path = %q\n",
				path("events.log"), path("libpod-tmp"), tmp, path("libpod"), path("volumes")),
			"policy.json": `{"default": [{"type": "insecureAcceptAnything"}]}` + "\n",
		}
		for name, text := range files {
			if err := os.WriteFile(path(name), []byte(text), 0o644); err != nil {
				return pullSample{}, err
			}
		}
		cmdEnv := append(os.Environ(), "TMPDIR="+tmp, "CONTAINERS_CONF="+path("containers.conf"),
			"CONTAINERS_REGISTRIES_CONF="+path("registries.conf"), "CONTAINERS_STORAGE_CONF="+path("storage.conf"))
		for _, d := range []string{"varlib-upper", "varlib-work"} {
			if err := os.Mkdir(path(d), 0o700); err != nil {
				return pullSample{}, err
			}
		}
		// podman 4.3 keeps its blob info cache in /var/lib/containers/cache
		// whatever its --root: in a mount namespace of its own, /var/lib is
		// an overlay whose upper directory is the run's.
		overlay := fmt.Sprintf("lowerdir=/var/lib,upperdir=%s,workdir=%s", path("varlib-upper"), path("varlib-work"))
		s, floor, err := e.measure(dir, cmdEnv, "unshare", "-m", "--propagation", "private", "--",
			"sh", "-c", `mount -t overlay overlay -o "$1" /var/lib && shift && exec "$@"`, "sh", overlay,
			podman, "--root", path("root"), "--runroot", path("run"),
			"--tmpdir", path("libpod-tmp"), "--storage-driver", "overlay", "--cgroup-manager", "cgroupfs",
			"--events-backend", "file", "pull", "--tls-verify=false", "--signature-policy", path("policy.json"), ref)
		return pullSample{wall: s.wall, cpu: s.cpu, rss: s.maxRSS, floor: floor}, err
	}
	return p
}

// startDaemon starts argv in its own process group, logging to logPath;
// it gets SIGTERM if the bench dies first.
func startDaemon(bin, logPath string, cmdEnv []string, args ...string) (*testenv.Background, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = cmdEnv
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	d, err := testenv.StartBackground(cmd)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	return d, nil
}

// waitReady runs probe until it succeeds (at most pullTimeout), failing
// early if the daemon exits.
func waitReady(d *testenv.Background, probe ...string) error {
	deadline := time.Now().Add(pullTimeout)
	for {
		out, err := exec.Command(probe[0], probe[1:]...).CombinedOutput()
		if err == nil {
			return nil
		}
		if d.Exited() {
			return fmt.Errorf("%s exited (%v) before it answered", d.Cmd.Path, d.Cmd.ProcessState)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %v: %v: %s", d.Cmd.Path, pullTimeout, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stopDaemon ends the daemon by its PID: SIGTERM, then SIGKILL if it has
// not exited within pullTimeout.
func stopDaemon(d *testenv.Background) {
	_ = d.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.Done:
	case <-time.After(pullTimeout):
		fmt.Fprintf(os.Stderr, "bench: %s (pid %d) ignored SIGTERM for %v; killing it\n", d.Cmd.Path, d.Pid(), pullTimeout)
		_ = d.Cmd.Process.Kill()
		<-d.Done
	}
}

// vmHWM is the process's peak RSS in KiB since it started or since "5"
// was last written to its clear_refs.
func vmHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	v := strings.TrimSuffix(testenv.StatusFields(string(b))["VmHWM"], " kB")
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/status: VmHWM %q: %w", pid, v, err)
	}
	return n, nil
}

// cpuTime is the process's user+sys time so far (/proc/PID/stat, in
// clock ticks of 10 ms).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields after the name", pid, len(f))
	}
	var ticks int64
	for _, v := range f[11:13] { // utime, stime: fields 14 and 15
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// pullRSSGoal is issue 14's bound on minimal-docker pull's peak RSS.
const pullRSSGoal = 64 << 10 // KiB

func (e *env) pullReport(b *strings.Builder, im pullImage, regBin string, pullers []*puller) {
	var floor int64
	for _, p := range pullers {
		for _, s := range p.samples {
			floor = max(floor, s.floor)
		}
	}
	fmt.Fprintf(b, "%s, %d cores (%s), kernel %s.\n\n", e.date, e.cores, e.cpu, e.kernel)
	fmt.Fprintf(b, "Image: %d gzip layers, %.1f MB of files (%.1f MB compressed; each layer %d MiB of pseudo-random bytes "+
		"and %d MiB of text), pushed with go-containerregistry to %s on 127.0.0.1 (plain HTTP). "+
		"%d interleaved rounds after one warm-up round. Every pull is cold, into an empty store, and is checked to have "+
		"unpacked every file of the image.\n\n", pullLayers, float64(im.unpacked)/1e6, float64(im.compressed)/1e6,
		randomFiles*randomFileSize>>20, textFiles*textFileSize>>20, firstLine(regBin, "--version"), *pullRounds)
	b.WriteString("- minimal-docker: `minimal-docker --root EMPTY pull REF` (3 layers at a time).\n" +
		"- containerd: a containerd of its own started on an empty root before every pull (not timed), then " +
		"`ctr images pull --plain-http --snapshotter overlayfs REF` (fetches and unpacks).\n" +
		"- podman: `podman pull --tls-verify=false REF` with its store, run root, tmp dir and configuration in an empty " +
		"directory (overlay driver), started through `unshare -m` and `sh`, which mount an overlay on /var/lib whose writes " +
		"go to that directory (podman 4.3 writes its blob info cache to /var/lib/containers/cache whatever its --root); " +
		"a few ms of its time.\n\n")
	fmt.Fprintf(b, "Time: wall clock of the pull command. CPU and peak RSS: wait4's rusage of the command, run by a small "+
		"launcher (the bench re-executed) that waits for it and reports; for containerd, "+
		"which fetches in the client and writes and unpacks in the daemon, the daemon's CPU during the pull is added "+
		"(/proc/PID/stat) and its peak RSS during the pull (VmHWM, reset through clear_refs just before) shown beside ctr's. "+
		"wait4's figures cannot be below the launcher's own peak RSS, %s: a child's rusage keeps the peak of the memory "+
		"it was forked with, the launcher's (started by the bench itself, every figure would be at least the bench's).\n\n", mib(floor))
	b.WriteString("| tool | version | median | min | max | median CPU (user+sys) | peak RSS (max of runs) |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n")
	byName := map[string]*puller{}
	for _, p := range pullers {
		byName[p.name] = p
		switch {
		case p.missing != "":
			fmt.Fprintf(b, "| %s | | skipped: %s | | | | |\n", p.name, p.missing)
			continue
		case p.failed != nil:
			fmt.Fprintf(b, "| %s | %s | failed: %s | | | | |\n", p.name, p.version, strings.ReplaceAll(p.failed.Error(), "\n", " "))
			continue
		}
		var wall, cpu []time.Duration
		var rss, drss int64
		for _, s := range p.samples {
			wall, cpu = append(wall, s.wall), append(cpu, s.cpu)
			rss, drss = max(rss, s.rss), max(drss, s.daemonRSS)
		}
		mem := mib(rss)
		if p.name == "containerd" {
			mem = fmt.Sprintf("ctr %s + containerd %s", mib(rss), mib(drss))
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", p.name, p.version, ms(median(wall)), ms(quantile(wall, 0)),
			ms(quantile(wall, 1)), ms(median(cpu)), mem)
	}
	ours := byName["minimal-docker"]
	if ours.failed != nil || len(ours.samples) == 0 {
		return
	}
	b.WriteString("\nminimal-docker against each (time: median of the per-round ratios; RSS: peaks, containerd's ctr + daemon). " +
		"Goal: faster than both, peak RSS under 64 MiB.\n\n")
	b.WriteString("| against | time | peak RSS |\n| --- | ---: | ---: |\n")
	var ourRSS int64
	for _, s := range ours.samples {
		ourRSS = max(ourRSS, s.rss)
	}
	faster := true
	for _, name := range []string{"containerd", "podman"} {
		p := byName[name]
		if p.missing != "" || p.failed != nil {
			faster = false
			continue
		}
		var r []float64
		var theirRSS int64
		for i := range min(len(ours.samples), len(p.samples)) {
			r = append(r, float64(ours.samples[i].wall)/float64(p.samples[i].wall))
		}
		for _, s := range p.samples {
			theirRSS = max(theirRSS, s.rss+s.daemonRSS)
		}
		faster = faster && medianF(r) < 1
		fmt.Fprintf(b, "| %s | %.2f× | %.2f× |\n", name, medianF(r), float64(ourRSS)/float64(theirRSS))
	}
	fmt.Fprintf(b, "\nGoal met: faster than both: %s; peak RSS %s < 64 MiB: %s.\n", yesNo(faster), mib(ourRSS), yesNo(ourRSS < pullRSSGoal))
}

// measureEnv, set to a file name, makes this command a launcher: it runs
// its arguments, waits for them and writes their wall time, CPU time and
// peak RSS, and its own peak RSS before it started them, to that file.
// A child's rusage keeps the peak RSS of the memory it was forked with:
// started by the launcher, a fresh small process, a command's figure is
// its own, not the bench's.
const measureEnv = "MD_BENCH_MEASURE"

// measure runs name with args through the launcher (measureEnv) with the
// environment cmdEnv (nil: this process's), as exec does, and returns
// what the launcher measured; floor is the launcher's own peak RSS (KiB),
// below which no figure can be.
func (e *env) measure(dir string, cmdEnv []string, name string, args ...string) (s sample, floor int64, err error) {
	self, err := os.Executable()
	if err != nil {
		return s, 0, err
	}
	result := filepath.Join(e.tmp, fmt.Sprintf("measure-%d", time.Now().UnixNano()))
	defer os.Remove(result)
	if cmdEnv == nil {
		cmdEnv = os.Environ()
	}
	cmdEnv = append(slices.Clip(cmdEnv), measureEnv+"="+result)
	x, err := e.execEnv(dir, cmdEnv, self, append([]string{"--", name}, args...)...)
	s.stderr = x.stderr
	if err != nil {
		return s, 0, fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	b, err := os.ReadFile(result)
	if err != nil {
		return s, 0, fmt.Errorf("%s: the launcher's result: %w", name, err)
	}
	if _, err := fmt.Sscan(string(b), &s.wall, &s.cpu, &s.maxRSS, &floor); err != nil {
		return s, 0, fmt.Errorf("%s: the launcher's result %q: %w", name, b, err)
	}
	return s, floor, nil
}

// measureMain is the launcher: it runs flag.Args() and exits with its
// status.
func measureMain(result string) error {
	if err := os.Unsetenv(measureEnv); err != nil {
		return err
	}
	args := flag.Args()
	if len(args) == 0 {
		return errors.New("launcher: no command")
	}
	floor, err := vmHWM(os.Getpid())
	if err != nil {
		return err
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	t0 := time.Now()
	runErr := cmd.Run()
	wall := time.Since(t0)
	if runErr != nil {
		var ee *exec.ExitError
		if errors.As(runErr, &ee) {
			os.Exit(ee.ExitCode())
		}
		return runErr
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return errors.New("launcher: no rusage")
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return os.WriteFile(result, fmt.Appendf(nil, "%d %d %d %d\n", int64(wall), int64(cpu), ru.Maxrss, floor), 0o644)
}
