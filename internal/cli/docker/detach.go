package docker

// run -d: a detached container, which outlives the command. The command
// reserves the container's record (internal/store), writes an OCI bundle
// from the same spec a foreground run builds (create stops there), and
// starts the container's monitor (cmd/minimal-docker-monitor; start.go),
// which runs minimal-runc create and start, keeps the container's output
// in a log, applies its restart policy, records its exit and deletes its
// runtime state when it ends (and, with --rm, runs rm -f). The files,
// under --root:
//
//	containers/ID/container.json   the record (store)
//	containers/ID/bundle/          config.json for minimal-runc
//	containers/ID/init.pid         the container's init (minimal-runc --pid-file)
//	containers/ID/ID-json.log      its output, Docker's json-file format
//	containers/ID/exit             its exit record (store.ExitRecord)
//	containers/ID/restart          its restarts (store.RestartRecord), with --restart
//	containers/ID/stopped          the stop mark: stop, kill and rm -f keep the policy from restarting it
//	containers/ID/monitor.pid      its monitor's pid
//	containers/ID/attach.sock      the monitor's attach socket (attach.go)
//	containers/ID/hosts, hostname, resolv.conf   its /etc files (etcfiles.go)
//	runtime/ID/                    minimal-runc's state (minimal-runc --root)
//	writable/ID/, writable/ID.lock an image's container's writes (runimage.go)

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/network"
	"github.com/minimal-docker/minimal-docker/internal/ondisk"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
	"github.com/minimal-docker/minimal-docker/internal/sealed"
	"github.com/minimal-docker/minimal-docker/internal/spec"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

// detachFlags are run's flags of a detached container (and create's).
type detachFlags struct {
	detach      bool // declared by run only (newRunCmd)
	name        string
	labels      []string
	stopSignal  string
	stopTimeout int
	logOpts     []string
	restart     string
	autoRemove  bool
}

// register declares them but -d, with Docker's names.
func (d *detachFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&d.name, "name", "", "assign a name to the container (with -d; default: a generated adjective_surname)")
	fl.StringArrayVarP(&d.labels, "label", "l", nil, "set a label KEY=VALUE on the container (with -d) (repeatable)")
	fl.StringVar(&d.stopSignal, "stop-signal", "", "signal that stop sends first (with -d; default: the image's STOPSIGNAL, else SIGTERM)")
	fl.IntVar(&d.stopTimeout, "stop-timeout", 10, "seconds stop waits after the stop signal before SIGKILL (with -d)")
	fl.StringArrayVar(&d.logOpts, "log-opt", nil, "json-file log option: max-size=SIZE (k, m, g), max-file=N (with -d) (repeatable)")
	fl.StringVar(&d.restart, "restart", "no", "restart policy when the container exits (with -d): no, on-failure[:MAX-RETRIES], always, unless-stopped (its monitor restarts it; not after stop, kill or rm -f)")
	fl.BoolVar(&d.autoRemove, "rm", false, "remove the container when it exits (with -d: its monitor removes it; a foreground container is always removed)")
}

// detachedOnly are the flags that only a detached container takes: a
// foreground run has no record to keep them in, nor a monitor.
var detachedOnly = []string{"name", "label", "stop-signal", "stop-timeout", "log-opt", "restart"}

// checkForeground refuses the flags of detached containers without -d.
func (d *detachFlags) checkForeground(c *cobra.Command) error {
	for _, name := range detachedOnly {
		if c.Flags().Changed(name) {
			return fmt.Errorf("--%s: only with -d for now (a foreground run keeps no record)", name)
		}
	}
	return nil
}

// restartPolicy reads --restart as Docker does (its CLI's format errors,
// then its daemon's checks), and refuses it with --rm, as Docker.
func (d *detachFlags) restartPolicy() (store.RestartPolicy, error) {
	var p store.RestartPolicy
	name, count, hasCount := strings.Cut(d.restart, ":")
	if hasCount && name == "" {
		return p, errors.New("invalid restart policy format: no policy provided before colon")
	}
	if count != "" {
		n, err := strconv.Atoi(count)
		if err != nil {
			return p, errors.New("invalid restart policy format: maximum retry count must be an integer")
		}
		p.MaximumRetryCount = n
	}
	p.Name = name
	switch name {
	case "", "no", "always", "unless-stopped":
		if p.MaximumRetryCount != 0 {
			msg := "invalid restart policy: maximum retry count can only be used with 'on-failure'"
			if p.MaximumRetryCount < 0 {
				msg += " and cannot be negative"
			}
			return p, errors.New(msg)
		}
		if name == "" {
			p.Name = "no"
		}
	case "on-failure":
		if p.MaximumRetryCount < 0 {
			return p, errors.New("invalid restart policy: maximum retry count cannot be negative")
		}
	default:
		return p, fmt.Errorf("invalid restart policy: unknown policy '%s'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'", name)
	}
	if d.autoRemove && p.Name != "no" {
		return p, errors.New("Conflicting options: --restart and --rm")
	}
	return p, nil
}

// restarts reports whether c has a restart policy.
func restarts(c *store.Container) bool {
	p := c.HostConfig.RestartPolicy.Name
	return p != "" && p != "no"
}

// logOptions are --log-opt's values (json-file's options).
type logOptions struct {
	maxSize int64 // bytes; 0: no rotation
	maxFile int
	config  map[string]string // as given, for the record
}

func parseLogOpts(opts []string) (logOptions, error) {
	l := logOptions{maxFile: 1, config: map[string]string{}}
	for _, o := range opts {
		key, val, ok := strings.Cut(o, "=")
		if !ok {
			return l, fmt.Errorf("invalid --log-opt %q: want KEY=VALUE", o)
		}
		switch key {
		case "max-size":
			n, err := spec.ParseMemory(val)
			if err != nil || n <= 0 {
				return l, fmt.Errorf("invalid --log-opt %q: want a size above 0 (10m, 512k)", o)
			}
			l.maxSize = n
		case "max-file":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return l, fmt.Errorf("invalid --log-opt %q: want a number of files, 1 or more", o)
			}
			l.maxFile = n
		default:
			return l, fmt.Errorf("invalid --log-opt %q: unknown log opt %q for json-file log driver (max-size, max-file)", o, key)
		}
		l.config[key] = val
	}
	return l, nil
}

// parseLabels reads --label KEY=VALUE (a KEY alone is an empty value, as
// Docker's).
func parseLabels(labels []string) (map[string]string, error) {
	out := map[string]string{}
	for _, l := range labels {
		k, v, _ := strings.Cut(l, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid --label %q: want KEY=VALUE", l)
		}
		out[k] = v
	}
	return out, nil
}

// companions are the binaries a detached container needs beside
// minimal-docker: its monitor and the OCI runtime the monitor drives.
type companions struct {
	monitor string
	runtime runtime
}

func (g *globals) companions() (companions, error) {
	m, err := sealed.Beside(sealed.MonitorName)
	if err != nil {
		return companions{}, err
	}
	r, err := g.runtime()
	return companions{monitor: m, runtime: r}, err
}

// runDetached is run -d: create, then start (start.go). It prints the
// container's ID once its process runs; on any failure it leaves nothing
// (record, name, bundle, writable layer, runtime state, --cidfile) and
// exits 125 (127 or 126 when the command is not found or can't be
// executed).
func runDetached(c *cobra.Command, g *globals, f *runFlags, st Streams, args []string) error {
	ctrs, id, err := createDetached(c, g, f, st, args)
	if err != nil {
		return err
	}
	if err := startDetached(g, ctrs, id, false, g.logger(st.Err)); err != nil {
		if r, rerr := g.runtime(); rerr == nil {
			var gone *store.Container
			if ctrs.Remove(id, func(ctr *store.Container) error { gone = ctr; return destroy(g, ctrs, r, ctr) }) == nil {
				_ = detachVolumes(g, gone, true)
			}
		}
		if f.cidfile != "" {
			os.Remove(f.cidfile)
		}
		return err
	}
	fmt.Fprintln(st.Out, id)
	return nil
}

// createDetached makes a container that start (start.go) runs: its
// record (store), with its name, its OCI bundle (containers/ID/bundle,
// from the same spec a foreground run builds) and, for an image, its
// writable layer, kept with the record. Docker's create: nothing runs.
// On failure it leaves nothing; 125.
func createDetached(c *cobra.Command, g *globals, f *runFlags, st Streams, args []string) (ctrs *store.Store, id string, err error) {
	d := &f.detached
	if err := validLogLevel(g.logLevel); err != nil {
		return nil, "", err
	}
	if !slices.Contains(pullPolicies, f.pull) {
		return nil, "", fmt.Errorf("invalid --pull %q: want missing, always or never", f.pull)
	}
	mounts, err := parseMounts(f.volumes, f.mounts)
	if err != nil {
		return nil, "", err
	}
	if err := checkUserns(f.userns); err != nil {
		return nil, "", err
	}
	logs, err := parseLogOpts(d.logOpts)
	if err != nil {
		return nil, "", err
	}
	labels, err := parseLabels(d.labels)
	if err != nil {
		return nil, "", err
	}
	policy, err := d.restartPolicy()
	if err != nil {
		return nil, "", err
	}
	if d.stopSignal != "" {
		if _, err := cli.ParseSignal(d.stopSignal); err != nil {
			return nil, "", fmt.Errorf("invalid --stop-signal: %w", err)
		}
	}
	if d.name != "" {
		if _, err := store.CheckName(d.name); err != nil {
			return nil, "", err
		}
	}
	if ctrs, err = g.containers(); err != nil {
		return nil, "", err
	}
	if id, err = store.NewID(); err != nil {
		return nil, "", err
	}

	// --log-level debug prints each step as it ends (the fault tests
	// kill the command at each).
	log, t0 := g.logger(st.Err), time.Now()
	rec := &store.Container{ID: id, Name: d.name}
	rootfs, argv := args[0], args[1:]
	var img *imageRun
	if !f.isRootfs(args[0]) {
		if img, err = f.prepareImage(c, g, st, args[0], id); err != nil {
			return nil, "", err
		}
		defer func() {
			if err != nil {
				img.dir.remove()
			} else {
				img.dir.lock.Close() // the record keeps the layer now (runDirKept)
			}
		}()
		// Not volatile: a detached container may be started again.
		img.overlay.Volatile = false
		rootfs = img.root
		ep, cmd := img.split(f.entrypoint, argv)
		if argv = append(ep, cmd...); len(argv) == 0 {
			return nil, "", errNoCommand
		}
		rec.Config.Entrypoint, rec.Config.Cmd = ep, cmd
		rec.Image, rec.Driver = img.id, "overlay"
		if d.stopSignal == "" {
			d.stopSignal = img.config.StopSignal
		}
		log.Step("image", t0)
		t0 = time.Now()
	} else {
		rec.Config.Cmd = argv
	}
	defer func() { // the record keeps the --userns=auto range from now on (destroy frees it)
		if err != nil {
			g.freeUserns(id, log)
		}
	}()
	s, volMounts, leases, etc, err := f.spec(g, id, rootfs, argv, img, mounts, true, ctrs.Dir(id))
	if err != nil {
		return nil, "", err
	}
	f.noLimitsNotice(st)
	if err := chownUpper(s, img); err != nil {
		return nil, "", err
	}
	defer func() { // the record keeps the volumes attached from now on
		if err != nil {
			leases.release()
		} else {
			leases.keep()
		}
	}()
	if img != nil {
		if err := spec.WithRootOverlay(*img.overlay)(s); err != nil {
			return nil, "", err
		}
	}
	if f.tty {
		s.Process.ConsoleSize = terminalSize(st) // as Docker's CLI, when it runs on a terminal
	}
	log.Step("spec", t0)
	t0 = time.Now()

	fillRecord(rec, f, s, args[0], labels, logs, volMounts, leases)
	rec.HostConfig.RestartPolicy, rec.HostConfig.AutoRemove = policy, d.autoRemove
	if c.Flags().Changed("stop-timeout") {
		rec.Config.StopTimeout = &d.stopTimeout
	}
	rec.LogPath = filepath.Join(ctrs.Dir(id), id+"-json.log")
	if err := ctrs.Create(rec); err != nil {
		return nil, "", err
	}
	log.Step("record", t0)
	t0 = time.Now()
	defer func() {
		if err != nil {
			_ = ctrs.Remove(id, nil)
		}
	}()
	if err := etc.write(); err != nil {
		return nil, "", err
	}
	if err := writeBundle(filepath.Join(ctrs.Dir(id), "bundle"), s); err != nil {
		return nil, "", err
	}
	// The other --network flags: network connect of the created
	// container (its record's endpoints, its bundle's hooks).
	for _, v := range f.extraNets {
		if err := connectNetwork(g, id, v); err != nil {
			return nil, "", err
		}
	}
	log.Step("bundle", t0)
	if f.cidfile != "" {
		if err := writeCidfile(f.cidfile, id); err != nil {
			return nil, "", err
		}
	}
	return ctrs, id, nil
}

var errNoCommand = errors.New("no command specified: the image has no Entrypoint or Cmd, and none was given")

// fillRecord puts in rec's Config and HostConfig what the flags and the
// spec say, in Docker's fields.
func fillRecord(rec *store.Container, f *runFlags, s *specs.Spec, ref string, labels map[string]string, logs logOptions, binds []specs.Mount, vols *volumeLeases) {
	rec.Path, rec.Args = s.Process.Args[0], s.Process.Args[1:]
	cfg := &rec.Config
	cfg.Hostname, cfg.Domainname, cfg.Image, cfg.Env, cfg.WorkingDir = s.Hostname, s.Domainname, ref, s.Process.Env, s.Process.Cwd
	cfg.User, cfg.Labels, cfg.StopSignal = f.user, labels, f.detached.stopSignal
	// As Docker's run -d: nothing attached (AttachStdin, AttachStdout,
	// AttachStderr and StdinOnce false); attach joins later.
	cfg.Tty, cfg.OpenStdin = f.tty, f.interactive
	h := &rec.HostConfig
	h.LogConfig = store.LogConfig{Type: "json-file", Config: logs.config}
	h.NetworkMode = f.network
	if f.network != "none" && f.network != "host" {
		rec.Endpoints = []store.Endpoint{{Network: f.network, Aliases: f.names.aliases}}
		if f.net.ip.IsValid() {
			rec.Endpoints[0].IPv4Address = f.net.ip.String()
		}
		if f.net.mac != nil {
			cfg.MacAddress = f.net.mac.String()
		}
	}
	h.Dns, h.DnsSearch, h.DnsOptions, h.ExtraHosts = f.names.dns, f.names.dnsSearch, f.names.dnsOptions, f.names.addHosts
	h.PortBindings = map[string][]store.PortBinding{}
	for _, p := range f.net.publish {
		key, b := network.Port{Number: p.ContainerPort, Protocol: p.Protocol}.String(), store.PortBinding{HostIp: p.HostIP}
		b.HostPort = p.HostPorts()
		h.PortBindings[key] = append(h.PortBindings[key], b)
	}
	h.PublishAllPorts = f.publishAll
	for _, p := range f.net.exposed {
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		cfg.ExposedPorts[p.String()] = struct{}{}
	}
	h.CapAdd, h.CapDrop, h.Privileged, h.ReadonlyRootfs = f.capAdd, f.capDrop, f.privileged, f.readOnly
	h.Sysctls = s.Linux.Sysctl
	if r := s.Linux.Resources; r != nil {
		if r.Memory != nil && r.Memory.Limit != nil && *r.Memory.Limit > 0 {
			h.Memory = *r.Memory.Limit
			if r.Memory.Swap != nil {
				h.MemorySwap = *r.Memory.Swap
			}
		}
		if r.CPU != nil && r.CPU.Quota != nil && r.CPU.Period != nil && *r.CPU.Quota > 0 && *r.CPU.Period > 0 {
			h.NanoCpus = *r.CPU.Quota * 1e9 / int64(*r.CPU.Period)
		}
		if r.Pids != nil && r.Pids.Limit != nil {
			limit := *r.Pids.Limit
			h.PidsLimit = &limit
		}
	}
	for _, t := range f.tmpfs {
		if h.Tmpfs == nil {
			h.Tmpfs = map[string]string{}
		}
		dst, opts, _ := strings.Cut(t, ":")
		h.Tmpfs[dst] = opts
	}
	for _, m := range binds {
		mp := store.MountPoint{Type: m.Type, Source: m.Source, Destination: m.Destination, RW: true}
		if slices.Contains(m.Options, "ro") {
			mp.Mode, mp.RW = "ro", false
		}
		if v := vols.volumeOf(m.Source); v != nil {
			mp.Type, mp.Name, mp.Driver = kindVolume, v.Name, "local"
			if !v.Anonymous { // Docker's Binds: NAME:TARGET
				h.Binds = append(h.Binds, bindSpec(v.Name, mp))
			}
		} else if m.Type == "bind" {
			mp.Propagation = "rprivate"
			h.Binds = append(h.Binds, bindSpec(m.Source, mp))
		}
		rec.Mounts = append(rec.Mounts, mp)
	}
}

// bindSpec is HostConfig.Binds' SOURCE:TARGET[:ro].
func bindSpec(source string, mp store.MountPoint) string {
	if mp.RW {
		return source + ":" + mp.Destination
	}
	return source + ":" + mp.Destination + ":ro"
}

// writeBundle writes s as dir/config.json.
func writeBundle(dir string, s *specs.Spec) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	b, err := spec.MarshalIndent(s)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	if err := ondisk.WriteFile(filepath.Join(dir, "config.json"), b, 0o600, ondisk.Durable); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	return nil
}

// startMonitor starts container c's monitor on its bundle, with its
// log options, restart policy and --rm, and returns the pid of the
// container's init once it runs and the monitor (Pid 0 when it has
// ended already), or the runtime's error (an error wrapping
// rootfs.ErrNotFound or ErrNotExecutable when it says so, for 127 and
// 126).
func startMonitor(bins companions, ctrs *store.Store, c *store.Container, noStart bool) (int, store.Process, error) {
	logs, err := logOptionsOf(c.HostConfig.LogConfig.Config)
	if err != nil {
		return 0, store.Process{}, err
	}
	args := []string{"--runtime", bins.runtime.path}
	for _, a := range bins.runtime.globalArgs() {
		args = append(args, "--runtime-arg", a)
	}
	id, dir := c.ID, ctrs.Dir(c.ID)
	args = append(args, "--id", id, "--bundle", filepath.Join(dir, "bundle"),
		"--pid-file", ctrs.PidPath(id),
		"--log", c.LogPath, "--exit-file", ctrs.ExitPath(id),
		"--log-max-file", strconv.Itoa(logs.maxFile),
		"--monitor-pid-file", ctrs.MonitorPidPath(id),
		"--attach-socket", filepath.Join(dir, attachSocketName))
	if logs.maxSize > 0 {
		args = append(args, "--log-max-size", strconv.FormatInt(logs.maxSize, 10))
	}
	// What the monitor holds of the container's stdin: a pipe (-i) or the
	// pty master (-t, process.terminal in the bundle).
	if c.Config.OpenStdin {
		args = append(args, "--stdin")
	}
	if c.Config.Tty {
		args = append(args, "--tty")
	}
	if noStart { // created, waiting for minimal-runc start (start -a: attached first)
		args = append(args, "--no-start")
	}
	if p := c.HostConfig.RestartPolicy; restarts(c) {
		args = append(args, "--restart", p.Name, "--restart-max", strconv.Itoa(p.MaximumRetryCount),
			"--restart-file", ctrs.RestartPath(id), "--stop-file", ctrs.StopPath(id))
	}
	if c.HostConfig.AutoRemove {
		rm, err := bins.removeCommand(id)
		if err != nil {
			return 0, store.Process{}, err
		}
		args = append(args, "--exit-command", rm[0])
		for _, a := range rm[1:] {
			args = append(args, "--exit-command-arg", a)
		}
	}
	cmd := exec.Command(bins.monitor, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(errOut.String()), sealed.MonitorName+": "))
		if msg == "" {
			msg = err.Error()
		}
		return 0, store.Process{}, monitorError(msg)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
	if err != nil || pid <= 0 {
		return 0, store.Process{}, fmt.Errorf("%s: printed %q, want the container's pid", bins.monitor, out.String())
	}
	var monitor store.Process
	if b, err := os.ReadFile(ctrs.MonitorPidPath(id)); err == nil {
		if mpid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && mpid > 0 {
			monitor, _ = store.ProcessOf(mpid) // gone already: the container has ended
		}
	}
	return pid, monitor, nil
}

// removeCommand is the command that removes container id and its
// anonymous volumes (rm -f -v, as Docker's --rm), which the monitor of a
// --rm container runs when the container ends.
func (b companions) removeCommand(id string) ([]string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("--rm: find minimal-docker's binary: %w", err)
	}
	return []string{self, "--root", filepath.Dir(b.runtime.root), "rm", "-f", "-v", id}, nil
}

// logOptionsOf reads back the log options a record keeps
// (HostConfig.LogConfig.Config, as --log-opt gave them).
func logOptionsOf(config map[string]string) (logOptions, error) {
	var opts []string
	for k, v := range config {
		opts = append(opts, k+"="+v)
	}
	return parseLogOpts(opts)
}

// monitorError is the monitor's message as an error, classified as the
// foreground run's are (exitcode.Of): the runtime's text is all that
// crosses the monitor.
func monitorError(msg string) error {
	e := &runtimeError{msg: msg}
	switch {
	case strings.Contains(msg, rootfs.ErrNotFound.Error()):
		e.kind = rootfs.ErrNotFound
	case strings.Contains(msg, rootfs.ErrNotExecutable.Error()):
		e.kind = rootfs.ErrNotExecutable
	}
	return e
}

// runtimeError is the runtime's message, as the monitor passed it on, and
// what it says went wrong (nil: the runtime failed).
type runtimeError struct {
	msg  string
	kind error
}

func (e *runtimeError) Error() string { return e.msg }
func (e *runtimeError) Unwrap() error { return e.kind }

// runningProcess identifies the container's init pid; one already gone
// (a command that ended at once) is recorded with a start time no process
// has, so that it reads as ended.
func runningProcess(pid int) store.Process {
	p, err := store.ProcessOf(pid)
	if err != nil {
		boot, _ := store.BootID()
		return store.Process{Pid: pid, BootID: boot}
	}
	return p
}
