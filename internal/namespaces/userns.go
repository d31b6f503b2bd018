package namespaces

import (
	"bytes"
	"fmt"
	"os"
	"sync"
)

// InUserNS says whether this process runs in a user namespace other than
// the host's (the initial one maps every id: "0 0 4294967295"): inside
// one, as a rootless minimal-docker or a runtime that Podman runs
// rootless, even uid 0 can't mknod a device, mount a cgroup v1 hierarchy
// or sysfs without a network namespace of its own, or write the host's
// cgroups, and the init falls back as runc does.
func InUserNS() bool {
	inUserNSOnce.Do(func() {
		b, err := os.ReadFile("/proc/self/uid_map")
		inUserNS = err == nil && !isInitialMap(b)
	})
	return inUserNS
}

var (
	inUserNSOnce sync.Once
	inUserNS     bool
)

// isInitialMap says whether a uid_map's text is the initial user
// namespace's: one line mapping the whole 32-bit range onto itself.
func isInitialMap(b []byte) bool {
	var in, out, n uint64
	if _, err := fmt.Sscan(string(bytes.TrimSpace(b)), &in, &out, &n); err != nil {
		return false
	}
	return in == 0 && out == 0 && n == 4294967295 && bytes.Count(bytes.TrimSpace(b), []byte("\n")) == 0
}
