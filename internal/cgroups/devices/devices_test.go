package devices

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func i64(n int64) *int64 { return &n }

func TestParse(t *testing.T) {
	got, err := Parse([]specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"},
		{Allow: true, Type: "c", Major: i64(136), Access: "wr"},
		{Allow: false, Type: "b", Major: i64(-1), Minor: i64(0), Access: "mm"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a *:* rwm", "c 1:3 rwm", "c 136:* rw", "b *:0 m"}
	if len(got) != len(want) {
		t.Fatalf("Parse = %v, want %v", got, want)
	}
	for i, r := range got {
		if r.String() != want[i] {
			t.Errorf("rule %d = %q, want %q", i, r, want[i])
		}
	}
	if got[0].Allow || !got[1].Allow || !got[0].IsAll() || got[1].IsAll() {
		t.Errorf("Parse = %+v", got)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tt := range []struct {
		rule specs.LinuxDeviceCgroup
		want string
	}{
		{specs.LinuxDeviceCgroup{Type: "p", Access: "r"}, `devices[1]: type "p"`},
		{specs.LinuxDeviceCgroup{Type: "c", Access: ""}, "devices[1]: access is empty"},
		{specs.LinuxDeviceCgroup{Type: "c", Access: "rx"}, `unknown letter 'x'`},
		{specs.LinuxDeviceCgroup{Type: "c", Major: i64(-2), Access: "r"}, "major -2 is out of range"},
		{specs.LinuxDeviceCgroup{Type: "c", Minor: i64(1 << 40), Access: "r"}, "minor 1099511627776 is out of range"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			_, err := Parse([]specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}, tt.rule})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestAllowed(t *testing.T) {
	denyAll := Rule{Type: AllTypes, Major: Wildcard, Minor: Wildcard, Access: AllAccess}
	allow := func(t Type, major, minor int64, a Access) Rule {
		return Rule{Allow: true, Type: t, Major: major, Minor: minor, Access: a}
	}
	deny := func(t Type, major, minor int64, a Access) Rule {
		return Rule{Type: t, Major: major, Minor: minor, Access: a}
	}
	tests := []struct {
		name         string
		rules        []Rule
		t            Type
		major, minor int64
		want         Access
		allowed      bool
	}{
		{"no rules", nil, Block, 8, 0, Read, true},
		{"deny all", []Rule{denyAll}, Char, 1, 3, Read, false},
		{"deny all, allow it", []Rule{denyAll, allow(Char, 1, 3, AllAccess)}, Char, 1, 3, Read | Write, true},
		{"deny all, allow another", []Rule{denyAll, allow(Char, 1, 3, AllAccess)}, Char, 1, 5, Read, false},
		{"type matters", []Rule{denyAll, allow(Char, 8, 0, AllAccess)}, Block, 8, 0, Read, false},
		{"wildcard minor", []Rule{denyAll, allow(Char, 136, Wildcard, AllAccess)}, Char, 136, 7, Write, true},
		{"only some access", []Rule{denyAll, allow(Char, 1, 3, Read)}, Char, 1, 3, Read | Write, false},
		{"access from two rules", []Rule{denyAll, allow(Char, 1, 3, Read), allow(Char, 1, 3, Write)}, Char, 1, 3, Read | Write, true},
		{"later deny wins", []Rule{denyAll, allow(Char, Wildcard, Wildcard, AllAccess), deny(Char, 1, 5, Read)}, Char, 1, 5, Read, false},
		{"later deny of another type", []Rule{denyAll, allow(Char, Wildcard, Wildcard, AllAccess), deny(Char, 1, 5, Read)}, Char, 1, 5, Write, true},
		{"later allow wins", []Rule{deny(AllTypes, 1, Wildcard, AllAccess), allow(Char, 1, 5, Read)}, Char, 1, 5, Read, true},
		{"deny list only", []Rule{deny(Char, 1, 5, AllAccess)}, Char, 1, 3, Read, true},
		{"allow all at the end", []Rule{denyAll, {Allow: true, Type: AllTypes, Major: Wildcard, Minor: Wildcard, Access: AllAccess}}, Block, 8, 0, Read, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Allowed(tt.rules, tt.t, tt.major, tt.minor, tt.want); got != tt.allowed {
				t.Errorf("Allowed(%c %d:%d %s) = %v, want %v", tt.t, tt.major, tt.minor, tt.want, got, tt.allowed)
			}
		})
	}
}

func TestRestricts(t *testing.T) {
	if Restricts(nil) || Restricts([]Rule{{Allow: true, Type: AllTypes, Major: Wildcard, Minor: Wildcard, Access: AllAccess}}) {
		t.Error("allowing rules restrict")
	}
	if !Restricts([]Rule{{Type: Char, Major: 1, Minor: 5, Access: Read}}) {
		t.Error("a deny rule does not restrict")
	}
}
