package v1

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"
	"github.com/minimal-docker/minimal-docker/internal/cgroups/devices"
)

// The device cgroup's files: writing a rule to devices.allow or devices.deny
// changes the cgroup's list, which devices.list shows.
const (
	devicesAllow = "devices.allow"
	devicesDeny  = "devices.deny"
	devicesList  = "devices.list"
)

// The v1 device cgroup does not keep ordered rules. It keeps a default
// (allow or deny every access) and a list of exceptions to it, each a
// device (type, major or *, minor or *) with the access types excepted:
//
//   - "a" written to devices.deny (devices.allow) makes the default deny
//     (allow) and empties the list;
//   - a rule written against the default (to devices.allow when the default
//     is deny, to devices.deny when it is allow) adds an exception, or adds
//     access types to one for the same device;
//   - a rule written with the default takes its access types out of the
//     exception for exactly that device, and does nothing to exceptions for
//     other devices, even ones it includes (c 1:* does not touch c 1:3) or
//     that include it: the kernel cannot punch a hole into c *:* for 1:5.
//
// planDevices turns the rules, whose meaning is in package devices, into
// those writes: "a" to devices.deny for a deny-all, each rule against the
// default as it is, and a rule with the default as the writes that take its
// access types out of each exception it includes. A rule that would have to
// punch a hole into an exception is refused: the kernel would ignore it.
//
// One difference remains, in the strict direction: when the default is
// deny, the kernel allows an access only if a single exception has all its
// types, so an open for reading and writing of a device that two rules
// naming it differently allow, one to read (c 1:3 r) and one to write
// (c 1:* w), is refused on v1 (and allowed on v2).

func wantsDevices(r *specs.LinuxResources) bool {
	if r == nil || len(r.Devices) == 0 {
		return false
	}
	rules, err := devices.Parse(r.Devices)
	return err != nil || devices.Restricts(rules)
}

// planDeviceRules plans the writes of the rules of linux.resources.devices
// to the device cgroup dir, starting from the state devices.list shows
// (planDevices); each names its rule in the error of a refused write.
func planDeviceRules(dir string, r *specs.LinuxResources) ([]cgfs.Write, error) {
	if r == nil || len(r.Devices) == 0 {
		return nil, nil
	}
	rules, err := devices.Parse(r.Devices)
	if err != nil {
		return nil, err
	}
	list, err := cgfs.ReadFile(dir, devicesList)
	if err != nil {
		return nil, err
	}
	planned, err := planDevices(list, rules)
	if err != nil {
		return nil, fmt.Errorf("cgroup v1 devices in %s: %w", dir, err)
	}
	writes := make([]cgfs.Write, len(planned))
	for i, w := range planned {
		writes[i] = cgfs.Write{Name: w.file, Value: w.value, Field: fmt.Sprintf("linux.resources.devices[%d] (%s)", w.rule, w.value)}
	}
	return writes, nil
}

// deviceWrite is one write to devices.allow or devices.deny, made for the
// rule of that index.
type deviceWrite struct {
	file, value string
	rule        int
}

// deviceKey is the device part of an exception: type Char or Block, major
// and minor (or devices.Wildcard).
type deviceKey struct {
	t            devices.Type
	major, minor int64
}

func (k deviceKey) rule(allow bool, a devices.Access) devices.Rule {
	return devices.Rule{Allow: allow, Type: k.t, Major: k.major, Minor: k.minor, Access: a}
}

// covers reports whether every device of o is one of k's.
func (k deviceKey) covers(o deviceKey) bool {
	return k.t == o.t && (k.major == devices.Wildcard || k.major == o.major) &&
		(k.minor == devices.Wildcard || k.minor == o.minor)
}

// overlaps reports whether some device is both k's and o's.
func (k deviceKey) overlaps(o deviceKey) bool {
	match := func(a, b int64) bool { return a == devices.Wildcard || b == devices.Wildcard || a == b }
	return k.t == o.t && match(k.major, o.major) && match(k.minor, o.minor)
}

// deviceState is what the kernel keeps for a device cgroup.
type deviceState struct {
	allow      bool // the default
	exceptions map[deviceKey]devices.Access
}

// parseDeviceList reads devices.list: "a *:* rwm" alone when the default is
// allow (the exceptions, inherited from the parent, are then not shown,
// and the parent enforces them anyway), else the allowed exceptions, one
// "c 1:3 rwm" a line.
func parseDeviceList(list string) (*deviceState, error) {
	st := &deviceState{exceptions: map[deviceKey]devices.Access{}}
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		t, rest, _ := strings.Cut(line, " ")
		if t == "a" {
			st.allow = true
			clear(st.exceptions)
			continue
		}
		nums, access, _ := strings.Cut(rest, " ")
		major, minor, _ := strings.Cut(nums, ":")
		maj, okMajor := listNumber(major)
		mnr, okMinor := listNumber(minor)
		rules, err := devices.Parse([]specs.LinuxDeviceCgroup{{Type: t, Major: maj, Minor: mnr, Access: access}})
		if err != nil || t == "" || !okMajor || !okMinor {
			return nil, fmt.Errorf("%s: unexpected line %q", devicesList, line)
		}
		r := rules[0]
		st.exceptions[deviceKey{r.Type, r.Major, r.Minor}] |= r.Access
	}
	return st, nil
}

// listNumber reads a number of devices.list, "*" being nil.
func listNumber(s string) (*int64, bool) {
	if s == "*" {
		return nil, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return &n, err == nil
}

// planDevices returns the writes that take a device cgroup whose
// devices.list reads list to the state the rules mean.
func planDevices(list string, rules []devices.Rule) ([]deviceWrite, error) {
	st, err := parseDeviceList(list)
	if err != nil {
		return nil, err
	}
	var writes []deviceWrite
	for i, r := range rules {
		var w []deviceWrite
		var err error
		if r.IsAll() {
			w = st.reset(r.Allow)
		} else {
			w, err = st.apply(r)
		}
		if err != nil {
			return nil, fmt.Errorf("linux.resources.devices[%d] (%s %s): %w", i, verb(r.Allow), r, err)
		}
		for j := range w {
			w[j].rule = i
		}
		writes = append(writes, w...)
	}
	return writes, nil
}

func verb(allow bool) string {
	if allow {
		return "allow"
	}
	return "deny"
}

func file(allow bool) string {
	if allow {
		return devicesAllow
	}
	return devicesDeny
}

// reset makes the default allow (or deny) with no exceptions: "a" to
// devices.allow (devices.deny), unless the cgroup is so already.
func (st *deviceState) reset(allow bool) []deviceWrite {
	if st.allow == allow && len(st.exceptions) == 0 {
		return nil
	}
	st.allow = allow
	clear(st.exceptions)
	return []deviceWrite{{file: file(allow), value: "a"}}
}

// apply writes a rule that is not a deny-all or allow-all: type "a" as one
// rule for character and one for block devices.
func (st *deviceState) apply(r devices.Rule) ([]deviceWrite, error) {
	types := []devices.Type{r.Type}
	if r.Type == devices.AllTypes {
		types = []devices.Type{devices.Char, devices.Block}
	}
	var writes []deviceWrite
	for _, t := range types {
		k := deviceKey{t, r.Major, r.Minor}
		if r.Allow != st.allow {
			// Against the default: an exception.
			st.exceptions[k] |= r.Access
			writes = append(writes, deviceWrite{file: file(r.Allow), value: k.rule(r.Allow, r.Access).String()})
			continue
		}
		w, err := st.takeBack(k, r.Allow, r.Access)
		if err != nil {
			return nil, err
		}
		writes = append(writes, w...)
	}
	return writes, nil
}

// takeBack takes the access types a out of every exception for a device of
// k, with one write for each exception k covers; an exception that k
// overlaps but does not cover would need a hole, which the kernel cannot
// make.
func (st *deviceState) takeBack(k deviceKey, allow bool, a devices.Access) ([]deviceWrite, error) {
	keys := make([]deviceKey, 0, len(st.exceptions))
	for e := range st.exceptions {
		keys = append(keys, e)
	}
	slices.SortFunc(keys, func(x, y deviceKey) int {
		return cmp.Or(cmp.Compare(x.t, y.t), cmp.Compare(x.major, y.major), cmp.Compare(x.minor, y.minor))
	})
	var writes []deviceWrite
	for _, e := range keys {
		common := st.exceptions[e] & a
		if common == 0 || !k.overlaps(e) {
			continue
		}
		if !k.covers(e) {
			return nil, fmt.Errorf("the v1 device cgroup cannot %s part of the earlier exception %s %s "+
				"(it keeps a list of exceptions, not ordered rules, and would ignore this rule); "+
				"list the devices one by one instead of with a wildcard",
				verb(allow), verb(!allow), e.rule(!allow, st.exceptions[e]))
		}
		writes = append(writes, deviceWrite{file: file(allow), value: e.rule(allow, common).String()})
		if st.exceptions[e] &^= a; st.exceptions[e] == 0 {
			delete(st.exceptions, e)
		}
	}
	return writes, nil
}
