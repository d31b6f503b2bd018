package initproc

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/namespaces"
)

// namespacedSysctls is the kernel's table of the sysctls that belong to a
// namespace, not to the host: writing one in the container's own namespace
// leaves the host alone. A name matches an entry exactly, or by prefix when
// the entry ends in a dot. Every other sysctl is global, and refused.
var namespacedSysctls = []struct {
	name string
	ns   specs.LinuxNamespaceType
}{
	{"net.", specs.NetworkNamespace},
	{"kernel.msgmax", specs.IPCNamespace},
	{"kernel.msgmnb", specs.IPCNamespace},
	{"kernel.msgmni", specs.IPCNamespace},
	{"kernel.msg_next_id", specs.IPCNamespace},
	{"kernel.sem", specs.IPCNamespace},
	{"kernel.sem_next_id", specs.IPCNamespace},
	{"kernel.shmall", specs.IPCNamespace},
	{"kernel.shmmax", specs.IPCNamespace},
	{"kernel.shmmni", specs.IPCNamespace},
	{"kernel.shm_next_id", specs.IPCNamespace},
	{"kernel.shm_rmid_forced", specs.IPCNamespace},
	{"fs.mqueue.", specs.IPCNamespace},
	{"kernel.hostname", specs.UTSNamespace},
	{"kernel.domainname", specs.UTSNamespace},
}

// sysctlNamespace returns the namespace that a dotted sysctl name belongs
// to, or false for a global one.
func sysctlNamespace(name string) (specs.LinuxNamespaceType, bool) {
	for _, e := range namespacedSysctls {
		if name == e.name || strings.HasSuffix(e.name, ".") && strings.HasPrefix(name, e.name) {
			return e.ns, true
		}
	}
	return "", false
}

// sysctlPath resolves a linux.sysctl key to its dotted name and its file
// under /proc/sys. As sysctl(8) reads them, a key with a slash is a path
// ("net/ipv4/conf/eth0.100/forwarding", dots kept), any other is dotted.
func sysctlPath(key string) (name, path string, err error) {
	sep := "."
	if strings.Contains(key, "/") {
		sep = "/"
	}
	parts := strings.Split(strings.Trim(key, sep), sep)
	for _, p := range parts {
		if p == "" || p == "." || p == ".." || strings.Contains(p, "/") {
			return "", "", fmt.Errorf("linux.sysctl %q: not a sysctl name", key)
		}
	}
	return strings.Join(parts, "."), "/proc/sys/" + strings.Join(parts, "/"), nil
}

// checkSysctl refuses a sysctl that would change the host: one that is not
// namespaced, or whose namespace the container shares with the host.
func checkSysctl(key string, ns []specs.LinuxNamespace) (path string, err error) {
	name, path, err := sysctlPath(key)
	if err != nil {
		return "", err
	}
	t, ok := sysctlNamespace(name)
	if !ok {
		return "", fmt.Errorf("linux.sysctl %q: not a namespaced sysctl; writing it would change the host (allowed: net.* with a network namespace; kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.* with an ipc namespace; kernel.hostname, kernel.domainname with a uts namespace)", key)
	}
	if !namespaces.Has(ns, t) {
		return "", fmt.Errorf("linux.sysctl %q: belongs to the %s namespace, and the container has no new one (linux.namespaces); writing it would change the host", key, t)
	}
	return path, nil
}

// checkSysctls checks every linux.sysctl key, in name order (checkSysctl).
func checkSysctls(l *specs.Linux) error {
	for _, k := range slices.Sorted(maps.Keys(l.Sysctl)) {
		if _, err := checkSysctl(k, l.Namespaces); err != nil {
			return err
		}
	}
	return nil
}
