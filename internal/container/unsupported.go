package container

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/namespaces"
)

// unsupported refuses a spec that asks for what the runtime does not do
// yet: a field that can't be honoured fails with its name, never silently.
func unsupported(s *specs.Spec) error {
	var bad []string
	add := func(set bool, field string) {
		if set {
			bad = append(bad, field)
		}
	}
	if p := s.Process; p != nil {
		add(p.ApparmorProfile != "", "process.apparmorProfile")
		add(p.SelinuxLabel != "", "process.selinuxLabel")
		add(p.Scheduler != nil, "process.scheduler")
		add(p.IOPriority != nil, "process.ioPriority")
		add(p.ExecCPUAffinity != nil, "process.execCPUAffinity")
	}
	if l := s.Linux; l != nil {
		add(len(l.UIDMappings)+len(l.GIDMappings) > 0, "linux.uidMappings/gidMappings")
		add(l.IntelRdt != nil, "linux.intelRdt")
		add(l.Personality != nil, "linux.personality")
		add(l.MountLabel != "", "linux.mountLabel")
		add(len(l.NetDevices) > 0, "linux.netDevices")
		add(l.TimeOffsets != nil, "linux.timeOffsets")
		for _, r := range unsupportedResources(l.Resources) {
			bad = append(bad, "linux.resources."+r)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("not supported yet: %s", strings.Join(bad, ", "))
	}
	// Setting these without a UTS namespace of the container's own would
	// change the host's names.
	if (s.Hostname != "" || s.Domainname != "") && s.Linux != nil && !namespaces.In(s.Linux.Namespaces, specs.UTSNamespace) {
		return fmt.Errorf("hostname/domainname %q/%q: the container has no UTS namespace (add one to linux.namespaces)", s.Hostname, s.Domainname)
	}
	return nil
}
