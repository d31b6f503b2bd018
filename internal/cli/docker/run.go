package docker

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/minimal-docker/minimal-docker/internal/cgroups"
	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/container"
	"github.com/minimal-docker/minimal-docker/internal/exitcode"
	"github.com/minimal-docker/minimal-docker/internal/explain"
	"github.com/minimal-docker/minimal-docker/internal/network"
	"github.com/minimal-docker/minimal-docker/internal/rootless"
	"github.com/minimal-docker/minimal-docker/internal/spec"
)

// runFlags are the flags of `run`, as given.
type runFlags struct {
	hostname     string
	domainname   string
	env          []string
	workdir      string
	memory       string
	pidsLimit    string
	cpus         string
	cpusetCpus   string
	cpusetMems   string
	cgroupParent string
	network      string     // --network (the first), else the default (given)
	networks     []string   // --network as given (networkFields)
	extraNets    []netValue // the networks of the --network flags after the first
	ip           string     // --ip: the container's address on its network
	mac          string     // --mac-address: its interface's MAC address
	sysctls      []string   // --sysctl KEY=VALUE
	publish      []string   // -p
	publishAll   bool       // -P
	expose       []string   // --expose
	net          netPlan    // what spec made of --network, --ip, --mac-address, -p, -P, --expose
	init         bool
	cidfile      string
	capAdd       []string
	capDrop      []string
	privileged   bool
	securityOpt  []string
	readOnly     bool
	user         string
	tmpfs        []string
	volumes      []string // -v
	mounts       []string // --mount
	hostRootfs   bool
	rootfsFlag   bool        // --rootfs: the first argument is a root filesystem
	pull         string      // --pull: missing, always or never
	entrypoint   *string     // --entrypoint, when given
	workdirSet   bool        // -w was given (else the image's WorkingDir)
	hostnameSet  bool        // --hostname was given
	interactive  bool        // -i: the container's stdin is ours (else /dev/null)
	tty          bool        // -t: the process gets a pty, relayed to our stdio
	detached     detachFlags // -d and the flags of detached containers (detach.go)
	explain      bool        // --explain (a foreground run)
	// withoutCgroup: a rootless run without a delegated cgroup, so
	// without limits (given).
	withoutCgroup bool
	names         dnsFlags // --dns, --add-host, --network-alias... (etcfiles.go)
	userns        string   // --userns: host, auto (userns.go) or keep-id (rootless)
}

func newRunCmd(g *globals, st Streams) *cobra.Command {
	f := &runFlags{}
	c := &cobra.Command{
		Use:   "run [flags] IMAGE|ROOTFS [COMMAND [ARG...]]",
		Short: "Run a command in a new container, from an image or a root filesystem directory",
		Long: "Run COMMAND as an isolated container in the foreground, with stdout and\n" +
			"stderr passed through, stdin with -i (else /dev/null), or on a pty with -t\n" +
			"(-it: this terminal in raw mode until the container exits). The first argument is a root filesystem directory\n" +
			"if it names an existing directory (or with --rootfs), else an image of the\n" +
			"store (--root), pulled first when missing (--pull): the container then runs\n" +
			"on an overlay of the image, with the image's Entrypoint, Cmd, Env,\n" +
			"WorkingDir and User as Docker applies them. The exit status is COMMAND's\n" +
			"(128+N when killed by signal N); 125 when minimal-docker itself fails, 126\n" +
			"when COMMAND can't be executed, 127 when it is not found. With -d, the\n" +
			"container runs in the background and run prints its ID (see stop, rm).",
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := f.given(c); err != nil {
				return err
			}
			return runContainer(c, g, f, st, args)
		},
	}
	c.Flags().SetInterspersed(false)
	f.register(c.Flags())
	c.Flags().BoolVarP(&f.detached.detach, "detach", "d", false, "run the container in the background and print its ID (its monitor keeps its output in a log and records its exit)")
	c.Flags().BoolVar(&f.explain, "explain", false, "print to stderr, as it happens, what the run does: the runtime's steps and each operation of the container's init (namespaces, mounts, devices, cgroup, capabilities, seccomp, the exec), each with its time, then the exit and the cleanup")
	return c
}

// given reads which flags were given (run's and create's), and the
// network when --network is not.
func (f *runFlags) given(c *cobra.Command) error {
	f.workdirSet = c.Flags().Changed("workdir")
	f.hostnameSet = c.Flags().Changed("hostname")
	if !c.Flags().Changed("entrypoint") {
		f.entrypoint = nil
	}
	f.withoutCgroup = rootless.Active() && !cgroups.DelegatedHere()
	if f.withoutCgroup {
		// No cgroup to limit in: the default limits go; those given stay,
		// to be refused (spec) unless they say "unlimited".
		for _, l := range []struct {
			flag      string
			value     *string
			unlimited string
		}{{"memory", &f.memory, "0"}, {"pids-limit", &f.pidsLimit, "-1"}, {"cpus", &f.cpus, "0"}} {
			if !c.Flags().Changed(l.flag) {
				*l.value = l.unlimited
			}
		}
	}
	if !c.Flags().Changed("network") {
		n, err := defaultNetwork()
		if err != nil {
			return err
		}
		f.networks = []string{n}
	}
	if err := f.networkFields(); err != nil {
		return err
	}
	if f.network == "default" { // Docker's other name for it
		f.network = network.DefaultName
	}
	return nil
}

// register declares run's flags, with Docker's names and defaults.
func (f *runFlags) register(fl *pflag.FlagSet) {
	fl.BoolVarP(&f.interactive, "interactive", "i", false, "keep stdin attached (without it the container's stdin is /dev/null)")
	fl.BoolVarP(&f.tty, "tty", "t", false, "allocate a pseudo-TTY for the process, relayed to this terminal (raw mode with -i; the window size followed)")
	fl.StringVar(&f.hostname, "hostname", spec.DefaultHostname, "container host name")
	fl.StringVar(&f.domainname, "domainname", "", "container NIS domain name (its UTS namespace's; the hosts file's own line names HOSTNAME.DOMAINNAME and HOSTNAME)")
	fl.StringArrayVarP(&f.env, "env", "e", nil, "set an environment variable KEY=VALUE (repeatable)")
	fl.StringVarP(&f.workdir, "workdir", "w", "/", "working directory inside the container (created if missing)")
	fl.StringVarP(&f.memory, "memory", "m", "256m", "memory limit with unit b, k, m or g (memory+swap is set to the same); 0 or -1 for unlimited")
	fl.StringVar(&f.pidsLimit, "pids-limit", "64", "maximum number of processes and threads; -1 for unlimited")
	fl.StringVar(&f.cpus, "cpus", "0.5", "number of CPUs (CFS quota over a 100ms period); 0 for unlimited")
	fl.StringVar(&f.cpusetCpus, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	fl.StringVar(&f.cpusetMems, "cpuset-mems", "", "memory nodes in which to allow execution (0-3, 0,1)")
	fl.StringVar(&f.cgroupParent, "cgroup-parent", "", "parent cgroup of the container's cgroup: relative paths are beneath minimal-docker's own cgroup (rootless: beneath the top of the user's delegated cgroup v2), absolute ones from the root of each hierarchy (default: minimal-docker's own cgroup; rootless: the top of the delegated cgroup)")
	fl.StringArrayVar(&f.networks, "network", []string{network.DefaultName}, `network (repeatable with networks of network create: the container joins each, eth0, eth1...; Docker's long form name=NET,alias=A,ip=IP,mac-address=MAC too): "bridge" (the default bridge, minimal-docker0, through CNI; $`+EnvDefaultNetwork+` names another default), "none" (a new network namespace with only loopback, up), "host" (the host's network), "container:NAME|ID" (a running container's network namespace) or NAME, a network of network create (a bridge, through CNI)`)
	fl.StringVar(&f.mac, "mac-address", "", "the container's MAC address on its network (a bridge network: the default or one of network create), e.g. 92:d0:c6:0a:29:33")
	fl.StringVar(&f.ip, "ip", "", "the container's IPv4 address on its network (--network NAME, a network of network create; in its subnet, not one another container holds)")
	fl.StringArrayVarP(&f.publish, "publish", "p", nil, "publish a container's port on the host, [[IP:][HOST_PORT]:]CONTAINER_PORT[/tcp|udp], either port a range FIRST-LAST (HOST_PORT a range for one CONTAINER_PORT: a free port of it); no HOST_PORT: a free one of the ephemeral range (repeatable; on a bridge network)")
	fl.BoolVarP(&f.publishAll, "publish-all", "P", false, "publish every exposed port (the image's EXPOSE, --expose) on a free host port of the ephemeral range")
	fl.StringArrayVar(&f.expose, "expose", nil, "expose a port PORT[/tcp|udp] or a range FIRST-LAST[/tcp|udp] (published by -P) (repeatable)")
	fl.StringArrayVar(&f.sysctls, "sysctl", nil, "set a namespaced kernel parameter KEY=VALUE (net.* with the container's own network namespace; kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*) (repeatable)")
	fl.BoolVar(&f.init, "init", false, "run a tiny init as PID 1 that forwards signals to COMMAND and reaps zombies")
	fl.StringVar(&f.cidfile, "cidfile", "", "write the container ID to this file (which must not exist)")
	fl.StringArrayVar(&f.capAdd, "cap-add", nil, "add a Linux capability (e.g. NET_ADMIN; ALL for every one) to Docker's default 14 (repeatable)")
	fl.StringArrayVar(&f.capDrop, "cap-drop", nil, "drop a Linux capability (e.g. CHOWN; ALL for every one) (repeatable)")
	fl.BoolVar(&f.privileged, "privileged", false, "give the container every capability minimal-docker holds, no seccomp filter, no masked or read-only paths, and every device in the device cgroup: it is then NOT isolated from the host's kernel")
	fl.StringArrayVar(&f.securityOpt, "security-opt", nil, `security option: "no-new-privileges[=true|false]" (default true); "seccomp=unconfined" (no filter) or "seccomp=PROFILE.json" (Docker's format; default: Docker's default profile) (repeatable)`)
	fl.BoolVar(&f.readOnly, "read-only", false, "mount the container's root filesystem read-only")
	fl.StringVarP(&f.user, "user", "u", "", "run as USER[:GROUP]: numbers, or names from the rootfs's /etc/passwd and /etc/group (supplementary groups too)")
	fl.StringArrayVar(&f.tmpfs, "tmpfs", nil, "mount a tmpfs at PATH[:OPTIONS] (default options noexec,nosuid,nodev) (repeatable)")
	fl.StringArrayVarP(&f.volumes, "volume", "v", nil, "bind mount a volume: HOST-PATH:CTR-PATH[:ro|rw] (the host directory made when missing), NAME:CTR-PATH[:ro|rw] (a named volume, made on first use), or CTR-PATH (an anonymous volume, removed with the container) (repeatable)")
	fl.StringArrayVar(&f.mounts, "mount", nil, "attach a mount: type=bind|volume|tmpfs,source=...,target=...[,readonly][,tmpfs-size=...][,tmpfs-mode=...] (src, dst, destination aliases; a bind source must exist) (repeatable)")
	fl.BoolVar(&f.rootfsFlag, "rootfs", false, "the first argument is a root filesystem directory, not an image (Podman's flag; an existing directory is taken as one without it)")
	fl.StringVar(&f.pull, "pull", "missing", `pull the image before running: "missing" (when the store has none), "always", "never"`)
	f.entrypoint = fl.String("entrypoint", "", `overwrite the image's ENTRYPOINT (its CMD is then not used); "" clears it`)
	f.detached.register(fl)
	f.names.register(fl)
	fl.StringVar(&f.userns, "userns", usernsHost, `user namespace: "host" (the host's: root in the container is the host's root; rootless, the user's namespace: root inside is the user's first subordinate id, nobody on the host), "keep-id" (rootless: the user's uid and gid are the same inside, and the process runs as them), or "auto" (as root: a user namespace of the container's own mapping its ids 0-65535 to a range of host ids no other container has, so that its root is nobody on the host and in other containers; its root filesystem is seen through an idmapped mount, owned by its root)`)
	fl.BoolVar(&f.hostRootfs, "allow-host-rootfs", false, "allow ROOTFS to be the host's own root directory (/, or a link or bind mount of it), which the container can then change: refused without this flag")
}

// securityOptions turns --privileged, --cap-add/--cap-drop and
// --security-opt into spec options, in Docker's order: --privileged, then
// --cap-drop ALL, then the additions, then the other drops.
func (f *runFlags) securityOptions(img *imageRun) ([]spec.Option, error) {
	var opts []spec.Option
	if f.privileged {
		opts = append(opts, spec.WithPrivileged())
	}
	var drops []string
	for _, d := range f.capDrop {
		if strings.EqualFold(d, "ALL") {
			opts = append(opts, spec.WithCapDrop("ALL"))
			continue
		}
		drops = append(drops, d)
	}
	if len(f.capAdd) > 0 {
		opts = append(opts, spec.WithCapAdd(f.capAdd...))
	}
	if len(drops) > 0 {
		opts = append(opts, spec.WithCapDrop(drops...))
	}
	seccompArg := ""
	for _, o := range f.securityOpt {
		key, val, hasVal := strings.Cut(o, "=")
		if !hasVal {
			key, val, hasVal = strings.Cut(o, ":") // Docker's old syntax
		}
		switch key {
		case "seccomp":
			if !hasVal || val == "" {
				return nil, fmt.Errorf("invalid --security-opt %q: want seccomp=unconfined or seccomp=PROFILE.json", o)
			}
			seccompArg = val
		case "no-new-privileges":
			on := true
			if hasVal {
				b, err := strconv.ParseBool(val)
				if err != nil {
					return nil, fmt.Errorf("invalid --security-opt %q: want no-new-privileges=true or =false", o)
				}
				on = b
			}
			opts = append(opts, spec.WithNoNewPrivileges(on))
		default:
			return nil, fmt.Errorf("invalid --security-opt %q: supported: no-new-privileges[=true|false], seccomp=unconfined|PROFILE.json", o)
		}
	}
	// The profile depends on the final capabilities: after the cap options.
	// --privileged runs without a filter, as Docker's does.
	if !f.privileged {
		opts = append(opts, spec.WithSeccomp(seccompArg))
	}
	if f.readOnly {
		opts = append(opts, spec.WithReadonlyRoot())
	}
	if user, layers := f.user, []string(nil); user != "" || img != nil {
		if img != nil {
			layers = img.layers
			if user == "" {
				user = img.config.User
			}
		}
		if user != "" {
			opts = append(opts, spec.WithUserInLayers(user, layers))
		}
	}
	for _, t := range f.tmpfs {
		opts = append(opts, spec.WithTmpfs(t))
	}
	return opts, nil
}

// options turns the flags into spec options, rejecting bad values with the
// flag's name and the accepted form.
func (f *runFlags) options(id string, img *imageRun) ([]spec.Option, error) {
	mem, err := spec.ParseMemory(f.memory)
	if err != nil {
		return nil, err
	}
	pids, err := spec.ParsePids(f.pidsLimit)
	if err != nil {
		return nil, err
	}
	cpus, err := spec.ParseCPUs(f.cpus)
	if err != nil {
		return nil, err
	}
	for _, l := range []struct{ flag, value string }{{"cpuset-cpus", f.cpusetCpus}, {"cpuset-mems", f.cpusetMems}} {
		if l.value == "" {
			continue
		}
		if err := cgroups.ValidateList(l.value); err != nil {
			return nil, fmt.Errorf("invalid --%s %q: %w", l.flag, l.value, err)
		}
	}
	hostname := f.hostname
	if f.network == "host" && hostname == spec.DefaultHostname {
		if h, err := os.Hostname(); err == nil { // Docker's: the host's
			hostname = h
		}
	}
	opts := []spec.Option{
		spec.WithHostname(hostname),
		spec.WithDomainname(f.domainname),
		spec.WithMemory(mem),
		spec.WithPids(pids),
		spec.WithCPUs(cpus),
		spec.WithCpuset(f.cpusetCpus, f.cpusetMems),
	}
	workdir := f.workdir
	if img != nil && !f.workdirSet && img.config.WorkingDir != "" {
		workdir = img.config.WorkingDir
	}
	opts = append(opts, spec.WithWorkdir(workdir))
	if f.tty {
		// As Docker: TERM=xterm, under the image's Env and -e.
		opts = append(opts, spec.WithTerminal(), spec.WithEnv("TERM=xterm"))
	}
	if img != nil {
		opts = append(opts, imageEnv(img.config.Env))
	}
	opts = append(opts, spec.WithEnv(f.env...))
	if err := checkNetworkMode(f.network); err != nil {
		return nil, err
	}
	if f.network == "host" {
		opts = append(opts, spec.WithHostNetwork())
	}
	if len(f.sysctls) > 0 {
		if err := sysctlsFit(f.sysctls, f.network); err != nil {
			return nil, err
		}
		opts = append(opts, spec.WithSysctl(f.sysctls...))
	}
	if f.init {
		opts = append(opts, spec.WithInit())
	}
	if f.hostRootfs {
		opts = append(opts, spec.WithHostRootfs())
	}
	sec, err := f.securityOptions(img)
	if err != nil {
		return nil, err
	}
	opts = append(opts, sec...)
	if f.cgroupParent != "" {
		if strings.Contains(f.cgroupParent, "..") {
			return nil, fmt.Errorf("invalid --cgroup-parent %q: must not contain ..", f.cgroupParent)
		}
		opts = append(opts, spec.WithCgroupsPath(path.Join(f.cgroupParent, id)))
	}
	return opts, nil
}

func runContainer(c *cobra.Command, g *globals, f *runFlags, st Streams, args []string) error {
	if f.detached.detach {
		if f.explain {
			return errors.New("--explain: only for a run in the foreground (not with -d)")
		}
		return runDetached(c, g, f, st, args)
	}
	if err := f.detached.checkForeground(c); err != nil {
		return err
	}
	if err := validLogLevel(g.logLevel); err != nil {
		return err
	}
	if !slices.Contains(pullPolicies, f.pull) {
		return fmt.Errorf("invalid --pull %q: want missing, always or never", f.pull)
	}
	if f.interactive && f.tty && !term.IsTerminal(int(st.In.Fd())) {
		return errors.New("the input device is not a TTY") // Docker's words
	}
	// Without -i the container's stdin is /dev/null, as Docker's and
	// Podman's: it reads EOF at once.
	stdin := st.In
	if !f.interactive {
		null, err := os.Open(os.DevNull)
		if err != nil {
			return fmt.Errorf("stdin: %w", err)
		}
		defer null.Close()
		stdin = null
	}
	mounts, err := parseMounts(f.volumes, f.mounts)
	if err != nil {
		return err
	}
	if err := checkUserns(f.userns); err != nil {
		return err
	}
	id, err := container.NewID()
	if err != nil {
		return err
	}
	rootfs, argv := args[0], args[1:]
	log := container.Logger{W: st.Err, Level: g.logLevel}
	var img *imageRun
	if !f.isRootfs(args[0]) {
		t0 := time.Now()
		if img, err = f.prepareImage(c, g, st, args[0], id); err != nil {
			return err
		}
		log.Step("image", t0)
		defer img.dir.remove() // when the container never ran (AfterExit, below)
		rootfs = img.root
		if argv, err = img.command(f.entrypoint, argv); err != nil {
			return err
		}
	}
	// The container's own directory: its image's writable one, or one
	// for its /etc files alone.
	dir := img.runDir()
	if dir == nil {
		if dir, err = newRunDir(g.imageRoot, id, false); err != nil {
			return err
		}
		defer dir.remove()
	}
	defer g.freeUserns(id, log) // a foreground run's range goes with it
	s, _, leases, etc, err := f.spec(g, id, rootfs, argv, img, mounts, false, dir.dir)
	if err != nil {
		return err
	}
	f.noLimitsNotice(st)
	defer leases.release()
	if err := etc.write(); err != nil {
		return err
	}
	if err := chownUpper(s, img); err != nil {
		return err
	}
	store, err := g.store()
	if err != nil {
		return err
	}
	if f.cidfile != "" {
		if err := writeCidfile(f.cidfile, id); err != nil {
			return err
		}
	}
	o := container.Options{
		ID: id, LogLevel: g.logLevel, Log: st.Err,
		Stdin: stdin, Stdout: st.Out, Stderr: st.Err,
		Network: f.net.run,
	}
	if f.explain {
		o.Explain = explain.New(st.Err)
	}
	if img != nil {
		o.RootOverlay = img.overlay
		o.AfterExit = func() {
			t0 := time.Now()
			img.dir.remove()
			log.Step("image-remove", t0)
			o.Explain.Parent(time.Since(t0), "removed the container's writable layer (its overlay's upper and work directories)")
		}
	}
	err = cli.Exited(container.Run(store, s, o))
	if f.cidfile != "" && neverRan(err) {
		os.Remove(f.cidfile)
	}
	return err
}

// spec builds the container's spec from the flags, the image (nil for
// a root filesystem) and the volumes, for run and run -d: the volumes'
// mounts come back apart too, with their leases, which the caller
// releases once the container is gone (or never ran); a detached
// container's volumes are attached to it (id). Its /etc files come back
// to be written in dir, its own directory, which the mounts name: a
// detached container's is its record's (containers/ID), a foreground
// run's a runDir.
func (f *runFlags) spec(g *globals, id, rootfs string, argv []string, img *imageRun, mounts []volumeMount, detached bool, dir string) (*specs.Spec, []specs.Mount, *volumeLeases, *etcFiles, error) {
	var keepID spec.Option
	if f.userns == usernsKeepID {
		o, uid, gid, err := keepIDOption()
		if err != nil {
			return nil, nil, nil, nil, err
		}
		keepID = o
		if f.user == "" { // Podman's: the user's ids
			f.user = fmt.Sprintf("%d:%d", uid, gid)
		}
	}
	opts, err := f.options(id, img)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if keepID != nil {
		opts = append(opts, keepID)
	}
	if o, err := g.usernsOption(f.userns, id); err != nil {
		return nil, nil, nil, nil, err
	} else if o != nil {
		opts = append(opts, o)
	}
	s, err := spec.Default(rootfs, argv, opts...)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if f.withoutCgroup {
		if l := cgroups.Limits(s.Linux.Resources); len(l) > 0 {
			return nil, nil, nil, nil, fmt.Errorf("rootless: limits asked for (%s) can't be applied: no cgroup v2 delegated to you to make the container's cgroup in (a user's systemd unit with Delegate=yes gives one); run without --memory, --pids-limit, --cpus, --cpuset-*, or as root", strings.Join(l, ", "))
		}
	}
	if err := f.planNetwork(g, s, img); err != nil {
		return nil, nil, nil, nil, err
	}
	etc, err := f.etcFiles(g, dir, s.Hostname, s.Domainname)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if userMode(f.network) {
		netDir, err := userModeDir()
		if err != nil {
			return nil, nil, nil, nil, err
		}
		if detached {
			if err := withUserMode(g, s, f.network, netDir, f.net.ports); err != nil {
				return nil, nil, nil, nil, err
			}
		} else {
			f.net.run = &network.UserMode{Tool: f.network, Ports: f.net.ports, Dir: netDir, Name: userModeName(id)}
		}
	}
	if bridged(f.network) {
		if err := checkExtraNetworks(g, f.extraNets); err != nil {
			return nil, nil, nil, nil, err
		}
		if f.net.run, err = withNetwork(g, s, id, f.network, network.IfName, f.net.ports, withAddresses(etc.member, f.net.ip, f.net.mac), detached); err != nil {
			return nil, nil, nil, nil, err
		}
		// A foreground run's other networks (create and run -d connect
		// the created container to them: createDetached).
		if !detached && len(f.extraNets) > 0 {
			if f.net.run, err = withMoreNetworks(g, s, id, f.net.run, f.extraNets, etc.memberFor); err != nil {
				return nil, nil, nil, nil, err
			}
		}
	}
	owner := ""
	if detached {
		owner = id
	}
	if img != nil {
		mounts = withImageVolumes(mounts, img.config.Volumes, f.tmpfs)
	}
	volMounts, leases, err := specMounts(g.volumes(), mounts, owner)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if err := copyUp(img, mounts, volMounts); err != nil {
		leases.release()
		return nil, nil, nil, nil, err
	}
	idmapVolumes(s, mounts, volMounts)
	s.Mounts = append(s.Mounts, volMounts...)
	s.Mounts = append(s.Mounts, idmapEtc(s, etc.mounts(s.Mounts, f.readOnly))...)
	return s, volMounts, leases, etc, nil
}

// noLimitsNotice says, for a container without a cgroup (withoutCgroup),
// that it runs without resource limits.
func (f *runFlags) noLimitsNotice(st Streams) {
	if f.withoutCgroup {
		fmt.Fprintln(st.Err, "minimal-docker: rootless: no delegated cgroup v2: the container runs without resource limits")
	}
}

// imageEnv puts the image's Env in the process's environment, under the
// -e values that follow it; an image entry without "=" is passed over.
func imageEnv(env []string) spec.Option {
	var kept []string
	for _, kv := range env {
		if k, _, ok := strings.Cut(kv, "="); ok && k != "" {
			kept = append(kept, kv)
		}
	}
	return spec.WithEnv(kept...)
}

// neverRan reports whether the error of a run says that the container's
// command never ran: the runtime failed (125), or the command could not be
// executed (126) or found (127). The command's own exit statuses come
// without a message.
func neverRan(err error) bool {
	switch code, print := cli.ExitCode(err); {
	case !print:
		return false
	case code == exitcode.Runtime, code == exitcode.NotExecutable, code == exitcode.NotFound:
		return true
	}
	return false
}

// writeCidfile writes the ID to a file that must not exist yet (Docker's
// --cidfile).
func writeCidfile(p, id string) error {
	fh, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("--cidfile: %w", err)
	}
	_, err = fh.WriteString(id)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(p)
		return fmt.Errorf("--cidfile: write %s: %w", p, err)
	}
	return nil
}

// sysctlsFit refuses, as Docker does, a --sysctl net.* where the
// network namespace is not the container's own: the host's (--network
// host: writing it would change the host) or another container's
// (container:NAME).
func sysctlsFit(sysctls []string, mode string) error {
	for _, kv := range sysctls {
		if !strings.HasPrefix(strings.TrimSpace(kv), "net.") {
			continue
		}
		switch {
		case mode == "host":
			return fmt.Errorf("invalid --sysctl %q: not allowed in the host's network namespace (--network host)", kv)
		case strings.HasPrefix(mode, containerMode):
			return fmt.Errorf("invalid --sysctl %q: not allowed in another container's network namespace (--network %s)", kv, mode)
		}
	}
	return nil
}
