// Package devices reads linux.resources.devices, a container's device
// access rules, into the form that both cgroup drivers enforce: v1 through
// the devices hierarchy's devices.allow and devices.deny (v1/devices.go), v2
// through an eBPF program attached to the container's cgroup
// (v2/devicefilter.go).
//
// What a rule list means, on both drivers (Allowed is the reference):
// before the first rule every access is allowed, as far as the cgroups
// above allow it; the rules are then taken in order, each allowing or
// denying its access types (r read, w write, m mknod) on the devices it
// names; for each access type, the last rule that names it decides. So a
// list that starts with a deny-all ("a", any major and minor, "rwm") allows
// only what later rules allow, and a later rule can take back part of an
// earlier one. An access may ask for several types at once (an open for
// reading and writing asks for r and w); it is allowed when each is.
package devices

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Access is a set of access types. The bits are those of the kernel's
// BPF_DEVCG_ACC_* (mknod 1, read 2, write 4).
type Access uint8

// The access types.
const (
	Mknod Access = 1 << iota
	Read
	Write
	// AllAccess is "rwm".
	AllAccess = Mknod | Read | Write
)

// accessLetters are the letters of the access types, in the order v1 writes
// them.
var accessLetters = []struct {
	letter byte
	access Access
}{{'r', Read}, {'w', Write}, {'m', Mknod}}

// String is the access as in the spec and in v1's files: "rwm", "r", "m".
func (a Access) String() string {
	var b strings.Builder
	for _, l := range accessLetters {
		if a&l.access != 0 {
			b.WriteByte(l.letter)
		}
	}
	return b.String()
}

// ParseAccess reads an access string of the letters r, w and m.
func ParseAccess(s string) (Access, error) {
	if s == "" {
		return 0, errors.New("access is empty (want some of r, w, m)")
	}
	var a Access
next:
	for i := 0; i < len(s); i++ {
		for _, l := range accessLetters {
			if s[i] == l.letter {
				a |= l.access
				continue next
			}
		}
		return 0, fmt.Errorf("access %q: unknown letter %q (want some of r, w, m)", s, s[i])
	}
	return a, nil
}

// Type is a device type as the rules name it.
type Type byte

// The device types of rules: a (all) matches both character and block
// devices.
const (
	AllTypes Type = 'a'
	Char     Type = 'c'
	Block    Type = 'b'
)

// ErrUpdate is the answer of the drivers' Update to device rules: they are
// written at Create only.
var ErrUpdate = errors.New("the device rules (linux.resources.devices) cannot be updated: they are set when the container is created")

// Wildcard as a major or minor number matches every number ("*").
const Wildcard int64 = -1

// Rule is one device rule.
type Rule struct {
	Allow  bool
	Type   Type
	Major  int64 // Wildcard for any
	Minor  int64 // Wildcard for any
	Access Access
}

// String is the rule as v1's devices.allow and devices.deny take it, and as
// the spec's fields read: "c 1:3 rwm", "b 8:* r", "a *:* rwm".
func (r Rule) String() string {
	return fmt.Sprintf("%c %s:%s %s", r.Type, number(r.Major), number(r.Minor), r.Access)
}

func number(n int64) string {
	if n == Wildcard {
		return "*"
	}
	return strconv.FormatInt(n, 10)
}

// IsAll reports whether r speaks of every access to every device (a deny-all
// or allow-all): it decides everything by itself.
func (r Rule) IsAll() bool {
	return r.Type == AllTypes && r.Major == Wildcard && r.Minor == Wildcard && r.Access == AllAccess
}

// Matches reports whether r names the device of type t (Char or Block) and
// numbers major:minor.
func (r Rule) Matches(t Type, major, minor int64) bool {
	return (r.Type == AllTypes || r.Type == t) &&
		(r.Major == Wildcard || r.Major == major) &&
		(r.Minor == Wildcard || r.Minor == minor)
}

// Parse checks the spec's rules and returns them as Rules, in order. An
// unset type is "a" (all), an unset major or minor (or -1, as runc treats
// it) is the wildcard. Errors name the rule: "linux.resources.devices[2]:
// ...".
func Parse(spec []specs.LinuxDeviceCgroup) ([]Rule, error) {
	rules := make([]Rule, 0, len(spec))
	for i, d := range spec {
		r, err := parseRule(d)
		if err != nil {
			return nil, fmt.Errorf("linux.resources.devices[%d]: %w", i, err)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func parseRule(d specs.LinuxDeviceCgroup) (Rule, error) {
	r := Rule{Allow: d.Allow, Type: AllTypes, Major: Wildcard, Minor: Wildcard}
	switch d.Type {
	case "", "a":
	case "c":
		r.Type = Char
	case "b":
		r.Type = Block
	default:
		return Rule{}, fmt.Errorf("type %q: want a, c or b", d.Type)
	}
	var err error
	if r.Major, err = deviceNumber("major", d.Major); err != nil {
		return Rule{}, err
	}
	if r.Minor, err = deviceNumber("minor", d.Minor); err != nil {
		return Rule{}, err
	}
	if r.Access, err = ParseAccess(d.Access); err != nil {
		return Rule{}, err
	}
	return r, nil
}

// deviceNumber is a major or minor number of the spec: nil or -1 is the
// wildcard; the kernel's numbers are far below 2^31 (12 bits of major, 20
// of minor).
func deviceNumber(what string, n *int64) (int64, error) {
	switch {
	case n == nil || *n == Wildcard:
		return Wildcard, nil
	case *n < 0 || *n > math.MaxInt32:
		return 0, fmt.Errorf("%s %d is out of range", what, *n)
	}
	return *n, nil
}

// Allowed reports whether rules allow every access type in want on the
// device of type t (Char or Block) and numbers major:minor, by the meaning
// given in the package documentation.
func Allowed(rules []Rule, t Type, major, minor int64, want Access) bool {
	allowed := AllAccess
	for _, r := range rules {
		if !r.Matches(t, major, minor) {
			continue
		}
		if r.Allow {
			allowed |= r.Access
		} else {
			allowed &^= r.Access
		}
	}
	return want&^allowed == 0
}

// Restricts reports whether rules deny anything at all: false for no rules
// or only allowing ones, which need no device cgroup to be honoured.
func Restricts(rules []Rule) bool {
	for _, r := range rules {
		if !r.Allow {
			return true
		}
	}
	return false
}
