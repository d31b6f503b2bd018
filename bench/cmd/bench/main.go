// Command bench starts containers with runc, crun, minimal-runc and
// minimal-docker side by side and prints how long each takes (make bench;
// root). See bench/README.md. Then it pulls one image with minimal-docker,
// containerd and podman (pull.go), runs detached containers with
// minimal-docker, podman and docker (detach.go), runs containers on
// their bridges and measures throughput through ours (network.go), and
// times each Go binary's package initialisers (inittrace.go).
//
// Everything runs inside one private mount namespace in which the hybrid
// host's cgroup2 mount at /sys/fs/cgroup/unified is unmounted: crun 1.8.1
// refuses that mount (it carries the hugetlb controller). The command
// re-executes itself under `unshare -m` to get there, so every runtime sees
// the same cgroup layout.
package main

import (
	"bufio"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	inNamespaceEnv = "MD_BENCH_IN_NS"
	unifiedMount   = "/sys/fs/cgroup/unified"
	// seccompCacheEnv points minimal-docker's seccomp cache into the
	// bench's temporary directory (seccomp.EnvCacheDir), which goes with it.
	seccompCacheEnv = "MINIMAL_DOCKER_SECCOMP_CACHE"
	// dockerRootEnv points minimal-docker's records of its runs (the
	// store a later prune reads) into the same temporary directory.
	dockerRootEnv = "MINIMAL_DOCKER_ROOT"
	// dockerDataRootEnv is --root's default, the image store (docker.EnvDataRoot).
	dockerDataRootEnv = "MINIMAL_DOCKER_DATA_ROOT"
)

var (
	binDir   = flag.String("bin", "bin", "directory holding minimal-docker and minimal-runc")
	bundle   = flag.String("bundle", "", "OCI bundle (rootfs/ and config.json) to run")
	rounds   = flag.Int("n", 30, "measured rounds (each runs every runtime once)")
	warmup   = flag.Int("warmup", 3, "warm-up rounds, not counted")
	parallel = flag.Int("parallel", 50, "containers started at once in the burst test (0 skips it)")
	out      = flag.String("out", "build/bench/latest.md", "write the Markdown report here (the startup profile: startup-profile.md beside it)")
	microOut = flag.String("micro", "", "file with `go test -bench` output to include in the report")
	profile  = flag.Bool("startup-profile", false, "instead: median time of each setup step of minimal-runc/minimal-docker over -n runs")
	// explainProfile: the profile from the plan's own timings.
	explainProfile = flag.Bool("explain", false, "with --startup-profile: the steps from --explain's lines (minimal-runc --explain run, minimal-docker run --explain) instead of --debug's")
)

func main() {
	flag.Parse()
	if result := os.Getenv(measureEnv); result != "" {
		if err := measureMain(result); err != nil {
			fatal(err)
		}
		return
	}
	if os.Getenv(inNamespaceEnv) == "" {
		reexecInNamespace()
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// reexecInNamespace runs this command again in a private mount namespace.
func reexecInNamespace() {
	self, err := os.Executable()
	if err != nil {
		fatal(err)
	}
	args := append([]string{"-m", "--propagation", "private", "--", self}, os.Args[1:]...)
	cmd := exec.Command("unshare", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), inNamespaceEnv+"=1")
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			os.Exit(ee.ExitCode())
		}
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// env describes the run for the report.
type env struct {
	date, kernel, cpu      string
	cores                  int
	runc, crun, ours       string
	initNote               string
	namespaceNote          string
	bundleNote, dockerNote string
	tmp, bundle, rootfs    string
	dockerBundle           string // minimal-docker run's own config, for crun (makeDockerBundle)
	unconfinedBundle       string // the same with --security-opt seccomp=unconfined
	imageRoot              string // the image store of the run IMAGE series (importImage)
	prefix                 string
	nullIn, nullOut        *os.File
	dockerIDs              []string
	mu                     sync.Mutex
	runcPath, crunPath     string
	mdocker, mruncPath     string
	seccompCache           string
	dockerRunFlags         []string // flags of minimal-docker run (the startup profile's --explain)
}

func run() error {
	e := &env{prefix: fmt.Sprintf("mdbench-%d", os.Getpid())}
	defer e.cleanup() // also after a setup that failed halfway
	if err := e.setup(); err != nil {
		return err
	}
	fmt.Println(e.namespaceNote)
	fmt.Println(e.bundleNote)
	fmt.Println(e.dockerNote)
	fmt.Println()
	if section := os.Getenv(netnsEnv); section != "" { // the network bench's child
		return os.WriteFile(section, []byte(e.networkBenchHere()), 0o644)
	}
	var report string
	switch {
	case *netOnly:
		report = e.networkBench() + "\nReproduce: `sudo make bench BENCH_ARGS=--network-only`.\n"
	case *profile:
		var err error
		if report, err = e.startupProfile(); err != nil {
			return err // after the deferred cleanup
		}
	case *initOnly:
		report = e.initTraceReport() + "\nReproduce: `sudo make bench BENCH_ARGS=--inittrace-only`.\n"
	case *pullOnly:
		report = e.pullBench() + "\nReproduce: `sudo make bench BENCH_ARGS=--pull-only`.\n"
	case *detachOnly:
		report = e.detachBench() + "\nReproduce: `sudo make bench BENCH_ARGS=--detach-only`.\n"
	case *rootlessOnly:
		report = e.rootlessBench() + "\nReproduce: `sudo make bench BENCH_ARGS=--rootless-only`.\n"
	default:
		var err error
		if report, err = e.benchmark(); err != nil {
			return err // after the deferred cleanup
		}
	}
	fmt.Println(report)
	if *out != "" {
		switch { // the profile and the pull bench alone go beside the table, not over it
		case *profile:
			*out = filepath.Join(filepath.Dir(*out), "startup-profile.md")
		case *initOnly:
			*out = filepath.Join(filepath.Dir(*out), "inittrace.md")
		case *pullOnly:
			*out = filepath.Join(filepath.Dir(*out), "pull.md")
		case *detachOnly:
			*out = filepath.Join(filepath.Dir(*out), "detach.md")
		case *rootlessOnly:
			*out = filepath.Join(filepath.Dir(*out), "rootless.md")
		case *netOnly:
			*out = filepath.Join(filepath.Dir(*out), "network.md")
		}
		if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
			return err
		}
		fmt.Println("written to", *out)
	}
	return nil
}

func (e *env) setup() error {
	if *bundle == "" {
		return errors.New("-bundle is required")
	}
	var err error
	if e.bundle, err = filepath.Abs(*bundle); err != nil {
		return err
	}
	e.rootfs = filepath.Join(e.bundle, "rootfs")
	e.runcPath, _ = exec.LookPath("runc")
	e.crunPath, _ = exec.LookPath("crun")
	if e.runcPath == "" || e.crunPath == "" {
		return errors.New("runc and crun must be installed (make bench installs them)")
	}
	bin, err := filepath.Abs(*binDir)
	if err != nil {
		return err
	}
	e.mdocker, e.mruncPath = filepath.Join(bin, "minimal-docker"), filepath.Join(bin, "minimal-runc")

	// The cgroup2 mount crun 1.8.1 refuses: unmount it in this namespace.
	if mounted(unifiedMount) {
		if err := unix.Unmount(unifiedMount, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount %s: %w", unifiedMount, err)
		}
		e.namespaceNote = "Note: every runtime runs in one private mount namespace (unshare -m) in which " +
			unifiedMount + " is unmounted: crun 1.8.1 refuses this hybrid host's cgroup2 mount there. " +
			"Cgroups are v1 for all four."
	} else {
		e.namespaceNote = "Note: every runtime runs in one private mount namespace (unshare -m); " +
			unifiedMount + " was not mounted, nothing unmounted."
	}
	if e.tmp, err = os.MkdirTemp("", "mdbench-"); err != nil {
		return err
	}
	e.seccompCache = filepath.Join(e.tmp, "seccomp-cache")
	if err := os.Setenv(seccompCacheEnv, e.seccompCache); err != nil {
		return err
	}
	if err := os.Setenv(dockerRootEnv, filepath.Join(e.tmp, "docker-root")); err != nil {
		return err
	}
	if err := os.Setenv(dockerDataRootEnv, filepath.Join(e.tmp, "docker-data")); err != nil {
		return err
	}
	if e.nullIn, err = os.Open(os.DevNull); err != nil {
		return err
	}
	if e.nullOut, err = os.OpenFile(os.DevNull, os.O_WRONLY, 0); err != nil {
		return err
	}
	e.date = time.Now().UTC().Format("2006-01-02 15:04 UTC")
	var u unix.Utsname
	_ = unix.Uname(&u)
	e.kernel = unix.ByteSliceToString(u.Release[:])
	e.cores = runtime.NumCPU()
	e.cpu = cpuModel()
	e.runc = firstLine(e.runcPath, "--version")
	e.crun = firstLine(e.crunPath, "--version")
	e.ours = firstLine(e.mruncPath, "--version")
	e.initNote = "Container init: " + initBinary(bin) + "."
	e.bundleNote = "Bundle (runc, crun, minimal-runc): `runc spec` config.json, args [\"true\"], terminal false: " +
		"namespaces pid, network, ipc, uts, mount; runc spec's 3 capabilities; masked and read-only paths; " +
		"no seccomp, no resource limits, each runtime's own cgroup."
	if err := e.makeBundle(); err != nil {
		return err
	}
	if e.dockerBundle, err = e.makeDockerBundle("docker-bundle"); err != nil {
		return err
	}
	if e.unconfinedBundle, err = e.makeDockerBundle("unconfined-bundle", unconfined...); err != nil {
		return err
	}
	e.dockerNote = "minimal-docker run ROOTFS true: defaults: namespaces pid, network, ipc, uts, mount, cgroup; " +
		"Docker's 14 capabilities; Docker's seccomp profile (cached); no_new_privs; masked and read-only paths; " +
		"memory 256m, pids 64, cpus 0.5, device cgroup."
	return nil
}

func mounted(path string) bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) > 4 && fields[4] == path {
			return true
		}
	}
	return false
}

func firstLine(name string, args ...string) string {
	b, err := exec.Command(name, args...).Output()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return line
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// sample is one runtime invocation.
type sample struct {
	wall, cpu time.Duration
	maxRSS    int64 // KiB
	stderr    string
}

// exec runs one command with stdin and stdout on /dev/null and stderr to a
// file, and measures it: wall time from start to reaped, user+sys and peak
// RSS from wait4's rusage (the runtime and every descendant it waited for).
func (e *env) exec(dir string, name string, args ...string) (sample, error) {
	return e.execEnv(dir, nil, name, args...)
}

// execEnv is exec with the environment cmdEnv (nil: this process's).
func (e *env) execEnv(dir string, cmdEnv []string, name string, args ...string) (sample, error) {
	errf, err := os.CreateTemp(e.tmp, "stderr-")
	if err != nil {
		return sample{}, err
	}
	defer os.Remove(errf.Name())
	defer errf.Close()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, cmdEnv
	cmd.Stdin, cmd.Stdout, cmd.Stderr = e.nullIn, e.nullOut, errf
	t0 := time.Now()
	err = cmd.Run()
	wall := time.Since(t0)
	var s sample
	s.wall = wall
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru != nil {
		s.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		s.maxRSS = ru.Maxrss
	}
	b, _ := os.ReadFile(errf.Name())
	s.stderr = string(b)
	if err != nil {
		return s, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(s.stderr))
	}
	return s, nil
}

// runtime is one way to start the container.
type rtime struct {
	name string
	// run runs one container to completion under id.
	run func(id string) (sample, error)
	// csd runs create, start, delete as three commands (nil: not OCI).
	csd func(id string) ([3]sample, error)
	// oneAtATime: only in the one-at-a-time series (not in the burst nor
	// create+start+delete).
	oneAtATime bool
}

func (e *env) root(rt, _ string) string {
	return filepath.Join(e.tmp, "root-"+pathWord(rt))
}

func (e *env) ociRuntime(name, path string, extra ...string) rtime {
	return e.ociRuntimeIn(name, path, e.bundle, extra...)
}

// ociRuntimeIn is an OCI runtime running the bundle dir.
func (e *env) ociRuntimeIn(name, path, bundle string, extra ...string) rtime {
	return rtime{
		name: name,
		run: func(id string) (sample, error) {
			root := e.root(name, id)
			args := append(append([]string{"--root", root}, extra...), "run", "--bundle", bundle, id)
			s, err := e.exec(bundle, path, args...)
			if err != nil {
				e.forceDelete(path, root, id)
			}
			return s, err
		},
		csd: func(id string) ([3]sample, error) {
			root := e.root(name, id)
			var r [3]sample
			var err error
			if r[0], err = e.exec(bundle, path, "--root", root, "create", "--bundle", bundle, id); err != nil {
				e.forceDelete(path, root, id)
				return r, err
			}
			if r[1], err = e.exec(bundle, path, "--root", root, "start", id); err != nil {
				e.forceDelete(path, root, id)
				return r, err
			}
			// containerd deletes after the exit; wait for `true` to stop.
			e.waitStopped(path, root, id)
			if r[2], err = e.exec(e.bundle, path, "--root", root, "delete", id); err != nil {
				e.forceDelete(path, root, id)
			}
			return r, err
		},
	}
}

func (e *env) forceDelete(path, root, id string) {
	_ = exec.Command(path, "--root", root, "delete", "--force", id).Run()
}

// waitStopped polls `state` until the container has stopped (at most 2s);
// this wait is not part of any measured time.
func (e *env) waitStopped(path, root, id string) {
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		b, err := exec.Command(path, "--root", root, "state", id).Output()
		if err != nil || strings.Contains(string(b), `"stopped"`) {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (e *env) dockerRuntime(extraEnv ...string) rtime {
	return e.dockerRuntimeFlags("minimal-docker", extraEnv, nil)
}

// dockerRuntimeFlags is minimal-docker run with the global flags extraEnv
// and the run flags flags.
func (e *env) dockerRuntimeFlags(name string, extraEnv, flags []string) rtime {
	return rtime{
		name: name,
		run: func(id string) (sample, error) {
			cid := filepath.Join(e.tmp, "cid-"+id)
			defer func() {
				if b, err := os.ReadFile(cid); err == nil {
					e.mu.Lock()
					e.dockerIDs = append(e.dockerIDs, strings.TrimSpace(string(b)))
					e.mu.Unlock()
					os.Remove(cid)
				}
			}()
			args := append(append(append(slices.Clone(extraEnv), "run"), e.dockerRunFlags...), flags...)
			return e.exec(e.bundle, e.mdocker, append(args, "--network", "none", "--cidfile", cid, e.rootfs, "true")...)
		},
	}
}

// imageRuntime is minimal-docker running the bundle's rootfs imported as
// an image (importImage): the same container on an overlay of the image.
func (e *env) imageRuntime(extraEnv ...string) rtime {
	rt := e.dockerRuntime(extraEnv...)
	rt.name = "minimal-docker (image)"
	rt.run = func(id string) (sample, error) {
		args := append(append(append([]string{"--root", e.imageRoot}, extraEnv...), "run"), e.dockerRunFlags...)
		args = append(args, "--network", "none", benchImage, "true")
		return e.exec(e.bundle, e.mdocker, args...)
	}
	return rt
}

// benchImage is the bundle's rootfs imported as an image.
const benchImage = "mdbench/rootfs:latest"

// importImage imports the bundle's rootfs into a store of the bench's
// temporary directory as benchImage (a one-layer image, as `import`
// makes it).
func (e *env) importImage() error {
	e.imageRoot = filepath.Join(e.tmp, "images")
	tarball := filepath.Join(e.tmp, "rootfs.tar")
	if out, err := exec.Command("tar", "-C", e.rootfs, "-cf", tarball, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("tar %s: %w: %s", e.rootfs, err, out)
	}
	defer os.Remove(tarball)
	if out, err := exec.Command(e.mdocker, "--root", e.imageRoot, "import", tarball, benchImage).CombinedOutput(); err != nil {
		return fmt.Errorf("minimal-docker import: %w: %s", err, out)
	}
	return nil
}

// The series that run one container both ways, in the one-at-a-time
// series only: crun on the config minimal-docker run makes, and both
// without a seccomp filter.
const (
	crunDockerConfig     = "crun (minimal-docker's config)"
	dockerUnconfined     = "minimal-docker (seccomp=unconfined)"
	crunUnconfinedConfig = "crun (minimal-docker's seccomp=unconfined config)"
)

// unconfined are the run flags of the series without a seccomp filter.
var unconfined = []string{"--security-opt", "seccomp=unconfined"}

func (e *env) runtimes() []rtime {
	crunSame := e.ociRuntimeIn(crunDockerConfig, e.crunPath, e.dockerBundle)
	crunUnconfined := e.ociRuntimeIn(crunUnconfinedConfig, e.crunPath, e.unconfinedBundle)
	mdUnconfined := e.dockerRuntimeFlags(dockerUnconfined, nil, unconfined)
	crunSame.oneAtATime, crunUnconfined.oneAtATime, mdUnconfined.oneAtATime = true, true, true
	return []rtime{
		e.ociRuntime("runc", e.runcPath),
		e.ociRuntime("crun", e.crunPath),
		e.ociRuntime("minimal-runc", e.mruncPath),
		e.dockerRuntime(),
		crunSame,
		mdUnconfined,
		crunUnconfined,
	}
}

func (e *env) id(rt string, i int) string {
	return fmt.Sprintf("%s-%s-%d", e.prefix, pathWord(rt), i)
}

// pathWord is name with every character but letters, digits and '-'
// made a '-' (a runtime's name in container ids and directories).
func pathWord(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '-'
	}, name)
}

// benchmark runs the interleaved series, the burst and create/start/delete,
// and returns the Markdown report; a run that fails ends it with its error
// (run's deferred cleanup then removes what the bench made).
func (e *env) benchmark() (string, error) {
	rts := e.runtimes()
	n := 0
	samples := make(map[string][]sample)
	fmt.Printf("sequential: %d warm-up + %d rounds of %s\n", *warmup, *rounds, names(rts))
	for round := 0; round < *warmup+*rounds; round++ {
		for _, rt := range rts {
			n++
			s, err := rt.run(e.id(rt.name, n))
			if err != nil {
				return "", err
			}
			if round >= *warmup {
				samples[rt.name] = append(samples[rt.name], s)
			}
		}
	}

	var burst map[string]time.Duration
	if *parallel > 0 {
		burst = make(map[string]time.Duration)
		fmt.Printf("burst: %d containers at once per runtime\n", *parallel)
		for _, rt := range rts {
			if rt.oneAtATime {
				continue
			}
			var wg sync.WaitGroup
			errs := make([]error, *parallel)
			t0 := time.Now()
			for i := 0; i < *parallel; i++ {
				n++
				id := e.id(rt.name, n)
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					_, errs[i] = rt.run(id)
				}(i)
			}
			wg.Wait()
			burst[rt.name] = time.Since(t0)
			if err := errors.Join(errs...); err != nil {
				fmt.Fprintf(os.Stderr, "bench: burst %s: %v\n", rt.name, err)
				burst[rt.name] = -1
			}
		}
	}

	fmt.Printf("create+start+delete: %d rounds\n", *rounds)
	csd := make(map[string][][3]sample)
	for round := 0; round < *warmup+*rounds; round++ {
		for _, rt := range rts {
			if rt.csd == nil || rt.oneAtATime {
				continue
			}
			n++
			r, err := rt.csd(e.id(rt.name, n))
			if err != nil {
				fmt.Fprintf(os.Stderr, "bench: create/start/delete %s: %v\n", rt.name, err)
				continue
			}
			if round >= *warmup {
				csd[rt.name] = append(csd[rt.name], r)
			}
		}
	}
	var pull string
	if *pullRounds > 0 {
		pull = e.pullBench()
	}
	if *detachRounds > 0 {
		pull += "\n" + e.detachBench()
	}
	if *netRounds > 0 {
		pull += "\n" + e.networkBench()
	}
	if *rootlessRounds > 0 {
		pull += "\n" + e.rootlessBench()
	}
	if it := e.initTraceReport(); it != "" {
		pull += "\n" + it
	}
	return e.report(rts, samples, burst, csd, pull), nil
}

func names(rts []rtime) string {
	var s []string
	for _, rt := range rts {
		s = append(s, rt.name)
	}
	return strings.Join(s, ", ")
}

func median(d []time.Duration) time.Duration { return quantile(d, 0.5) }

// quantile is the nearest-rank quantile (q=0.5 of an even count averages
// the two middle values).
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	if q == 0.5 && len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	i := int(q*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func medianF(f []float64) float64 {
	s := slices.Clone(f)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// initBinary says which binary minimal-docker and minimal-runc in bin start
// as the container's init (see package sealed), and how the runtimes were
// built (cgo or not: their build info says).
func initBinary(bin string) string {
	built := "runtimes built with CGO_ENABLED=" + cgoSetting(filepath.Join(bin, "minimal-runc"))
	fi, err := os.Stat(filepath.Join(bin, "minimal-docker-helper"))
	if err != nil {
		return "no minimal-docker-helper beside the runtimes; " + built
	}
	return fmt.Sprintf("minimal-docker-helper beside the runtimes (its constructor, in C, runs the plan; static, %.1f MB); %s", float64(fi.Size())/1e6, built)
}

// cgoSetting is the CGO_ENABLED a Go binary was built with ("?" unknown).
func cgoSetting(path string) string {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return "?"
	}
	for _, s := range bi.Settings {
		if s.Key == "CGO_ENABLED" {
			return s.Value
		}
	}
	return "?"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func (e *env) header(b *strings.Builder, title string) {
	fmt.Fprintf(b, "### %s\n\n", title)
	fmt.Fprintf(b, "%s, %d cores (%s), kernel %s; %s; %s; minimal-runc %s.\n\n",
		e.date, e.cores, e.cpu, e.kernel, e.runc, e.crun, e.ours)
	fmt.Fprintf(b, "%s\n\n%s\n\n%s\n\n%s\n\n", e.namespaceNote, e.initNote, e.bundleNote, e.dockerNote)
}

func (e *env) report(rts []rtime, samples map[string][]sample, burst map[string]time.Duration, csd map[string][][3]sample, pull string) string {
	var b strings.Builder
	e.header(&b, "Container start: `true`, one at a time")
	fmt.Fprintf(&b, "%d interleaved rounds (%s) after %d warm-up rounds. "+
		"CPU and RSS from wait4's rusage of the runtime's process tree (peak RSS: its largest process).\n\n", *rounds, names(rts), *warmup)
	b.WriteString("| runtime | median | p90 | max | median CPU (user+sys) | peak RSS |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, rt := range rts {
		s := samples[rt.name]
		var wall, cpu []time.Duration
		var rss int64
		for _, x := range s {
			wall = append(wall, x.wall)
			cpu = append(cpu, x.cpu)
			rss = max(rss, x.maxRSS)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.1f MiB |\n", rt.name, ms(median(wall)), ms(quantile(wall, 0.9)),
			ms(quantile(wall, 1)), ms(median(cpu)), float64(rss)/1024)
	}
	b.WriteString("\nRatios, median of the per-round ratios (goal: minimal-runc ≤ 1.0× crun and ≤ 0.5× runc; minimal-docker ≤ 1.0× crun, issue 17's):\n\n")
	b.WriteString("| ours | / crun | / runc | goal met |\n| --- | ---: | ---: | --- |\n")
	for _, ours := range []string{"minimal-runc", "minimal-docker"} {
		rc := ratios(samples[ours], samples["crun"])
		rr := ratios(samples[ours], samples["runc"])
		met := yesNo(rc <= 1.0)
		if ours == "minimal-runc" {
			met = yesNo(rc <= 1.0 && rr <= 0.5)
		}
		fmt.Fprintf(&b, "| %s | %.2f× | %.2f× | %s |\n", ours, rc, rr, met)
	}
	if same := samples[crunDockerConfig]; len(same) > 0 {
		fmt.Fprintf(&b, "\nThe same container both ways: minimal-docker run ROOTFS true / crun run on a bundle of the config.json "+
			"minimal-docker made for it (%s): **%.2f×** (crun compiles the seccomp profile on each run; "+
			"minimal-docker loads it from its cache). Both without a seccomp filter (`--security-opt seccomp=unconfined`, "+
			"and crun on the config.json minimal-docker made for that): **%.2f×**.\n", dockerBundleNote,
			ratios(samples["minimal-docker"], same), ratios(samples[dockerUnconfined], samples[crunUnconfinedConfig]))
	}
	if burst != nil {
		fmt.Fprintf(&b, "\n### %d containers started at once (`true`), total wall time\n\n", *parallel)
		b.WriteString("| runtime | total | / crun |\n| --- | ---: | ---: |\n")
		for _, rt := range rts {
			d, ok := burst[rt.name]
			if !ok {
				continue
			}
			if d < 0 {
				fmt.Fprintf(&b, "| %s | failed | |\n", rt.name)
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %.2f× |\n", rt.name, ms(d), float64(d)/float64(burst["crun"]))
		}
	}
	if len(csd) > 0 {
		fmt.Fprintf(&b, "\n### create + start + delete as three commands (as containerd drives a runtime), medians of %d\n\n", *rounds)
		b.WriteString("| runtime | create | start | delete | total |\n| --- | ---: | ---: | ---: | ---: |\n")
		for _, rt := range rts {
			r, ok := csd[rt.name]
			if !ok {
				continue
			}
			var c, s, d, t []time.Duration
			for _, x := range r {
				c, s, d = append(c, x[0].wall), append(s, x[1].wall), append(d, x[2].wall)
				t = append(t, x[0].wall+x[1].wall+x[2].wall)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", rt.name, ms(median(c)), ms(median(s)), ms(median(d)), ms(median(t)))
		}
	}
	if *microOut != "" {
		if m, err := os.ReadFile(*microOut); err == nil {
			b.WriteString("\n### Go micro-benchmarks\n\n```\n")
			for _, line := range strings.Split(string(m), "\n") {
				if strings.HasPrefix(line, "Benchmark") {
					b.WriteString(line + "\n")
				}
			}
			b.WriteString("```\n")
		}
	}
	if pull != "" {
		b.WriteString("\n" + pull)
	}
	b.WriteString("\nReproduce: `sudo make bench` (the startup profile: `sudo make bench BENCH_ARGS=--startup-profile`; " +
		"the package initialisers alone: `BENCH_ARGS=--inittrace-only`, skipped with `BENCH_ARGS=-inittrace=0`; " +
		"the pull bench alone: `BENCH_ARGS=--pull-only`, skipped with `BENCH_ARGS=-pull=0`; " +
		"the detached bench alone: `BENCH_ARGS=--detach-only`, skipped with `BENCH_ARGS=-detach=0`; " +
		"the network bench alone: `BENCH_ARGS=--network-only`, skipped with `BENCH_ARGS=-network=0`).\n")
	return b.String()
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}

// ratios is the median over rounds of ours[i]/theirs[i].
func ratios(ours, theirs []sample) float64 {
	var r []float64
	for i := range min(len(ours), len(theirs)) {
		r = append(r, float64(ours[i].wall)/float64(theirs[i].wall))
	}
	return medianF(r)
}

var (
	stepLine = regexp.MustCompile(`debug: step (.+?)\s+([0-9.]+)ms\s*$`)
	// explainLine is a line of --explain (package explain): "explain:
	// SINCEms WHO DURATIONms  OPERATION ARGS..."; its step is WHO and
	// OPERATION's name (opName: "init mount", "parent sent the plan"),
	// the operations of one name summed.
	explainLine = regexp.MustCompile(`^explain:\s+[0-9.]+ms\s+(\S+)\s+([0-9.]+)ms\s+(.*)$`)
)

// opName is the name of an --explain operation: its words up to its
// first argument (a path, a number, a quoted value, a parenthesis or a
// bracket, a constant's name, or the word before "on": a mount's
// source), or through the
// first word that ends a phrase (":", ";", ","), at most five: "mount
// proc on /proc" is "mount", "sent the plan: 68 ops" is "sent the
// plan", "prctl(PR_SET_DUMPABLE, 0)" is "prctl".
func opName(op string) string {
	words := strings.Fields(op)
	var name []string
	for i, w := range words {
		if before, _, ok := strings.Cut(w, "("); ok {
			if before != "" {
				name = append(name, before)
			}
			break
		}
		if strings.ContainsAny(w[:1], "/[\"0123456789-") || i+1 < len(words) && words[i+1] == "on" ||
			strings.Contains(w, "_") && strings.ToUpper(w) == w { // a constant: CAP_KILL, RLIMIT_NOFILE
			break
		}
		if end := strings.TrimRight(w, ":;,"); end != w {
			name = append(name, end)
			break
		}
		if name = append(name, w); len(name) == 5 {
			break
		}
	}
	if len(name) == 0 {
		return op
	}
	return strings.Join(name, " ")
}

// steps parses the step lines of --debug output, or the lines of
// --explain, in order.
func steps(stderr string) (order []string, d map[string]time.Duration) {
	d = make(map[string]time.Duration)
	for _, line := range strings.Split(stderr, "\n") {
		m := stepLine.FindStringSubmatch(line)
		if e := explainLine.FindStringSubmatch(line); e != nil {
			m = []string{e[0], e[1] + " " + opName(e[3]), e[2]}
		}
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			continue
		}
		name := m[1]
		if _, seen := d[name]; !seen {
			order = append(order, name)
		}
		d[name] += time.Duration(v * float64(time.Millisecond))
	}
	return order, d
}

// series is the per-step timings of repeated runs.
type series struct {
	title string
	order []string
	steps map[string][]time.Duration
	wall  []time.Duration
}

func (s *series) add(x sample) {
	order, d := steps(x.stderr)
	for _, name := range order {
		if !slices.Contains(s.order, name) {
			s.order = append(s.order, name)
		}
		s.steps[name] = append(s.steps[name], d[name])
	}
	s.wall = append(s.wall, x.wall)
}

// startupProfile runs minimal-runc --debug run on the bundle, and
// minimal-docker with the seccomp cache warm and cleared, -n times each,
// and returns the median of each step.
func (e *env) startupProfile() (string, error) {
	runcFlags, dockerFlags := []string{"--debug"}, []string{"--log-level", "debug"}
	if *explainProfile { // the plan's own timings
		runcFlags, dockerFlags, e.dockerRunFlags = []string{"--explain"}, nil, []string{"--explain"}
	}
	mr := e.ociRuntime("minimal-runc", e.mruncPath, runcFlags...)
	dk := e.dockerRuntime(dockerFlags...)
	if err := e.importImage(); err != nil {
		return "", err
	}
	im := e.imageRuntime(dockerFlags...)
	all := []*series{
		{title: "minimal-runc --debug run BUNDLE (runc spec config, no seccomp)"},
		{title: "minimal-docker run ROOTFS true, seccomp filter cached"},
		{title: "minimal-docker run ROOTFS true, seccomp cache cleared before each run (compiled)"},
		{title: "minimal-docker run IMAGE true (the rootfs imported as a one-layer image: an overlay), seccomp filter cached"},
	}
	for _, s := range all {
		s.steps = make(map[string][]time.Duration)
	}
	n := 0
	fmt.Printf("startup profile: %d warm-up + %d rounds\n", *warmup, *rounds)
	for round := 0; round < *warmup+*rounds; round++ {
		for i, s := range all {
			n++
			var x sample
			var err error
			switch i {
			case 0:
				x, err = mr.run(e.id("profile", n))
			case 1:
				x, err = dk.run(e.id("profile", n))
			case 2:
				clearSeccompCache(e.seccompCache)
				x, err = dk.run(e.id("profile", n))
			case 3:
				x, err = im.run(e.id("profile", n))
			}
			if err != nil {
				return "", err
			}
			if round >= *warmup {
				s.add(x)
			}
		}
	}
	var b strings.Builder
	e.header(&b, "Startup profile: median time of each setup step")
	if *explainProfile {
		fmt.Fprintf(&b, "%d runs each after %d warm-up runs, interleaved. Steps are `--explain`'s lines: who did it "+
			"(the parent, or the container's init) and the operation, the operations of one name summed.\n", *rounds, *warmup)
	} else {
		fmt.Fprintf(&b, "%d runs each after %d warm-up runs, interleaved. Steps are what `--debug` / `--log-level debug` print; "+
			"`init …` steps run in the container's init, inside `init (total)`.\n", *rounds, *warmup)
	}
	for _, s := range all {
		fmt.Fprintf(&b, "\n#### %s\n\nwall time median %s\n\n| step | median | p90 |\n| --- | ---: | ---: |\n", s.title, ms(median(s.wall)))
		for _, name := range s.order {
			fmt.Fprintf(&b, "| %s | %.3f ms | %.3f ms |\n", name, float64(median(s.steps[name]).Microseconds())/1000,
				float64(quantile(s.steps[name], 0.9).Microseconds())/1000)
		}
	}
	fmt.Fprintf(&b, "\nrun IMAGE against run ROOTFS (both seccomp cached): %+.2f ms at the median (issue 14's goal: the overlay adds at most 1 ms).\n",
		float64(median(all[3].wall)-median(all[1].wall))/float64(time.Millisecond))
	if it := e.initTraceReport(); it != "" {
		b.WriteString("\n" + it)
	}
	b.WriteString("\nReproduce: `sudo make bench BENCH_ARGS=--startup-profile` (from `--explain`'s lines: `BENCH_ARGS='--startup-profile -explain'`).\n")
	return b.String(), nil
}

// clearSeccompCache empties minimal-docker's seccomp cache dir (it is only
// a cache: the next run compiles and stores the filter again).
func clearSeccompCache(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, ent := range ents {
		os.RemoveAll(filepath.Join(dir, ent.Name()))
	}
}

// cleanup deletes what is left of every container (state dirs under the
// temporary directory), removes the temporary directory, and reports any
// cgroup named after one of this run's containers still present.
func (e *env) cleanup() {
	if e.tmp == "" { // setup failed before it made anything
		return
	}
	for _, rt := range []struct{ name, path string }{{"runc", e.runcPath}, {"crun", e.crunPath}, {"minimal-runc", e.mruncPath},
		{crunDockerConfig, e.crunPath}, {crunUnconfinedConfig, e.crunPath}} {
		root := e.root(rt.name, "")
		ents, _ := os.ReadDir(root)
		for _, ent := range ents {
			if strings.HasPrefix(ent.Name(), e.prefix) {
				e.forceDelete(rt.path, root, ent.Name())
			}
		}
	}
	if e.nullIn != nil {
		e.nullIn.Close()
		e.nullOut.Close()
	}
	if e.tmp != "" {
		os.RemoveAll(e.tmp)
	}
	left := e.leftoverCgroups()
	if len(left) > 0 {
		fmt.Printf("cleanup: %d directories named after this run's containers were left under /sys/fs/cgroup (e.g. %s); removing them\n",
			len(left), left[len(left)-1])
		for _, d := range left {
			removeCgroupDir(d)
		}
		if left = e.leftoverCgroups(); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "bench: could not remove:\n  %s\n", strings.Join(left, "\n  "))
		} else {
			fmt.Println("cleanup: every container deleted; nothing named after this run's containers remains under /sys/fs/cgroup")
		}
	} else {
		fmt.Println("cleanup: every container deleted; no cgroup named after this run's containers remains under /sys/fs/cgroup")
	}
}

// leftoverCgroups walks /sys/fs/cgroup/* for directories whose name holds
// this run's prefix or one of minimal-docker's container IDs.
func (e *env) leftoverCgroups() []string {
	ids := map[string]bool{}
	for _, id := range e.dockerIDs {
		ids[id] = true
	}
	var left []string
	ents, _ := os.ReadDir("/sys/fs/cgroup")
	for _, ent := range ents {
		root := filepath.Join("/sys/fs/cgroup", ent.Name())
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			base := d.Name()
			if strings.Contains(base, e.prefix) || ids[base] || matchesID(base, ids) {
				left = append(left, p)
				return filepath.SkipDir
			}
			return nil
		})
	}
	// Deepest first, so that rmdir can take children before parents.
	sort.Slice(left, func(i, j int) bool { return len(left[i]) > len(left[j]) })
	return left
}

// matchesID reports whether a directory name carries one of the IDs (as
// in "minimal-docker-ID" or "ID.scope").
func matchesID(base string, ids map[string]bool) bool {
	for id := range ids {
		if len(id) >= 12 && strings.Contains(base, id) {
			return true
		}
	}
	return false
}

// makeBundle writes config.json as `runc spec` does, with args ["true"]
// and no terminal, unless the bundle has one. When minimal-runc refuses
// the ambient capabilities of runc's spec (they are not inheritable), the
// inheritable set is made the same as the ambient one for every runtime,
// and the report says so.
func (e *env) makeBundle() error {
	cfg := filepath.Join(e.bundle, "config.json")
	if _, err := os.Stat(cfg); err != nil {
		if out, err := exec.Command(e.runcPath, "spec", "--bundle", e.bundle).CombinedOutput(); err != nil {
			return fmt.Errorf("runc spec: %w: %s", err, out)
		}
		if err := editConfig(cfg, func(c map[string]any) {
			p := c["process"].(map[string]any)
			p["args"] = []string{"true"}
			p["terminal"] = false
		}); err != nil {
			return err
		}
	}
	id := e.id("probe", 0)
	root := e.root("minimal-runc", id)
	_, err := e.exec(e.bundle, e.mruncPath, "--root", root, "run", "--bundle", e.bundle, id)
	if err == nil {
		return nil
	}
	e.forceDelete(e.mruncPath, root, id)
	if !strings.Contains(err.Error(), "process.capabilities.ambient") {
		return err
	}
	fmt.Println("Note: minimal-runc refuses runc spec's config.json:", err)
	if err := editConfig(cfg, func(c map[string]any) {
		caps := c["process"].(map[string]any)["capabilities"].(map[string]any)
		caps["inheritable"] = caps["ambient"]
	}); err != nil {
		return err
	}
	e.bundleNote += " The bundle's process.capabilities.inheritable is set to its ambient set (for every runtime): " +
		"minimal-runc refuses runc spec's config.json as written (ambient capabilities that are not inheritable); runc and crun accept it."
	id = e.id("probe", 1)
	if _, err := e.exec(e.bundle, e.mruncPath, "--root", root, "run", "--bundle", e.bundle, id); err != nil {
		e.forceDelete(e.mruncPath, root, id)
		return err
	}
	return nil
}

func editConfig(path string, edit func(map[string]any)) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	edit(c)
	b, err = json.MarshalIndent(c, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// removeCgroupDir removes a left-over directory: a real cgroup (empty once
// its processes are gone) with rmdir; a plain directory on the tmpfs under
// /sys/fs/cgroup (crun makes one in the unmounted unified/ mount point and
// writes cgroup.procs into it) with its content.
func removeCgroupDir(dir string) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err == nil && st.Type == unix.TMPFS_MAGIC {
		os.RemoveAll(dir)
		return
	}
	_ = unix.Rmdir(dir)
}

// makeDockerBundle makes the bundle name in the bench's directory, whose
// config.json is the one minimal-docker run FLAGS ROOTFS true --network
// none builds (made by
// minimal-docker create in a store of its own, then removed), so that
// crun can run the very container minimal-docker runs. The files the
// config bind-mounts from the container's directory in that store
// (/etc/hosts, /etc/hostname, /etc/resolv.conf) are copied beside it.
func (e *env) makeDockerBundle(name string, flags ...string) (string, error) {
	store := filepath.Join(e.tmp, "config-store")
	args := append(append([]string{"--root", store, "create"}, flags...), "--network", "none", e.rootfs, "true")
	out, err := exec.Command(e.mdocker, args...).Output()
	if err != nil {
		return "", fmt.Errorf("minimal-docker create (for its config): %w", err)
	}
	id := strings.TrimSpace(string(out))
	defer func() {
		if out, err := exec.Command(e.mdocker, "--root", store, "rm", "-f", id).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "bench: minimal-docker rm %s: %v: %s\n", id, err, out)
		}
	}()
	dir := filepath.Join(store, "containers", id)
	b, err := os.ReadFile(filepath.Join(dir, "bundle", "config.json"))
	if err != nil {
		return "", err
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Join(dir, "bundle", "config.json"), err)
	}
	bundle := filepath.Join(e.tmp, name)
	if err := os.MkdirAll(bundle, 0o755); err != nil {
		return "", err
	}
	mounts, _ := c["mounts"].([]any)
	for i, m := range mounts {
		m, _ := m.(map[string]any)
		src, _ := m["source"].(string)
		if !strings.HasPrefix(src, dir+"/") {
			continue
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return "", err
		}
		copied := filepath.Join(bundle, fmt.Sprintf("mount-%d-%s", i, filepath.Base(src)))
		if err := os.WriteFile(copied, data, 0o644); err != nil {
			return "", err
		}
		m["source"] = copied
	}
	// crun 1.8.1 refuses any ociVersion but 1.0.x ("unknown version
	// specified"): the one of runc spec's bundle.
	c["ociVersion"] = "1.0.2-dev"
	if b, err = json.MarshalIndent(c, "", "\t"); err != nil {
		return "", err
	}
	return bundle, os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644)
}

// dockerBundleNote says what the config of e.dockerBundle asks for.
const dockerBundleNote = "Docker's 14 capabilities, Docker's seccomp profile, no_new_privs, memory, pids, cpu and device limits, a cgroup namespace"
