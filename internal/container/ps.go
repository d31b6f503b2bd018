package container

import (
	"fmt"
	"slices"
)

// Ps lists the host pids of the processes in the container's cgroup,
// sorted; none once it has stopped and its processes are gone.
func Ps(store *Store, id string) ([]int, error) {
	h, st, err := load(store, id)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	mgr, err := restoreCgroup(st)
	if err != nil || mgr == nil { // none: a create killed before it had one
		return nil, err
	}
	pids, err := mgr.Pids()
	if err != nil {
		return nil, fmt.Errorf("ps %s: %w", id, err)
	}
	slices.Sort(pids)
	return pids, nil
}
