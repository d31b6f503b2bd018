package container

import "github.com/minimal-docker/minimal-docker/internal/cgroups"

// Cgroup returns the Manager of container id's cgroup as the runtime
// recorded it, for readers of its statistics (minimal-docker stats); nil
// if none was recorded.
func Cgroup(store *Store, id string) (cgroups.Manager, error) {
	h, st, err := load(store, id)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return restoreCgroup(st)
}
