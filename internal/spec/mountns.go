package spec

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/namespaces"
)

// A container without a mount namespace of its own (none in
// linux.namespaces, new or joined by path) shares its caller's mount
// table: the init chroots into the rootfs and makes no mount, so that
// nothing reaches the caller's mounts (run from a host shell, the host's).
// What only a mount can do is refused here, naming the field; the spec's
// mounts are skipped (SkippedMounts), as a config made for a mount
// namespace (the OCI validation suite's linux_ns_itype) still runs.

// SharesMounts reports whether s has no mount namespace of its own
// (namespaces.SharesMounts).
func SharesMounts(s *specs.Spec) bool {
	return s.Linux != nil && namespaces.SharesMounts(s.Linux.Namespaces)
}

// checkSharedMounts refuses what needs a mount namespace in a spec that
// has none.
func checkSharedMounts(s *specs.Spec) error {
	if !SharesMounts(s) {
		return nil
	}
	var bad fields
	bad.add(len(s.Linux.MaskedPaths) > 0, "linux.maskedPaths")
	bad.add(len(s.Linux.ReadonlyPaths) > 0, "linux.readonlyPaths")
	bad.add(s.Linux.RootfsPropagation != "", "linux.rootfsPropagation")
	bad.add(len(s.Linux.Devices) > 0, "linux.devices")
	bad.add(s.Root != nil && s.Root.Readonly, "root.readonly")
	bad.add(s.Process != nil && s.Process.Terminal, "process.terminal")
	if len(bad) > 0 {
		return fmt.Errorf("spec: %s: need a mount namespace of the container's own (add one to linux.namespaces); without one the container shares the caller's mount table, which the runtime never changes", strings.Join(bad, ", "))
	}
	return nil
}

// SkippedMounts returns the destinations of the spec's mounts that are not
// made because the container shares the caller's mount table (nil when it
// has a mount namespace of its own).
func SkippedMounts(s *specs.Spec) []string {
	if !SharesMounts(s) {
		return nil
	}
	var dst []string
	for _, m := range s.Mounts {
		dst = append(dst, m.Destination)
	}
	return dst
}
