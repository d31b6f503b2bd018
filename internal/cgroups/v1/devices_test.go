package v1

import (
	"fmt"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs/cgfstest"
	"github.com/minimal-docker/minimal-docker/internal/cgroups/devices"
)

// dev is a spec device rule: t "" for all types, major or minor -1 for any.
func dev(allow bool, t string, major, minor int64, access string) specs.LinuxDeviceCgroup {
	d := specs.LinuxDeviceCgroup{Allow: allow, Type: t, Access: access}
	if major >= 0 {
		d.Major = cgfstest.I64(major)
	}
	if minor >= 0 {
		d.Minor = cgfstest.I64(minor)
	}
	return d
}

var denyAll = dev(false, "a", -1, -1, "rwm")

// allowList is a fresh cgroup beneath an allow-all parent.
const allowList = "a *:* rwm\n"

func TestPlanDevices(t *testing.T) {
	tests := []struct {
		name  string
		list  string // devices.list before
		rules []specs.LinuxDeviceCgroup
		want  []string // "allow VALUE" or "deny VALUE", in order
	}{
		{
			"docker-like defaults", allowList,
			[]specs.LinuxDeviceCgroup{denyAll, dev(true, "c", 1, 3, "rwm"), dev(true, "c", 136, -1, "rwm"), dev(true, "c", 5, 2, "rwm")},
			[]string{"deny a", "allow c 1:3 rwm", "allow c 136:* rwm", "allow c 5:2 rwm"},
		},
		{
			"deny list only", allowList,
			[]specs.LinuxDeviceCgroup{dev(false, "c", 1, 5, "rw"), dev(false, "b", 8, -1, "rwm")},
			[]string{"deny c 1:5 rw", "deny b 8:* rwm"},
		},
		{
			"type a is both types", allowList,
			[]specs.LinuxDeviceCgroup{denyAll, dev(true, "", 7, -1, "r")},
			[]string{"deny a", "allow c 7:* r", "allow b 7:* r"},
		},
		{
			"access of all types on some devices is no reset", allowList,
			[]specs.LinuxDeviceCgroup{dev(false, "a", -1, -1, "m")},
			[]string{"deny c *:* m", "deny b *:* m"},
		},
		{
			"allow-all on an allow-all cgroup writes nothing", allowList,
			[]specs.LinuxDeviceCgroup{dev(true, "a", -1, -1, "rwm")},
			nil,
		},
		{
			"deny-all on a deny-all cgroup writes nothing", "",
			[]specs.LinuxDeviceCgroup{denyAll, dev(true, "c", 1, 3, "rwm")},
			[]string{"allow c 1:3 rwm"},
		},
		{
			"a later reset", allowList,
			[]specs.LinuxDeviceCgroup{denyAll, dev(true, "c", 1, 3, "rwm"), dev(true, "a", -1, -1, "rwm")},
			[]string{"deny a", "allow c 1:3 rwm", "allow a"},
		},
		{
			"a later deny of the same device", allowList,
			[]specs.LinuxDeviceCgroup{denyAll, dev(true, "c", 1, 5, "rwm"), dev(false, "c", 1, 5, "r")},
			[]string{"deny a", "allow c 1:5 rwm", "deny c 1:5 r"},
		},
		{
			"a later deny that covers exceptions", allowList,
			[]specs.LinuxDeviceCgroup{denyAll, dev(true, "c", 1, 3, "rwm"), dev(true, "c", 1, 5, "r"), dev(true, "c", 5, 0, "rwm"), dev(false, "c", 1, -1, "rw")},
			[]string{"deny a", "allow c 1:3 rwm", "allow c 1:5 r", "allow c 5:0 rwm", "deny c 1:3 rw", "deny c 1:5 r"},
		},
		{
			"a deny that matches no exception writes nothing", allowList,
			[]specs.LinuxDeviceCgroup{denyAll, dev(true, "c", 1, 3, "rwm"), dev(false, "c", 10, 229, "rwm")},
			[]string{"deny a", "allow c 1:3 rwm"},
		},
		{
			"a later allow that takes back a deny", allowList,
			[]specs.LinuxDeviceCgroup{dev(false, "c", 1, 5, "rwm"), dev(true, "c", 1, -1, "w")},
			[]string{"deny c 1:5 rwm", "allow c 1:5 w"},
		},
		{
			"starting from a whitelist", "c 1:3 rwm\nc 136:* rwm\n",
			[]specs.LinuxDeviceCgroup{dev(false, "c", -1, -1, "w")},
			[]string{"deny c 1:3 w", "deny c 136:* w"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, err := devices.Parse(tt.rules)
			if err != nil {
				t.Fatal(err)
			}
			writes, err := planDevices(tt.list, rules)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range writes {
				got = append(got, strings.TrimPrefix(w.file, "devices.")+" "+w.value)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("writes:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
		})
	}
}

// TestPlanDevicesRefusesHoles: a rule the kernel would ignore (it would
// have to punch a hole into an earlier wildcard exception) is refused with
// the rule's index and both rules.
func TestPlanDevicesRefusesHoles(t *testing.T) {
	tests := []struct {
		name  string
		rules []specs.LinuxDeviceCgroup
		want  string
	}{
		{"deny inside an allowed wildcard",
			[]specs.LinuxDeviceCgroup{denyAll, dev(true, "c", -1, -1, "rwm"), dev(false, "c", 1, 5, "rwm")},
			"devices[2] (deny c 1:5 rwm): the v1 device cgroup cannot deny part of the earlier exception allow c *:* rwm"},
		{"deny across an allowed wildcard",
			[]specs.LinuxDeviceCgroup{denyAll, dev(true, "c", 1, -1, "r"), dev(false, "c", -1, 3, "r")},
			"devices[2] (deny c *:3 r)"},
		{"allow inside a denied wildcard",
			[]specs.LinuxDeviceCgroup{dev(false, "b", -1, -1, "rw"), dev(true, "b", 8, 0, "r")},
			"devices[1] (allow b 8:0 r): the v1 device cgroup cannot allow part of the earlier exception deny b *:* rw"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, err := devices.Parse(tt.rules)
			if err != nil {
				t.Fatal(err)
			}
			_, err = planDevices(allowList, rules)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("planDevices = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	// Other access types of the wildcard are no hole.
	rules, _ := devices.Parse([]specs.LinuxDeviceCgroup{denyAll, dev(true, "c", -1, -1, "m"), dev(false, "c", 1, 5, "rw")})
	if _, err := planDevices(allowList, rules); err != nil {
		t.Errorf("deny rw inside allow m: %v", err)
	}
}

// TestPlanDevicesMeansWhatRulesSay checks, over a grid of devices and
// access types, that the exceptions the writes leave allow exactly what
// devices.Allowed says the rules allow (one access type at a time, where v1
// and the rules agree).
func TestPlanDevicesMeansWhatRulesSay(t *testing.T) {
	lists := [][]specs.LinuxDeviceCgroup{
		{denyAll, dev(true, "c", 1, 3, "rwm"), dev(true, "c", 136, -1, "rwm"), dev(true, "c", 5, 2, "rwm")},
		{denyAll, dev(true, "c", 1, 3, "rwm"), dev(true, "c", 1, 5, "r"), dev(false, "c", 1, -1, "rw"), dev(true, "", 8, -1, "m")},
		{dev(false, "c", 1, 5, "rwm"), dev(true, "c", 1, -1, "w"), dev(false, "b", -1, -1, "r")},
		{denyAll, dev(true, "c", 1, 3, "rwm"), dev(true, "a", -1, -1, "rwm"), dev(false, "c", 1, 3, "w")},
	}
	for i, spec := range lists {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			rules, err := devices.Parse(spec)
			if err != nil {
				t.Fatal(err)
			}
			writes, err := planDevices(allowList, rules)
			if err != nil {
				t.Fatal(err)
			}
			st := kernelDevices(t, writes)
			for _, ty := range []devices.Type{devices.Char, devices.Block} {
				for _, d := range [][2]int64{{1, 3}, {1, 5}, {5, 2}, {136, 4}, {8, 0}, {10, 229}} {
					for _, a := range []devices.Access{devices.Read, devices.Write, devices.Mknod} {
						want := devices.Allowed(rules, ty, d[0], d[1], a)
						if got := st.allows(ty, d[0], d[1], a); got != want {
							t.Errorf("%c %d:%d %s: v1 allows %v, the rules %v", ty, d[0], d[1], a, got, want)
						}
					}
				}
			}
		})
	}
}

// kernelDevices replays writes on a fresh allow-all cgroup as the kernel
// does (security/device_cgroup.c): "a" resets; a write against the default
// adds an exception; one with the default removes access from the
// exception for exactly that device.
func kernelDevices(t *testing.T, writes []deviceWrite) *deviceState {
	t.Helper()
	st := &deviceState{allow: true, exceptions: map[deviceKey]devices.Access{}}
	for _, w := range writes {
		allow := w.file == devicesAllow
		if w.value == "a" {
			st.allow = allow
			clear(st.exceptions)
			continue
		}
		rules, err := devices.Parse([]specs.LinuxDeviceCgroup{parseWrite(t, w.value)})
		if err != nil {
			t.Fatal(err)
		}
		r := rules[0]
		k := deviceKey{r.Type, r.Major, r.Minor}
		if allow != st.allow {
			st.exceptions[k] |= r.Access
		} else if st.exceptions[k] &^= r.Access; st.exceptions[k] == 0 {
			delete(st.exceptions, k)
		}
	}
	return st
}

// allows is the kernel's check of one access type.
func (st *deviceState) allows(t devices.Type, major, minor int64, a devices.Access) bool {
	for k, acc := range st.exceptions {
		if k.covers(deviceKey{t, major, minor}) && acc&a != 0 {
			return !st.allow
		}
	}
	return st.allow
}

// parseWrite reads "c 1:3 rwm" back into a spec rule.
func parseWrite(t *testing.T, value string) specs.LinuxDeviceCgroup {
	t.Helper()
	var typ, nums, access string
	if _, err := fmt.Sscan(value, &typ, &nums, &access); err != nil {
		t.Fatalf("write %q: %v", value, err)
	}
	major, minor, _ := strings.Cut(nums, ":")
	num := func(s string) int64 {
		if s == "*" {
			return -1
		}
		var n int64
		fmt.Sscan(s, &n)
		return n
	}
	return dev(true, typ, num(major), num(minor), access)
}

func TestPlanDeviceRules(t *testing.T) {
	dir := cgfstest.ControlDir(t, controlFiles)
	r := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{dev(false, "c", 1, 5, "rwm"), dev(false, "b", 8, 0, "r")}}
	if err := cgfstest.Set(planDeviceRules, dir, r); err != nil {
		t.Fatal(err)
	}
	// Each write replaces the fake file; the last of each file stays.
	if got := cgfstest.ReadFile(t, dir, devicesDeny); got != "b 8:0 r" {
		t.Errorf("%s = %q, want the last deny written", devicesDeny, got)
	}
	if got := cgfstest.ReadFile(t, dir, devicesAllow); got != "" {
		t.Errorf("%s = %q, want nothing written", devicesAllow, got)
	}

	for _, tt := range []struct {
		name string
		r    *specs.LinuxResources
	}{{"nil", nil}, {"no rules", &specs.LinuxResources{}}} {
		dir := cgfstest.ControlDir(t, controlFiles, devicesList)
		if err := cgfstest.Set(planDeviceRules, dir, tt.r); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	err := cgfstest.Set(planDeviceRules, cgfstest.ControlDir(t, controlFiles), &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "x", Access: "r"}}})
	if err == nil || !strings.Contains(err.Error(), `linux.resources.devices[0]: type "x"`) {
		t.Errorf("planDeviceRules of a bad rule = %v", err)
	}
	err = cgfstest.Set(planDeviceRules, cgfstest.ControlDir(t, controlFiles, devicesDeny), r)
	if err == nil || !strings.Contains(err.Error(), "linux.resources.devices[0] (c 1:5 rwm)") || !strings.Contains(err.Error(), devicesDeny) {
		t.Errorf("planDeviceRules without %s = %v, want an error naming the rule and the file", devicesDeny, err)
	}
}

func TestWantsDevices(t *testing.T) {
	for _, tt := range []struct {
		rules []specs.LinuxDeviceCgroup
		want  bool
	}{
		{nil, false},
		{[]specs.LinuxDeviceCgroup{dev(true, "a", -1, -1, "rwm")}, false},
		{[]specs.LinuxDeviceCgroup{denyAll}, true},
		{[]specs.LinuxDeviceCgroup{{Type: "x"}}, true},
	} {
		if got := wantsDevices(&specs.LinuxResources{Devices: tt.rules}); got != tt.want {
			t.Errorf("wantsDevices(%v) = %v, want %v", tt.rules, got, tt.want)
		}
	}
}

// TestCreateWritesDevices: the devices hierarchy gets a directory like the
// others, removed again by Destroy; without the hierarchy, device rules are
// refused.
func TestCreateWritesDevices(t *testing.T) {
	f := &fake{}
	l := newLayout(t, "memory", "devices")
	m := newTestManager(t, f, l)
	r := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{denyAll, dev(true, "c", 1, 3, "rwm")}}
	if err := m.Create(r); err != nil {
		t.Fatal(err)
	}
	if m.Path("devices") != l.dirs["devices"] {
		t.Errorf("Path(devices) = %q, want %q", m.Path("devices"), l.dirs["devices"])
	}
	if got := cgfstest.ReadFile(t, l.dirs["devices"], devicesDeny); got != "a" {
		t.Errorf("%s = %q, want a", devicesDeny, got)
	}
	if got := cgfstest.ReadFile(t, l.dirs["devices"], devicesAllow); got != "c 1:3 rwm" {
		t.Errorf("%s = %q, want c 1:3 rwm", devicesAllow, got)
	}
	if err := m.Update(&specs.LinuxResources{Devices: r.Devices}); err == nil || !strings.Contains(err.Error(), "cannot be updated") {
		t.Errorf("Update of device rules = %v, want a refusal", err)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if cgfstest.Exists(l.dirs["devices"]) {
		t.Error("the devices directory is left after Destroy")
	}

	m = newTestManager(t, &fake{}, newLayout(t, "memory"))
	if err := m.Create(r); err == nil || !strings.Contains(err.Error(), "no devices hierarchy") {
		t.Errorf("Create without a devices hierarchy = %v, want a refusal", err)
	}
}
