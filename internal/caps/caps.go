// Package caps resolves process.capabilities for the container's init: the
// spec's names through a table (Parse: the sets as masks, which the plan
// carries), and a check against what the runtime itself holds (so that a
// capability this host withholds is an error naming it, not a silent
// gap). The init applies them in the order that survives setuid: the
// bounding set while still root (needs CAP_SETPCAP); setgroups, setgid,
// setuid with PR_SET_KEEPCAPS; then capset effective/permitted/
// inheritable, then ambient (package initproc's FinalPlanSteps).
package caps

import (
	"fmt"
	"math/bits"
	"sort"
	"strings"
	"sync"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Mask is a capability set as a bit mask: bit N is capability N.
type Mask uint64

// Has reports whether c is in the set.
func (m Mask) Has(c capability.Cap) bool { return m&(1<<uint(c)) != 0 }

// Caps lists the set's capabilities in ascending order.
func (m Mask) Caps() []capability.Cap {
	var out []capability.Cap
	for m != 0 {
		c := bits.TrailingZeros64(uint64(m))
		out = append(out, capability.Cap(c))
		m &^= 1 << uint(c)
	}
	return out
}

// are is the set named as the subject of a sentence ("CAP_KILL is",
// "CAP_CHOWN, CAP_KILL are").
func (m Mask) are() string {
	if bits.OnesCount64(uint64(m)) == 1 {
		return m.String() + " is"
	}
	return m.String() + " are"
}

// String names the set's capabilities ("CAP_CHOWN, CAP_KILL").
func (m Mask) String() string {
	var names []string
	for _, c := range m.Caps() {
		names = append(names, Name(c))
	}
	return strings.Join(names, ", ")
}

func maskOf(cs ...capability.Cap) Mask {
	var m Mask
	for _, c := range cs {
		m |= 1 << uint(c)
	}
	return m
}

// Sets are the five capability sets of a thread, or of process.capabilities.
type Sets struct {
	Bounding, Effective, Permitted, Inheritable, Ambient Mask
}

// kinds is the table of the spec's five lists: field name -> its list and
// its mask in Sets.
var kinds = []struct {
	field string
	list  func(*specs.LinuxCapabilities) []string
	mask  func(*Sets) *Mask
}{
	{"bounding", func(c *specs.LinuxCapabilities) []string { return c.Bounding }, func(s *Sets) *Mask { return &s.Bounding }},
	{"effective", func(c *specs.LinuxCapabilities) []string { return c.Effective }, func(s *Sets) *Mask { return &s.Effective }},
	{"permitted", func(c *specs.LinuxCapabilities) []string { return c.Permitted }, func(s *Sets) *Mask { return &s.Permitted }},
	{"inheritable", func(c *specs.LinuxCapabilities) []string { return c.Inheritable }, func(s *Sets) *Mask { return &s.Inheritable }},
	{"ambient", func(c *specs.LinuxCapabilities) []string { return c.Ambient }, func(s *Sets) *Mask { return &s.Ambient }},
}

// byName is the table of capability names as the spec writes them
// ("CAP_CHOWN") -> capability, for every capability the library knows.
// Built at its first use, not at init: every command pays an init.
var byName = sync.OnceValue(func() map[string]capability.Cap {
	m := make(map[string]capability.Cap, len(capability.ListKnown()))
	for _, c := range capability.ListKnown() {
		m[Name(c)] = c
	}
	return m
})

// Name is the spec's name of c ("CAP_CHOWN").
func Name(c capability.Cap) string { return "CAP_" + strings.ToUpper(c.String()) }

// Lookup resolves a spec name ("CAP_NET_ADMIN") to its capability.
func Lookup(name string) (capability.Cap, bool) {
	c, ok := byName()[name]
	return c, ok
}

// Parse resolves process.capabilities. A list that is absent is an empty
// set (as runc reads it): the spec says which capabilities are kept. An
// unknown name is an error naming it and its list.
func Parse(c *specs.LinuxCapabilities) (Sets, error) {
	var s Sets
	if c == nil {
		return s, nil
	}
	for _, k := range kinds {
		m := k.mask(&s)
		for _, name := range k.list(c) {
			cp, ok := Lookup(name)
			if !ok {
				return s, fmt.Errorf("process.capabilities.%s: unknown capability %q (want a name such as CAP_CHOWN, see capabilities(7))", k.field, name)
			}
			*m |= maskOf(cp)
		}
	}
	// The kernel raises an ambient capability only when it is both
	// permitted and inheritable. runc and crun skip the others (runc
	// spec's own config lists ambient capabilities that are not
	// inheritable); so do we.
	s.Ambient &= s.Permitted & s.Inheritable
	return s, nil
}

// Current reads the calling thread's five sets.
func Current() (Sets, error) {
	var s Sets
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return s, fmt.Errorf("capget: %w", err)
	}
	s.Effective = Mask(data[0].Effective) | Mask(data[1].Effective)<<32
	s.Permitted = Mask(data[0].Permitted) | Mask(data[1].Permitted)<<32
	s.Inheritable = Mask(data[0].Inheritable) | Mask(data[1].Inheritable)<<32
	last, err := capability.LastCap()
	if err != nil {
		return s, err
	}
	for c := capability.Cap(0); c <= last; c++ {
		in, err := capability.GetBound(c)
		if err != nil {
			return s, fmt.Errorf("read bounding set (%s): %w", Name(c), err)
		}
		if in {
			s.Bounding |= maskOf(c)
		}
		amb, err := capability.GetAmbient(c)
		if err != nil {
			return s, fmt.Errorf("read ambient set (%s): %w", Name(c), err)
		}
		if amb {
			s.Ambient |= maskOf(c)
		}
	}
	return s, nil
}

// Check reports, as an error naming the list and the capability, what of
// want cannot be granted by a thread that holds have on a kernel whose
// highest capability is last.
func (want Sets) Check(have Sets, last capability.Cap) error {
	supported := Mask(1<<(uint(last)+1) - 1)
	for _, k := range kinds {
		if bad := *k.mask(&want) &^ supported; bad != 0 {
			return fmt.Errorf("process.capabilities.%s: %s not supported by this kernel (its last capability is %s)", k.field, bad.are(), Name(last))
		}
	}
	withheld := func(field string, m Mask, set string) error {
		return fmt.Errorf("process.capabilities.%s: %s not in the runtime's own %s set (withheld from the runtime on this host), so the container cannot be given it", field, m.are(), set)
	}
	if bad := want.Bounding &^ have.Bounding; bad != 0 {
		return withheld("bounding", bad, "bounding")
	}
	if bad := want.Permitted &^ have.Permitted; bad != 0 {
		return withheld("permitted", bad, "permitted")
	}
	if bad := want.Effective &^ have.Permitted; bad != 0 {
		return withheld("effective", bad, "permitted")
	}
	if bad := want.Effective &^ want.Permitted; bad != 0 {
		return fmt.Errorf("process.capabilities.effective: %s not in process.capabilities.permitted (an effective capability must be permitted)", bad.are())
	}
	if bad := want.Inheritable &^ (have.Inheritable | have.Permitted); bad != 0 {
		return withheld("inheritable", bad, "permitted")
	}
	if bad := want.Inheritable &^ (have.Inheritable | want.Bounding); bad != 0 {
		return fmt.Errorf("process.capabilities.inheritable: %s not in process.capabilities.bounding (a capability outside the bounding set cannot be made inheritable)", bad.are())
	}
	return nil
}

// CheckCurrent checks want against the calling thread.
func (want Sets) CheckCurrent() error {
	have, err := Current()
	if err != nil {
		return err
	}
	last, err := capability.LastCap()
	if err != nil {
		return err
	}
	return want.Check(have, last)
}

// Names lists every name Lookup knows, sorted.
func Names() []string {
	out := make([]string, 0, len(byName()))
	for n := range byName() {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
