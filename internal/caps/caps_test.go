package caps

import (
	"strings"
	"testing"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestLookup(t *testing.T) {
	for name, want := range map[string]capability.Cap{
		"CAP_CHOWN":              capability.CAP_CHOWN,
		"CAP_NET_BIND_SERVICE":   capability.CAP_NET_BIND_SERVICE,
		"CAP_SYS_ADMIN":          capability.CAP_SYS_ADMIN,
		"CAP_CHECKPOINT_RESTORE": capability.CAP_CHECKPOINT_RESTORE,
	} {
		if got, ok := Lookup(name); !ok || got != want {
			t.Errorf("Lookup(%q) = %v, %v; want %v", name, got, ok, want)
		}
		if Name(want) != name {
			t.Errorf("Name(%v) = %q, want %q", want, Name(want), name)
		}
	}
	for _, bad := range []string{"chown", "CAP_chown", "CHOWN", "CAP_NOPE", ""} {
		if _, ok := Lookup(bad); ok {
			t.Errorf("Lookup(%q) succeeded", bad)
		}
	}
	if n := len(Names()); n < 41 {
		t.Errorf("Names() has %d names, want at least 41", n)
	}
}

func TestParse(t *testing.T) {
	s, err := Parse(&specs.LinuxCapabilities{
		Bounding:  []string{"CAP_CHOWN", "CAP_KILL"},
		Effective: []string{"CAP_KILL"},
		Permitted: []string{"CAP_KILL", "CAP_KILL"},
		Ambient:   []string{"CAP_KILL"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Ambient CAP_KILL is not inheritable: skipped, as runc does.
	if s.Bounding != 1<<0|1<<5 || s.Effective != 1<<5 || s.Permitted != 1<<5 || s.Inheritable != 0 || s.Ambient != 0 {
		t.Errorf("Parse = %+v", s)
	}
	if got := s.Bounding.String(); got != "CAP_CHOWN, CAP_KILL" {
		t.Errorf("String = %q", got)
	}
	_, err = Parse(&specs.LinuxCapabilities{Inheritable: []string{"CAP_CHOWN", "CAP_NOPE"}})
	if err == nil || !strings.Contains(err.Error(), `"CAP_NOPE"`) || !strings.Contains(err.Error(), "process.capabilities.inheritable") {
		t.Errorf("unknown name: err = %v, want one naming CAP_NOPE and the list", err)
	}
	if s, err := Parse(nil); err != nil || s != (Sets{}) {
		t.Errorf("Parse(nil) = %+v, %v", s, err)
	}
}

func TestCheck(t *testing.T) {
	const last = capability.CAP_CHECKPOINT_RESTORE
	all := Mask(1<<(uint(last)+1) - 1)
	// What this kind of host gives the runtime: everything but
	// CAP_SYS_RESOURCE.
	have := Sets{Bounding: all, Effective: all, Permitted: all}
	have.Bounding &^= maskOf(capability.CAP_SYS_RESOURCE)
	have.Effective &^= maskOf(capability.CAP_SYS_RESOURCE)
	have.Permitted &^= maskOf(capability.CAP_SYS_RESOURCE)
	kill := maskOf(capability.CAP_KILL)
	for _, tc := range []struct {
		name string
		want Sets
		err  string // "" for no error
	}{
		{"docker-like", Sets{Bounding: kill, Effective: kill, Permitted: kill, Inheritable: kill}, ""},
		{"ambient", Sets{Bounding: kill, Effective: kill, Permitted: kill, Inheritable: kill, Ambient: kill}, ""},
		{"nothing", Sets{}, ""},
		{"withheld bounding", Sets{Bounding: maskOf(capability.CAP_SYS_RESOURCE)}, "bounding: CAP_SYS_RESOURCE is not in the runtime's own bounding set"},
		{"withheld effective", Sets{Bounding: kill, Effective: maskOf(capability.CAP_SYS_RESOURCE)}, "effective: CAP_SYS_RESOURCE is not in the runtime's own permitted set"},
		{"withheld permitted", Sets{Permitted: maskOf(capability.CAP_SYS_RESOURCE, capability.CAP_KILL)}, "permitted: CAP_SYS_RESOURCE is not"},
		{"effective not permitted", Sets{Effective: kill}, "effective: CAP_KILL is not in process.capabilities.permitted"},
		{"inheritable outside bounding", Sets{Inheritable: kill}, "inheritable: CAP_KILL is not in process.capabilities.bounding"},
		{"beyond the kernel", Sets{Bounding: maskOf(last + 1)}, "not supported by this kernel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.want.Check(have, last)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Check: err = %v, want one containing %q", err, tc.err)
			}
		})
	}
}

func TestMaskCaps(t *testing.T) {
	m := maskOf(capability.CAP_CHOWN, capability.CAP_SYS_ADMIN, capability.CAP_CHECKPOINT_RESTORE)
	got := m.Caps()
	if len(got) != 3 || got[0] != capability.CAP_CHOWN || got[1] != capability.CAP_SYS_ADMIN || got[2] != capability.CAP_CHECKPOINT_RESTORE {
		t.Errorf("Caps = %v", got)
	}
	if !m.Has(capability.CAP_SYS_ADMIN) || m.Has(capability.CAP_KILL) {
		t.Error("Has is wrong")
	}
}

// TestCurrent reads this thread's sets; whatever they are, the thread's own
// sets pass the check.
func TestCurrent(t *testing.T) {
	have, err := Current()
	if err != nil {
		t.Fatal(err)
	}
	last, err := capability.LastCap()
	if err != nil {
		t.Fatal(err)
	}
	want := have
	want.Ambient &= want.Permitted & want.Inheritable
	want.Effective &= want.Permitted
	want.Inheritable &= want.Bounding | have.Inheritable
	if err := want.Check(have, last); err != nil {
		t.Errorf("the thread's own sets fail the check: %v", err)
	}
}
