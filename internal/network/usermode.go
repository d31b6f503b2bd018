package network

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/ondisk"
	"github.com/minimal-docker/minimal-docker/internal/proc"
)

// The user-mode networks of a rootless container (Podman's names for
// --network): a program of the user's, outside the container, gives the
// container's network namespace a tap device and carries its traffic
// through the user's own sockets on the host. pasta (Debian's passt)
// keeps the clients' source addresses on published ports;
// slirp4netns (1.2.0) shows them all as its gateway, 10.0.2.2.
const (
	Pasta       = "pasta"
	Slirp4netns = "slirp4netns"
)

// UserModeMTU is the MTU both are started with: slirp4netns' default of
// 1500 stalls bulk TCP (its small window), as Podman's users found; 65520
// is pasta's default and Podman's for slirp4netns.
const UserModeMTU = 65520

// DefaultUserMode is the user-mode network a rootless container gets by
// default: pasta when installed, else slirp4netns; an error names both
// packages when neither is.
func DefaultUserMode() (string, error) {
	for _, tool := range []string{Pasta, Slirp4netns} {
		if _, err := exec.LookPath(tool); err == nil {
			return tool, nil
		}
	}
	return "", errors.New("rootless: no user-mode network program: install Debian's passt (pasta) or slirp4netns, or run with --network none or host")
}

// UserMode is a container's user-mode network (Tool, with the published
// Ports): Attach starts the tool for the container's init, Detach stops
// it. It meets package container's Network.
//
// A foreground run's tool lives as long as the run (Detach at its end;
// slirp4netns also gets the run's death as SIGKILL). A detached
// container's (Keep) is started by its createRuntime hook, a process
// that exits at once, and outlives it: it runs in a session of its own,
// and Attach records it in Dir/Name.json (KeptUserMode: its pid, start
// time and published ports, and the container's init), which the
// container's poststop hook (or rm) reads to stop it (StopKept). Every
// start of the container (a restart by its monitor included) starts
// one; every end stops it; an end that ran no hook (its monitor killed)
// leaves one that the next start of a container sweeps (SweepKept).
type UserMode struct {
	Tool  string
	Ports []PortMapping
	// Dir is a directory for the tool's files (pid file, API socket),
	// named after Name (a unix socket's path must be short: 107 bytes).
	Dir, Name string
	Keep      bool          // outlive this process (a detached container's hook)
	pid       int           // the tool's, once attached
	exited    chan struct{} // slirp4netns': closed once reaped
	init      int           // the container's init, given to Attach
}

// KeptUserMode is the record of a detached container's user-mode
// network (UserMode.Keep): Dir/Name.json while its tool runs.
type KeptUserMode struct {
	Tool         string        `json:"tool"`
	Pid          int           `json:"pid"`
	PidStartTime uint64        `json:"pid_start_time"`
	Ports        []PortMapping `json:"ports"` // as published: host ports chosen included
	// The container's init (pid and start time): once it is gone, so is
	// the need for the tool (SweepKept).
	InitPid       int    `json:"init_pid"`
	InitStartTime uint64 `json:"init_start_time"`
}

// keptPath is the record of the kept tool of name in dir.
func keptPath(dir, name string) string { return filepath.Join(dir, name+".json") }

// ReadKept returns the record of the kept tool of name in dir, or nil
// when there is none (its container is not running).
func ReadKept(dir, name string) (*KeptUserMode, error) {
	p := keptPath(dir, name)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var k KeptUserMode
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("user-mode network record %s: %w", p, err)
	}
	return &k, nil
}

// record writes the kept tool's record (Keep), as soon as its pid is
// known: a hook that fails or is killed after this leaves a tool that
// StopKept finds.
func (u *UserMode) record() error {
	if !u.Keep {
		return nil
	}
	start, err := proc.StartTime(u.pid)
	if err != nil {
		return fmt.Errorf("%s (pid %d): %w", u.Tool, u.pid, err)
	}
	initStart, err := proc.StartTime(u.init)
	if err != nil {
		return fmt.Errorf("%s: the container's init (pid %d): %w", u.Tool, u.init, err)
	}
	b, err := json.Marshal(KeptUserMode{Tool: u.Tool, Pid: u.pid, PidStartTime: start, Ports: u.Ports,
		InitPid: u.init, InitStartTime: initStart})
	if err != nil {
		return err
	}
	return ondisk.WriteFile(keptPath(u.Dir, u.Name), b, 0o600, ondisk.Volatile)
}

// StopKept stops the kept tool of name in dir (a detached container's,
// UserMode.Keep) if it still runs, and removes its files: SIGTERM, then
// SIGKILL if it has not ended within 5 s. It is not this process's
// child: it has ended once it is gone or a zombie (its reaper's, the
// container's monitor, a child subreaper). Nothing recorded: nothing to
// do.
func StopKept(dir, name string) error {
	k, err := ReadKept(dir, name)
	if err != nil || k == nil {
		return err
	}
	if err := stopProcess(k.Tool, k.Pid, k.PidStartTime); err != nil {
		return err
	}
	u := UserMode{Tool: k.Tool, Dir: dir, Name: name}
	u.removeFiles()
	if err := os.Remove(keptPath(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("stop %s: %w", k.Tool, err)
	}
	return nil
}

// SweepKept stops the kept tools in dir whose container's init is gone
// and whose container's end stopped nothing: a container whose monitor
// was killed (no poststop hook ran) and that ended on its own. The
// next start of a container on a user-mode network sweeps them.
func SweepKept(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sweep user-mode networks: %w", err)
	}
	var errs []error
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(name, ".") {
			continue
		}
		k, err := ReadKept(dir, name)
		if err != nil || k == nil {
			errs = append(errs, err)
			continue
		}
		if alive, err := proc.Alive(k.InitPid, k.InitStartTime); err != nil || alive {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, StopKept(dir, name))
	}
	return errors.Join(errs...)
}

// stopProcess ends the process pid that started at start (a recorded
// one: pids are reused) and waits until it has.
func stopProcess(tool string, pid int, start uint64) error {
	sig := unix.SIGTERM
	deadline := time.Now().Add(5 * time.Second)
	for {
		alive, err := proc.Alive(pid, start)
		if err != nil {
			return fmt.Errorf("stop %s (pid %d): %w", tool, pid, err)
		}
		if !alive {
			return nil
		}
		if sig != 0 {
			if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("stop %s (pid %d): %w", tool, pid, err)
			}
			sig = 0
		}
		if time.Now().After(deadline) {
			sig, deadline = unix.SIGKILL, time.Now().Add(5*time.Second)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// UnprivilegedPortStart is the file of the lowest port that a user
// without CAP_NET_BIND_SERVICE in the host's network namespace may bind.
const UnprivilegedPortStart = "/proc/sys/net/ipv4/ip_unprivileged_port_start"

// CheckUserPorts refuses host ports a rootless user can't bind (below
// net.ipv4.ip_unprivileged_port_start), with how to allow them.
func CheckUserPorts(ports []PortMapping) error {
	start := 1024
	if b, err := os.ReadFile(UnprivilegedPortStart); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			start = n
		}
	}
	for _, p := range ports {
		low := p.HostPort
		if low == 0 {
			low = p.HostRange[0] // a range: its first port
		}
		if low != 0 && low < start {
			return fmt.Errorf("-p %s: host port %d is below net.ipv4.ip_unprivileged_port_start (%d): a rootless container can't publish it; use a port of %d or above, or lower the setting (as root: sysctl net.ipv4.ip_unprivileged_port_start=%d)",
				p, low, start, start, low)
		}
	}
	return nil
}

// Attach chooses the free host ports left to choose, then starts the
// tool on pid's network namespace and returns once the container's
// interface is configured and the ports are published.
func (u *UserMode) Attach(pid int) error {
	u.init = pid
	ports, err := assignPorts(u.Ports, nil)
	if err != nil {
		return err
	}
	if err := hostPortsFree(ports); err != nil {
		return err
	}
	u.Ports = ports
	switch u.Tool {
	case Pasta:
		err = u.startPasta(pid)
	case Slirp4netns:
		err = u.startSlirp(pid)
	default:
		err = fmt.Errorf("unknown user-mode network %q", u.Tool)
	}
	if err != nil {
		return errors.Join(err, u.Detach())
	}
	return nil
}

// startPasta runs pasta, which configures the container's interface
// (addresses and routes as the host's), publishes the ports, and goes to
// the background once ready, leaving its pid in a file. Nothing else is
// forwarded: -T/-U none (the host's loopback ports stay out of reach),
// --no-map-gw (the gateway is not the host).
func (u *UserMode) startPasta(pid int) error {
	pidFile := filepath.Join(u.Dir, u.Name+".pasta.pid")
	// The pid file is named from pasta's working directory, its own:
	// pasta opens it once it has dropped its capabilities, when root
	// inside a rootless namespace (the user's first subordinate id) may
	// no longer search the user's $XDG_RUNTIME_DIR above it.
	args := []string{"--config-net", "--quiet", "--mtu", strconv.Itoa(UserModeMTU), "--no-map-gw",
		"-T", "none", "-U", "none", "--pid", filepath.Base(pidFile)}
	tcp, udp := pastaSpecs(u.Ports)
	args = append(args, "-t", tcp, "-u", udp)
	if namespaces.InUserNS() {
		args = append(args, "--runas", "0:0") // stay root of the namespace (its "nobody" may be unmapped)
	}
	// The namespace as an open file of its own, not the pid nor
	// /proc/PID/ns/net: pasta drops CAP_SYS_PTRACE before it opens them,
	// and the init is not dumpable until its exec.
	ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return fmt.Errorf("pasta: %w", err)
	}
	defer ns.Close()
	args = append(args, "--netns", "/proc/self/fd/3", "--no-netns-quit")
	cmd := exec.Command(Pasta, args...)
	cmd.ExtraFiles = []*os.File{ns}
	cmd.Dir = filepath.Dir(pidFile)
	out, err := cmd.CombinedOutput()
	if b, rerr := os.ReadFile(pidFile); rerr == nil {
		u.pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	if err != nil {
		return fmt.Errorf("pasta %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	if u.pid <= 0 {
		return fmt.Errorf("pasta: no pid in %s", pidFile)
	}
	return u.record()
}

// pastaSpecs renders the mappings as pasta's -t and -u specs
// ([ADDR/]HOST:CONTAINER,...; "none" for none).
func pastaSpecs(ports []PortMapping) (tcp, udp string) {
	var t, u []string
	for _, p := range ports {
		s := fmt.Sprintf("%d:%d", p.HostPort, p.ContainerPort)
		if p.HostIP != "" {
			s = p.HostIP + "/" + s
		}
		if p.Protocol == "udp" {
			u = append(u, s)
		} else {
			t = append(t, s)
		}
	}
	join := func(l []string) string {
		if len(l) == 0 {
			return "none"
		}
		return strings.Join(l, ",")
	}
	return join(t), join(u)
}

// startSlirp runs slirp4netns (in its sandbox, without the host's
// loopback) for the container's namespace, waits for its ready fd, and
// publishes each port through its API socket.
func (u *UserMode) startSlirp(pid int) error {
	sock := filepath.Join(u.Dir, u.Name+".slirp4netns.sock")
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command(Slirp4netns, "--configure", "--mtu="+strconv.Itoa(UserModeMTU), "--disable-host-loopback",
		"--enable-sandbox", "--enable-seccomp", "--api-socket", sock, "--ready-fd", "3", strconv.Itoa(pid), "tap0")
	cmd.ExtraFiles = []*os.File{w}
	// Its own process group, so that a ^C to the run reaches the
	// container, not the network's program.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: unix.SIGKILL}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	errText := func() string { return errOut.String() }
	if u.Keep {
		// It outlives this process (the hook): its own session, no
		// parent-death signal, its errors in a file (a pipe to the
		// hook's runner would keep the runner waiting for its end).
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		logPath := filepath.Join(u.Dir, u.Name+".slirp4netns.log")
		logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("start slirp4netns: %w", err)
		}
		defer logFile.Close()
		cmd.Stderr = logFile
		errText = func() string { b, _ := os.ReadFile(logPath); return string(b) }
	}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return fmt.Errorf("start slirp4netns: %w", err)
	}
	u.pid, u.exited = cmd.Process.Pid, make(chan struct{})
	go func() { _ = cmd.Wait(); close(u.exited) }() // Detach kills it
	if err := u.record(); err != nil {
		return err
	}
	b := make([]byte, 1)
	if n, _ := r.Read(b); n != 1 || b[0] != '1' {
		return fmt.Errorf("slirp4netns did not get ready: %s", strings.TrimSpace(errText()))
	}
	for _, p := range u.Ports {
		if err := slirpForward(sock, p); err != nil {
			return err
		}
	}
	return nil
}

// slirpForward publishes p through slirp4netns' API socket.
func slirpForward(sock string, p PortMapping) error {
	c, err := net.DialTimeout("unix", sock, 10*time.Second)
	if err != nil {
		return fmt.Errorf("slirp4netns API %s: %w", sock, err)
	}
	defer c.Close()
	host := p.HostIP
	if host == "" {
		host = "0.0.0.0"
	}
	req, _ := json.Marshal(map[string]any{"execute": "add_hostfwd", "arguments": map[string]any{
		"proto": p.Protocol, "host_addr": host, "host_port": p.HostPort, "guest_port": p.ContainerPort}})
	if _, err := c.Write(req); err != nil {
		return fmt.Errorf("slirp4netns API: publish %s: %w", p, err)
	}
	_ = c.(*net.UnixConn).CloseWrite()
	var resp struct {
		Error *struct{ Desc string } `json:"error"`
	}
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return fmt.Errorf("slirp4netns API: publish %s: %w", p, err)
	}
	if resp.Error != nil {
		return fmt.Errorf("slirp4netns: publish %s: %s", p, resp.Error.Desc)
	}
	return nil
}

// removeFiles removes the tool's pid file, API socket and log.
func (u *UserMode) removeFiles() {
	for _, suffix := range []string{".pasta.pid", ".slirp4netns.sock", ".slirp4netns.log"} {
		_ = os.Remove(filepath.Join(u.Dir, u.Name+suffix))
	}
}

// Detach stops the tool (SIGTERM) and reaps it if it is this process's
// child (slirp4netns; pasta is when this process is a child subreaper).
func (u *UserMode) Detach() error {
	if u.pid <= 0 {
		return nil
	}
	pid := u.pid
	u.pid = 0
	if k, err := ReadKept(u.Dir, u.Name); u.Keep && err == nil && k != nil && k.Pid == pid {
		return StopKept(u.Dir, u.Name) // not this process's child (pasta), or not for long
	}
	if err := unix.Kill(pid, unix.SIGTERM); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("stop %s (pid %d): %w", u.Tool, pid, err)
	}
	u.removeFiles()
	if u.exited != nil {
		select {
		case <-u.exited:
		case <-time.After(5 * time.Second):
			_ = unix.Kill(pid, unix.SIGKILL)
			<-u.exited
		}
	}
	if u.Tool == Pasta {
		for i := 0; i < 200; i++ {
			var ws unix.WaitStatus
			if n, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil); n == pid || errors.Is(err, unix.ECHILD) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}
