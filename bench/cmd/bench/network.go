package main

// The network bench (issue 16, "Speed"): `run … true` on a bridge beside
// `--network none`, with minimal-docker (a network of network create,
// and the default bridge when this build has one), podman (its default
// network: CNI's bridge, portmap, firewall and tuning plugins here) and
// docker (a dockerd of the bench's own, its default bridge); the bridge's
// added time is the median of the per-round differences. Then TCP
// throughput through minimal-docker's bridge, container to container and
// host to a published port, against the loopback of the same namespace
// (tests/probe's tcp-send and tcp-sink).
//
// All of it runs in a child of the bench in a network namespace of its
// own (unshare -n, loopback up): the bridges, veths and iptables rules
// of the three engines are never the host's, and no packet leaves the
// machine.

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	netRounds  = flag.Int("network", 10, "measured rounds of the network bench, after one warm-up round (0 skips it)")
	netOnly    = flag.Bool("network-only", false, "run only the network bench")
	probeBin   = flag.String("probe", "", "the probe (tests/probe, built with CGO_ENABLED=0) for the throughput rows (\"\": skipped)")
	netSeconds = flag.Float64("network-seconds", 3, "seconds of each throughput run (three runs each, median)")
)

// netnsEnv, set to a file name, makes this command the network bench's
// child: it runs in its own network namespace and writes its section
// there.
const netnsEnv = "MD_BENCH_NETNS"

// netThroughputGoal is issue 16's goal for the throughput ratios.
const netThroughputGoal = 0.8

// The throughput is measured on a network of the default MTU (1500,
// Docker's) and on one of network create -o mtuOption=jumboMTU, about
// loopback's (65536; a veth takes at most 65535).
const (
	mtuOption = "com.docker.network.driver.mtu"
	jumboMTU  = "65520"
)

// networkBench runs the network bench in a child in a network namespace
// of its own and returns its section of the report.
func (e *env) networkBench() string {
	self, err := os.Executable()
	if err != nil {
		return "### Networks\n\nNot run: " + err.Error() + "\n"
	}
	section := filepath.Join(e.tmp, "network.md")
	cmd := exec.Command("unshare", append([]string{"-n", "--", self}, os.Args[1:]...)...)
	cmd.Env = append(os.Environ(), netnsEnv+"="+section)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Sprintf("### Networks\n\nNot run: unshare -n: %v\n", err)
	}
	b, err := os.ReadFile(section)
	if err != nil {
		return "### Networks\n\nNot run: " + err.Error() + "\n"
	}
	return string(b)
}

// netEngine is one engine's runs of `true` on its networks.
type netEngine struct {
	*engine
	nets     []string // --network values, none first; a value with rmSuffix runs with --rm
	labels   []string // their names in the report
	samples  map[string][]time.Duration
	noRecord bool // a foreground run keeps no record: no --name, no rm (ours)
}

// rmSuffix on a netEngine's network runs it with --rm (and no rm after):
// the run then returns once the engine has removed the container, its
// network's release included. Ours keeps no record of a foreground run
// and releases its network before it returns: what docker run --rm
// does, where docker 20.10's run without --rm gets the exit status
// before the daemon releases the network (daemon/monitor.go: SetStopped,
// then Cleanup). Its added time is against none with --rm.
const rmSuffix = " --rm"

// runTrue runs `true` in a container on network and removes it (not
// timed); the run's wall time. The command is the engine's run -d of the
// detached bench (its cgroup parent, for podman) in the foreground, with
// network and true for its sleep.
func (g *netEngine) runTrue(name, network string) (time.Duration, error) {
	var args []string
	for _, a := range g.runArgs(name) {
		if a != "-d" {
			args = append(args, a)
		}
	}
	if g.noRecord {
		args = slices.DeleteFunc(args, func(a string) bool { return a == "--name" || a == name })
	}
	i := slices.Index(args, "--network")
	if i < 0 || len(args) < 3 || args[len(args)-2] != "sleep" {
		return 0, fmt.Errorf("unexpected run command %q", args)
	}
	network, rm := strings.CutSuffix(network, rmSuffix)
	args[i+1] = network
	args = append(args[:len(args)-2], "true")
	if rm {
		args = slices.Insert(args, 1, "--rm")
	}
	t0 := time.Now()
	out, err := g.cli(args...)
	d := time.Since(t0)
	if err != nil {
		return 0, fmt.Errorf("run --network %s: %w: %s", network, err, out)
	}
	if g.noRecord || rm {
		return d, nil
	}
	if out, err := g.cli("rm", "-f", name); err != nil {
		return 0, fmt.Errorf("rm %s: %w: %s", name, err, out)
	}
	return d, nil
}

// networkBenchHere is the network bench, in the child's namespace.
func (e *env) networkBenchHere() string {
	var b strings.Builder
	b.WriteString("### Networks: `run IMAGE true` on a bridge beside `--network none`, and throughput\n\n")
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		fmt.Fprintf(&b, "Not run: ip link set lo up: %v: %s\n", err, out)
		return b.String()
	}
	dir := filepath.Join(e.tmp, "net")
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

	var engines []*netEngine
	defer func() {
		for _, g := range engines {
			if g.stop != nil {
				g.stop()
			}
		}
	}()
	start := func(g *netEngine) {
		engines = append(engines, g)
		g.samples = map[string][]time.Duration{}
		if g.missing != "" {
			return
		}
		if out, err := g.cli("import", tar, detachImage); err != nil {
			g.missing = fmt.Sprintf("import of the image failed: %v: %s", err, strings.TrimSpace(string(out)))
		}
	}
	ours := &netEngine{engine: e.ourEngine(filepath.Join(dir, "md")), noRecord: true}
	ours.nets, ours.labels = []string{"none", "benchnet"}, []string{"none", "a network of `network create`"}
	start(ours)
	if out, err := ours.cli("network", "create", "--subnet", "10.201.0.0/24", "benchnet"); err != nil && ours.missing == "" {
		ours.missing = fmt.Sprintf("network create: %v: %s", err, out)
	}
	// The throughput first, before dockerd sets the FORWARD chain's
	// policy to DROP in this namespace (which, with br_netfilter, drops
	// what crosses our bridge from one container to another).
	var tput strings.Builder
	if ours.missing == "" {
		e.throughput(&tput, ours)
	}
	podman := &netEngine{engine: e.podmanEngine(filepath.Join(dir, "podman"))}
	podman.nets, podman.labels = []string{"none", "bridge"}, []string{"none", "bridge (its default network, CNI)"}
	start(podman)
	docker := &netEngine{engine: e.dockerEngine(filepath.Join(dir, "docker"), true)}
	docker.nets = []string{"none", "bridge", "none" + rmSuffix, "bridge" + rmSuffix}
	docker.labels = []string{"none", "bridge (its default)", "none, `--rm`", "bridge, `--rm` (the network released before it returns, as ours)"}
	start(docker)
	// The default bridge, when this build has one.
	if ours.missing == "" {
		if _, err := ours.runTrue(e.prefix+"-probe-bridge", "bridge"); err == nil {
			ours.nets = append(ours.nets, "bridge")
			ours.labels = append(ours.labels, "bridge (the default network)")
		} else {
			fmt.Fprintf(&b, "minimal-docker `--network bridge`: not measured (%s).\n\n", strings.Join(strings.Fields(err.Error()), " "))
		}
	}

	fmt.Printf("network: 1 warm-up + %d rounds of %s\n", *netRounds, engineNames([]*engine{ours.engine, podman.engine, docker.engine}))
	for round := 0; round <= *netRounds; round++ {
		for _, g := range engines {
			if g.missing != "" || g.failed != nil {
				continue
			}
			for i, network := range g.nets {
				d, err := g.runTrue(fmt.Sprintf("%s-n%d-%d", e.prefix, round, i), network)
				if err != nil {
					fmt.Fprintf(os.Stderr, "bench: network %s: %v\n", g.name, err)
					g.failed = err
					break
				}
				if round > 0 {
					g.samples[network] = append(g.samples[network], d)
				}
			}
		}
	}
	e.netReport(&b, engines)
	b.WriteString(tput.String())
	return b.String()
}

func (e *env) netReport(b *strings.Builder, engines []*netEngine) {
	fmt.Fprintf(b, "%d interleaved rounds after one warm-up; each engine runs `run --name N --network NET IMAGE true` (its own store, "+
		"the bench's busybox rootfs imported as an image; the detached bench's settings), then `rm -f N` (not timed); "+
		"minimal-docker keeps no record of a foreground run (no --name, no rm); the `--rm` rows run `run --rm` (no rm after), which returns once the engine "+
		"has removed the container, its network's release included, as ours does. The bridge's added time is the median of the "+
		"per-round differences (bridge minus none, each with none of the same flags). All in a network namespace of the bench's own (loopback and the engines' bridges).\n\n", *netRounds)
	for _, g := range engines {
		if g.missing == "" {
			fmt.Fprintf(b, "- %s: %s\n", g.name, g.version)
		}
	}
	b.WriteString("\n| engine | --network | median | min | max | added to none (median) |\n| --- | --- | ---: | ---: | ---: | ---: |\n")
	for _, g := range engines {
		switch {
		case g.missing != "":
			fmt.Fprintf(b, "| %s | | skipped: %s | | | |\n", g.name, g.missing)
			continue
		case g.failed != nil:
			fmt.Fprintf(b, "| %s | | failed: %s | | | |\n", g.name, strings.Join(strings.Fields(g.failed.Error()), " "))
			continue
		}
		for i, network := range g.nets {
			s := g.samples[network]
			if len(s) == 0 {
				continue
			}
			added := "—"
			base := "none"
			if strings.HasSuffix(network, rmSuffix) {
				base += rmSuffix
			}
			none := g.samples[base]
			if network != base && len(s) == len(none) {
				diff := make([]time.Duration, len(s))
				for j := range s {
					diff[j] = s[j] - none[j]
				}
				added = fmt.Sprintf("%+.1f ms", float64(median(diff).Microseconds())/1000)
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", g.name, g.labels[i], ms(median(s)), ms(slices.Min(s)), ms(slices.Max(s)), added)
		}
	}
	b.WriteString("\n")
}

// throughput measures TCP throughput through our bridge against the
// namespace's loopback: the probe's tcp-send to a tcp-sink, on
// 127.0.0.1 in the namespace; from a container to a container on one
// network; from the namespace to a port a container publishes
// (127.0.0.1:HOST_PORT, portmap's DNAT). The containers run without a
// CPU or memory limit (--cpus 0 -m 0, Docker's default).
func (e *env) throughput(b *strings.Builder, ours *netEngine) {
	b.WriteString("#### TCP throughput through minimal-docker's bridge, against loopback\n\n")
	if *probeBin == "" {
		b.WriteString("Not measured: no -probe (make bench builds tests/probe).\n\n")
		return
	}
	probe, err := filepath.Abs(*probeBin)
	if err != nil {
		fmt.Fprintf(b, "Not measured: %v\n\n", err)
		return
	}
	const sinkPort, hostPort, jumboHostPort, loPort = "5201", "15201", "15202", "5301"
	secs := strconv.FormatFloat(*netSeconds, 'f', -1, 64)
	probeMount := []string{"-v", filepath.Dir(probe) + ":/probe:ro"}
	inProbe := "/probe/" + filepath.Base(probe)

	lo := exec.Command(probe, "tcp-sink", loPort)
	if err := lo.Start(); err != nil {
		fmt.Fprintf(b, "Not measured: the loopback sink: %v\n\n", err)
		return
	}
	defer func() { _ = lo.Process.Kill(); _ = lo.Wait() }()
	if err := waitListening("127.0.0.1:" + loPort); err != nil {
		fmt.Fprintf(b, "Not measured: %v\n\n", err)
		return
	}
	// Each network: a sink container publishing sinkPort on hostPort,
	// and a sender in a container of its own (run --rm) on the same
	// network.
	type netPath struct {
		network, label, hostPort string
		sinkAddr                 string // the sink container's address:port, once it runs
	}
	paths := []*netPath{
		{network: "benchnet", label: "", hostPort: hostPort},
		{network: "benchjumbo", label: ", MTU " + jumboMTU + " (`-o " + mtuOption + "=" + jumboMTU + "`)", hostPort: jumboHostPort},
	}
	if out, err := ours.cli("network", "create", "--subnet", "10.202.0.0/24", "-o", mtuOption+"="+jumboMTU, "benchjumbo"); err != nil {
		fmt.Fprintf(b, "Not measured: network create -o %s=%s: %v: %s\n\n", mtuOption, jumboMTU, err, out)
		return
	}
	defer func() { _, _ = ours.cli("network", "rm", "benchjumbo") }()
	for _, p := range paths {
		sink := e.prefix + "-sink-" + p.network
		args := append(append([]string{"run", "-d", "--name", sink, "--network", p.network, "-p", p.hostPort + ":" + sinkPort, "--cpus", "0", "-m", "0"},
			probeMount...), detachImage, inProbe, "tcp-sink", sinkPort)
		if out, err := ours.cli(args...); err != nil {
			fmt.Fprintf(b, "Not measured: the sink container on %s: %v: %s\n\n", p.network, err, out)
			return
		}
		defer func() { _, _ = ours.cli("rm", "-f", sink) }()
		out, err := ours.cli("inspect", sink)
		var recs []struct{ NetworkSettings struct{ IPAddress string } }
		if err == nil {
			err = json.Unmarshal(out, &recs)
		}
		if err != nil || len(recs) != 1 || recs[0].NetworkSettings.IPAddress == "" {
			fmt.Fprintf(b, "Not measured: the sink's address: %v: %s\n\n", err, out)
			return
		}
		p.sinkAddr = net.JoinHostPort(recs[0].NetworkSettings.IPAddress, sinkPort)
		if err := waitListening("127.0.0.1:" + p.hostPort); err != nil {
			fmt.Fprintf(b, "Not measured: %v\n\n", err)
			return
		}
	}

	fromHost := func(addr string) func() ([]byte, error) {
		return func() ([]byte, error) { return exec.Command(probe, "tcp-send", addr, secs).CombinedOutput() }
	}
	fromContainer := func(p *netPath) func() ([]byte, error) {
		return func() ([]byte, error) {
			args := append(append([]string{"run", "--rm", "--network", p.network, "--cpus", "0", "-m", "0"}, probeMount...),
				detachImage, inProbe, "tcp-send", p.sinkAddr, secs)
			return ours.cli(args...)
		}
	}
	type row struct {
		name string
		send func() ([]byte, error)
		rate []float64 // bytes/s
	}
	rows := []row{{name: "loopback (the namespace's 127.0.0.1, no container)", send: fromHost("127.0.0.1:" + loPort)}}
	for _, p := range paths {
		rows = append(rows,
			row{name: "container → container, one bridge" + p.label, send: fromContainer(p)},
			row{name: "host → published port (127.0.0.1:" + p.hostPort + " → " + sinkPort + ")" + p.label, send: fromHost("127.0.0.1:" + p.hostPort)})
	}
	fmt.Printf("network: throughput, 3 runs of %ss each of %d series\n", secs, len(rows))
	for run := 0; run < 3; run++ { // interleaved
		for i := range rows {
			out, err := rows[i].send()
			var n int64
			var s float64
			if err == nil {
				_, err = fmt.Sscanf(strings.TrimSpace(string(out)), "bytes %d seconds %g", &n, &s)
			}
			if err != nil || s <= 0 {
				fmt.Fprintf(b, "Not measured: %s: %v: %s\n\n", rows[i].name, err, out)
				return
			}
			rows[i].rate = append(rows[i].rate, float64(n)/s)
		}
	}
	fmt.Fprintf(b, "tests/probe's tcp-send writing 128 KiB buffers for %ss to a tcp-sink, which answers with the bytes it read once the "+
		"sender closes its side: the rate is those bytes over the time until that answer. Median of 3 runs each, interleaved; "+
		"containers with `--cpus 0 -m 0` (no limit, as Docker's default). A network of `network create` has Docker's default MTU, 1500; "+
		"the rows with MTU %s are on a network made with `-o %s=%s` (loopback's is 65536). Goal: ≥ %.1f× loopback.\n\n", secs, jumboMTU, mtuOption, jumboMTU, netThroughputGoal)
	b.WriteString("| path | median | / loopback | goal met |\n| --- | ---: | ---: | --- |\n")
	base := medianF(rows[0].rate)
	for i, r := range rows {
		m := medianF(r.rate)
		ratio, met := "—", ""
		if i > 0 {
			ratio, met = fmt.Sprintf("%.2f×", m/base), yesNo(m/base >= netThroughputGoal)
		}
		fmt.Fprintf(b, "| %s | %.1f Gbit/s | %s | %s |\n", r.name, m*8/1e9, ratio, met)
	}
	b.WriteString("\n")
}

// waitListening dials addr until it answers (at most pullTimeout).
func waitListening(addr string) error {
	deadline := time.Now().Add(pullTimeout)
	for {
		c, err := net.DialTimeout("tcp4", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing answers on %s: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
