// Package spec builds and checks the one config model of minimal-docker: the
// OCI runtime spec (specs.Spec). The Docker-like CLI turns its flags into
// Options applied over Default; a bundle's config.json is loaded as is.
package spec

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/minimal-docker/minimal-docker/internal/rootfs"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Defaults of the Docker-like front door, as the original design had them.
const (
	DefaultHostname = "minimal-docker"
	DefaultPath     = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	DefaultMemory   = 256 << 20
	DefaultPids     = 64
	DefaultCPUs     = 0.5
	// DefaultCPUPeriod is the CFS period the --cpus quota is expressed in.
	DefaultCPUPeriod = 100000
)

// AnnotationInit, set to "true", asks for a tiny init as PID 1 that forwards
// signals to the command and reaps zombies (docker run --init).
const AnnotationInit = "org.minimal-docker.init"

// Option changes a spec built by Default.
type Option func(*specs.Spec) error

// Default builds the spec of `minimal-docker run ROOTFS COMMAND...`: new
// UTS, PID, mount, IPC, cgroup and network namespaces, the standard mounts,
// the original design's limits, and Docker's defences: its 14 default
// capabilities, no_new_privs, masked and read-only paths, and a device
// cgroup that allows only the standard nodes. Options are applied in order.
func Default(rootfs string, args []string, opts ...Option) (*specs.Spec, error) {
	if len(args) == 0 {
		return nil, errors.New("no command given")
	}
	if args[0] == "" {
		return nil, errors.New("the command is empty")
	}
	if rootfs == "" {
		// filepath.Abs would take the current directory: from / (and an
		// unset shell variable) the host's own root.
		return nil, errors.New("the rootfs is empty: give the directory of the container's root filesystem")
	}
	abs, err := filepath.Abs(rootfs)
	if err != nil {
		return nil, fmt.Errorf("rootfs %q: %w", rootfs, err)
	}
	mem, swap := int64(DefaultMemory), int64(DefaultMemory)
	pids := int64(DefaultPids)
	quota, period := int64(DefaultCPUs*DefaultCPUPeriod), uint64(DefaultCPUPeriod)
	s := &specs.Spec{
		Version:  specs.Version,
		Hostname: DefaultHostname,
		Root:     &specs.Root{Path: abs},
		Process: &specs.Process{
			Args:            append([]string(nil), args...),
			Env:             []string{DefaultPath, "HOME=/root"},
			Cwd:             "/",
			Capabilities:    capSets(DefaultCaps),
			NoNewPrivileges: true,
		},
		Mounts: DefaultMounts(),
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace},
				{Type: specs.UTSNamespace},
				{Type: specs.MountNamespace},
				{Type: specs.IPCNamespace},
				{Type: specs.NetworkNamespace},
				{Type: specs.CgroupNamespace},
			},
			MaskedPaths:   slices.Clone(DefaultMaskedPaths),
			ReadonlyPaths: slices.Clone(DefaultReadonlyPaths),
			Resources: &specs.LinuxResources{
				Memory:  &specs.LinuxMemory{Limit: &mem, Swap: &swap},
				Pids:    &specs.LinuxPids{Limit: &pids},
				CPU:     &specs.LinuxCPU{Quota: &quota, Period: &period},
				Devices: DefaultDevices(),
			},
		},
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// DefaultMounts are the mounts every container gets, in order (runc's
// `spec` writes the same list, plus the cgroup tree read-only).
func DefaultMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
}

// WithHostname sets the container's hostname.
func WithHostname(name string) Option {
	return func(s *specs.Spec) error {
		if name == "" || len(name) > 64 || strings.ContainsAny(name, "/ \t\n") {
			return fmt.Errorf("invalid --hostname %q: want 1 to 64 characters, no spaces or slashes", name)
		}
		s.Hostname = name
		return nil
	}
}

// WithDomainname sets the container's NIS domain name (--domainname,
// Docker's; its UTS namespace's, which setdomainname(2) takes up to 64
// characters); "" leaves it unset.
func WithDomainname(name string) Option {
	return func(s *specs.Spec) error {
		if len(name) > 64 || strings.ContainsAny(name, "/ \t\n") {
			return fmt.Errorf("invalid --domainname %q: want at most 64 characters, no spaces or slashes", name)
		}
		s.Domainname = name
		return nil
	}
}

// WithSysctl sets linux.sysctl from KEY=VALUE pairs (--sysctl), later
// ones replacing earlier ones. Which keys a container may set (the
// namespaced ones, of a namespace of its own) is the runtime's check.
func WithSysctl(kv ...string) Option {
	return func(s *specs.Spec) error {
		for _, p := range kv {
			k, v, ok := strings.Cut(p, "=")
			if k = strings.TrimSpace(k); !ok || k == "" {
				return fmt.Errorf("invalid --sysctl %q: want KEY=VALUE", p)
			}
			if s.Linux.Sysctl == nil {
				s.Linux.Sysctl = map[string]string{}
			}
			s.Linux.Sysctl[k] = v
		}
		return nil
	}
}

// WithEnv sets or adds KEY=VALUE pairs, later ones replacing earlier ones.
func WithEnv(env ...string) Option {
	return func(s *specs.Spec) error {
		for _, kv := range env {
			k, _, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return fmt.Errorf("invalid --env %q: want KEY=VALUE", kv)
			}
			s.Process.Env = setEnv(s.Process.Env, k, kv)
		}
		return nil
	}
}

func setEnv(env []string, key, kv string) []string {
	for i, e := range env {
		if k, _, _ := strings.Cut(e, "="); k == key {
			env[i] = kv
			return env
		}
	}
	return append(env, kv)
}

// WithWorkdir sets the working directory (absolute, inside the container).
func WithWorkdir(dir string) Option {
	return func(s *specs.Spec) error {
		if err := CheckWorkdir("--workdir", dir); err != nil {
			return err
		}
		s.Process.Cwd = filepath.Clean(dir)
		return nil
	}
}

// WithMemory sets the memory limit in bytes; 0 or less means unlimited.
// Swap is set equal to the limit so that the limit means what it says.
func WithMemory(bytes int64) Option {
	return func(s *specs.Spec) error {
		if bytes <= 0 {
			s.Linux.Resources.Memory = nil
			return nil
		}
		b, sw := bytes, bytes
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &b, Swap: &sw}
		return nil
	}
}

// WithPids sets the pids limit; 0 or less means unlimited.
func WithPids(n int64) Option {
	return func(s *specs.Spec) error {
		if n <= 0 {
			s.Linux.Resources.Pids = nil
			return nil
		}
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &n}
		return nil
	}
}

// WithCPUs sets a CFS quota of cpus CPUs; 0 means unlimited.
func WithCPUs(cpus float64) Option {
	return func(s *specs.Spec) error {
		if cpus < 0 {
			return fmt.Errorf("invalid --cpus %v: want a decimal number of CPUs >= 0", cpus)
		}
		if cpus == 0 {
			s.Linux.Resources.CPU = nil
			return nil
		}
		q, p := int64(cpus*DefaultCPUPeriod+0.5), uint64(DefaultCPUPeriod)
		if q < 1000 {
			return fmt.Errorf("invalid --cpus %v: the minimum is 0.01", cpus)
		}
		s.Linux.Resources.CPU = &specs.LinuxCPU{Quota: &q, Period: &p}
		return nil
	}
}

// WithCpuset sets the CPUs and memory nodes the container may use (cpuset
// lists such as "0-3,8"; "" leaves one unset). After WithCPUs, which
// replaces the CPU limits.
func WithCpuset(cpus, mems string) Option {
	return func(s *specs.Spec) error {
		if cpus == "" && mems == "" {
			return nil
		}
		if s.Linux.Resources.CPU == nil {
			s.Linux.Resources.CPU = &specs.LinuxCPU{}
		}
		s.Linux.Resources.CPU.Cpus, s.Linux.Resources.CPU.Mems = cpus, mems
		return nil
	}
}

// WithCgroupsPath sets linux.cgroupsPath: relative paths are beneath the
// runtime's own cgroup, absolute ones from the root of each hierarchy.
func WithCgroupsPath(p string) Option {
	return func(s *specs.Spec) error {
		s.Linux.CgroupsPath = p
		return nil
	}
}

// WithHostNetwork keeps the host's network namespace.
func WithHostNetwork() Option {
	return func(s *specs.Spec) error {
		s.Linux.Namespaces = removeNamespace(s.Linux.Namespaces, specs.NetworkNamespace)
		return nil
	}
}

func removeNamespace(ns []specs.LinuxNamespace, t specs.LinuxNamespaceType) []specs.LinuxNamespace {
	out := ns[:0]
	for _, n := range ns {
		if n.Type != t {
			out = append(out, n)
		}
	}
	return out
}

// WithInit runs a tiny init as PID 1 (see AnnotationInit).
func WithInit() Option { return withAnnotation(AnnotationInit) }

// WithTerminal gives the process a pty (process.terminal: run -t).
func WithTerminal() Option {
	return func(s *specs.Spec) error {
		s.Process.Terminal = true
		return nil
	}
}

// withAnnotation sets the annotation key, one of the runtime's switches,
// to "true".
func withAnnotation(key string) Option {
	return func(s *specs.Spec) error {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[key] = "true"
		return nil
	}
}

// WantsInit reports whether the spec asks for the tiny init.
func WantsInit(s *specs.Spec) bool {
	return s.Annotations[AnnotationInit] == "true"
}

// Getenv returns the value of key in a KEY=VALUE list (rootfs.Getenv).
func Getenv(env []string, key string) string { return rootfs.Getenv(env, key) }
