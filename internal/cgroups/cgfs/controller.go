package cgfs

import specs "github.com/opencontainers/runtime-spec/specs-go"

// Controller is one controller of a driver's table. Its Plan is the one
// writer of its limits: Create and Update both write through Set.
type Controller struct {
	Name string
	// Wants reports whether r asks for a limit that cannot be met without
	// the controller ("unlimited" can: it is the default); nil for a
	// controller that takes no limits (v1's freezer).
	Wants func(r *specs.LinuxResources) bool
	// Plan plans the writes of r's limits in the container's directory
	// dir, checked against the values in force there: a nil or zero
	// field leaves a limit as it is (in a new cgroup: none), a negative
	// one removes it. nil for a controller that takes no limits.
	Plan func(dir string, r *specs.LinuxResources) ([]Write, error)
	// OnDemand: the container gets the controller (its directory on v1,
	// its enabling on v2) only when Create's r wants it.
	OnDemand bool
}

// Wanted reports whether r asks for a limit of c (Wants).
func (c Controller) Wanted(r *specs.LinuxResources) bool {
	return c.Wants != nil && c.Wants(r)
}

// Set writes r's limits with the plans of the controllers in table, each
// in the directory dir gives it ("": the container has none for that
// controller, which is passed over). Every plan is made before the first
// write, so that a plan that fails (a check against the values in force)
// leaves everything as it was; the writes are then made in table order.
func Set(table []Controller, dir func(controller string) string, r *specs.LinuxResources) error {
	type planned struct {
		dir    string
		writes []Write
	}
	var plans []planned
	for _, c := range table {
		d := dir(c.Name)
		if d == "" || c.Plan == nil {
			continue
		}
		writes, err := c.Plan(d, r)
		if err != nil {
			return err
		}
		plans = append(plans, planned{d, writes})
	}
	for _, p := range plans {
		if err := WriteAll(p.dir, p.writes); err != nil {
			return err
		}
	}
	return nil
}

// Given is the limit n unless it leaves the limit as it is (nil or zero).
func Given(n *int64) *int64 {
	if n == nil || *n == 0 {
		return nil
	}
	return n
}

// Positive reports whether the limit n is set and above zero.
func Positive(n *int64) bool {
	return n != nil && *n > 0
}
