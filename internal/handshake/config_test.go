package handshake

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/seccomp/bpf"
)

// TestChildSpec: the child gets every part of the spec it reads, as sent,
// and the settings; the parent's parts (linux.resources, the seccomp
// rules) stay behind, but that there is a seccomp filter to expect does
// not.
func TestChildSpec(t *testing.T) {
	limit := int64(1 << 20)
	major, minor := int64(1), int64(3)
	sent := &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Args: []string{"sh"}, Env: []string{"A=1"}, Cwd: "/w",
			User:            specs.User{UID: 1, GID: 2, AdditionalGids: []uint32{3}},
			Capabilities:    &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}, Effective: []string{"CAP_KILL"}},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 8, Soft: 8}},
			NoNewPrivileges: true,
		},
		Root:        &specs.Root{Path: "/r", Readonly: true},
		Hostname:    "box",
		Domainname:  "example",
		Mounts:      []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid"}}},
		Hooks:       &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/true", Args: []string{"true"}}}},
		Annotations: map[string]string{"k": "v"},
		Linux: &specs.Linux{
			Namespaces:        []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace, Path: "/proc/1/ns/net"}},
			Devices:           []specs.LinuxDevice{{Path: "/dev/x", Type: "c", Major: 1, Minor: 3}},
			Sysctl:            map[string]string{"net.ipv4.ip_forward": "1"},
			RootfsPropagation: "slave",
			MaskedPaths:       []string{"/proc/kcore"},
			ReadonlyPaths:     []string{"/proc/sys"},
			Resources: &specs.LinuxResources{
				Memory:  &specs.LinuxMemory{Limit: &limit},
				Devices: []specs.LinuxDeviceCgroup{{Allow: true, Type: "c", Major: &major, Minor: &minor, Access: "rwm"}},
			},
			Seccomp:     &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow}}},
			CgroupsPath: "/a/b",
		},
	}
	settings := Settings{
		LogLevel: "debug", CgroupMode: "hybrid", CgroupV1: map[string]string{"memory": "memory"},
		ExecFifo: "/run/x/exec.fifo", Seccomp: &bpf.Filter{Program: make([]byte, 8), Flags: 1},
		PreserveFDs: 2, State: &specs.State{ID: "c1"}, TinyInit: true,
	}
	parent, childFile, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	child := &Conn{f: childFile}
	defer child.Close()
	go func() { _ = parent.SendConfig(&Config{Spec: sent, Settings: settings}) }()
	got, err := child.WaitConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Settings, settings) {
		t.Errorf("settings = %+v, want %+v", got.Settings, settings)
	}
	g := got.Spec
	for _, f := range []struct {
		name      string
		got, want any
	}{
		{"ociVersion", g.Version, sent.Version},
		{"process", g.Process, sent.Process},
		{"root", g.Root, sent.Root},
		{"hostname", g.Hostname, sent.Hostname},
		{"domainname", g.Domainname, sent.Domainname},
		{"mounts", g.Mounts, sent.Mounts},
		{"hooks", g.Hooks, sent.Hooks},
		{"annotations", g.Annotations, sent.Annotations},
		{"linux.namespaces", g.Linux.Namespaces, sent.Linux.Namespaces},
		{"linux.devices", g.Linux.Devices, sent.Linux.Devices},
		{"linux.sysctl", g.Linux.Sysctl, sent.Linux.Sysctl},
		{"linux.rootfsPropagation", g.Linux.RootfsPropagation, sent.Linux.RootfsPropagation},
		{"linux.maskedPaths", g.Linux.MaskedPaths, sent.Linux.MaskedPaths},
		{"linux.readonlyPaths", g.Linux.ReadonlyPaths, sent.Linux.ReadonlyPaths},
	} {
		if !reflect.DeepEqual(f.got, f.want) {
			t.Errorf("%s = %+v, want %+v", f.name, f.got, f.want)
		}
	}
	if g.Linux.Resources != nil || g.Linux.CgroupsPath != "" {
		t.Errorf("the child got the parent's linux.resources or cgroupsPath: %+v", g.Linux)
	}
	if g.Linux.Seccomp == nil {
		t.Error("the child does not know that a seccomp filter is due")
	} else if g.Linux.Seccomp.DefaultAction != "" || len(g.Linux.Seccomp.Syscalls) != 0 {
		t.Errorf("the child got the seccomp rules (they come compiled): %+v", g.Linux.Seccomp)
	}
}
