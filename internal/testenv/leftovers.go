package testenv

import (
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Snapshot is the part of the host that the suites' leftover checks
// share: this process's mount table and the cgroup directories beneath
// some roots, taken before a test's containers run and compared with the
// host after them. What each suite tolerates is a parameter of the
// comparison (LeftoverMounts, NewCgroups); what it does about a leftover
// is its own.
type Snapshot struct {
	mounts  map[string]int  // Mount.Key -> count
	cgroups map[string]bool // cgroup directories
}

// TakeSnapshot records this process's mount table and every cgroup
// directory beneath cgroupRoots (none: the mounts only).
func TakeSnapshot(cgroupRoots []string) (Snapshot, error) {
	mounts, err := ReadMountinfo()
	if err != nil {
		return Snapshot{}, err
	}
	return snapshotOf(mounts, cgroupRoots), nil
}

func snapshotOf(mounts []Mount, cgroupRoots []string) Snapshot {
	s := Snapshot{mounts: map[string]int{}, cgroups: map[string]bool{}}
	for _, m := range mounts {
		s.mounts[m.Key()]++
	}
	for _, d := range cgroupDirs(cgroupRoots) {
		s.cgroups[d] = true
	}
	return s
}

// LeftoverMounts lists the mounts of this process's mount table that were
// not there at the snapshot (counted: the same mount made once more is
// new too): those beneath own (the suite's or the test's directory) and those
// outside the temporary directory. A new mount beneath another temporary
// directory belongs to another package's tests, which go test runs at the
// same time: it goes to logf, not into the list.
func (s Snapshot) LeftoverMounts(own string, logf func(format string, args ...any)) ([]Mount, error) {
	mounts, err := ReadMountinfo()
	if err != nil {
		return nil, err
	}
	return s.leftoverMounts(mounts, own, logf), nil
}

// leftoverMounts is LeftoverMounts of the mount table mounts.
func (s Snapshot) leftoverMounts(mounts []Mount, own string, logf func(format string, args ...any)) []Mount {
	var out []Mount
	seen := map[string]int{}
	for _, m := range mounts {
		k := m.Key()
		seen[k]++
		if seen[k] <= s.mounts[k] {
			continue
		}
		if IsUnder(m.Mountpoint, os.TempDir()) && !IsUnder(m.Mountpoint, own) {
			logf("ignoring a new mount in someone else's temporary directory: %s", m.Line)
			continue
		}
		out = append(out, m)
	}
	return out
}

// NewCgroups lists, sorted, the cgroup directories beneath roots that were
// not there at the snapshot. While there are any, it looks again every
// 100ms until grace has passed: a cgroup of another user's container may
// be passing by.
func (s Snapshot) NewCgroups(roots []string, grace time.Duration) []string {
	deadline := time.Now().Add(grace)
	for {
		var found []string
		for _, d := range cgroupDirs(roots) {
			if !s.cgroups[d] {
				found = append(found, d)
			}
		}
		if len(found) == 0 || time.Now().After(deadline) {
			return found
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cgroupDirs lists, sorted and once each, the roots and every directory
// beneath them.
func cgroupDirs(roots []string) []string {
	var dirs []string
	for _, root := range roots {
		dirs = append(dirs, WalkDirs(root)...)
	}
	slices.Sort(dirs)
	return slices.Compact(dirs)
}

// HostNetworkMarks lists what minimal-docker's default network makes in
// the network namespace of the caller: its bridge (network.DefaultBridge's
// name, "minimal-docker0") and its firewall chains (iptables-save's lines
// naming MINIMAL-DOCKER). The suites run their network tests in network
// namespaces of their own: one of these that appears on the host while a
// suite runs is a leak of a test (RootSuite fails the suite for it).
func HostNetworkMarks() []string {
	var marks []string
	if _, err := net.InterfaceByName("minimal-docker0"); err == nil {
		marks = append(marks, "link minimal-docker0")
	}
	if out, err := exec.Command("iptables-save").Output(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, ":MINIMAL-DOCKER") {
				marks = append(marks, "iptables chain "+strings.Fields(l[1:])[0])
			}
		}
	}
	return marks
}
