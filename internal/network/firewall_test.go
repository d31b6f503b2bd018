package network

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// fakeFilter is a filter table in memory, which iptables-save prints and
// iptables-restore --noflush changes (the commands our batches use).
type fakeFilter struct {
	chains  []string            // in the order made
	rules   map[string][]string // chain: its rules' specs
	batches int
}

func newFakeFilter() *fakeFilter {
	return &fakeFilter{chains: []string{"INPUT", "FORWARD", "OUTPUT"}, rules: map[string][]string{
		"FORWARD": {"-i host0 -j ACCEPT"}, // the host's own
	}}
}

func (f *fakeFilter) run(tool string, stdin []byte, args ...string) ([]byte, error) {
	switch tool {
	case "iptables-save":
		var b strings.Builder
		b.WriteString("*filter\n")
		for _, c := range f.chains {
			fmt.Fprintf(&b, ":%s - [0:0]\n", c)
		}
		for _, c := range f.chains {
			for _, r := range f.rules[c] {
				fmt.Fprintf(&b, "-A %s %s\n", c, r)
			}
		}
		b.WriteString("COMMIT\n")
		return []byte(b.String()), nil
	case "iptables-restore":
		f.batches++
		for _, line := range strings.Split(strings.TrimSpace(string(stdin)), "\n") {
			if err := f.apply(line); err != nil {
				return nil, fmt.Errorf("%q: %w", line, err)
			}
		}
		return nil, nil
	}
	return nil, fmt.Errorf("no %s", tool)
}

func (f *fakeFilter) apply(line string) error {
	if line == "*filter" || line == "COMMIT" {
		return nil
	}
	if name, ok := strings.CutPrefix(line, ":"); ok {
		name, _, _ = strings.Cut(name, " ")
		if !slices.Contains(f.chains, name) {
			f.chains = append(f.chains, name)
		}
		f.rules[name] = nil // declaring a chain flushes it
		return nil
	}
	op, rest, _ := strings.Cut(line, " ")
	chain, spec, _ := strings.Cut(rest, " ")
	if !slices.Contains(f.chains, chain) {
		return fmt.Errorf("no chain %s", chain)
	}
	switch op {
	case "-A":
		f.rules[chain] = append(f.rules[chain], spec)
	case "-I":
		spec = strings.TrimPrefix(spec, "1 ")
		f.rules[chain] = append([]string{spec}, f.rules[chain]...)
	case "-D":
		i := slices.Index(f.rules[chain], spec)
		if i < 0 {
			return fmt.Errorf("no rule %s in %s", spec, chain)
		}
		f.rules[chain] = slices.Delete(f.rules[chain], i, i+1)
	case "-F":
		f.rules[chain] = nil
	case "-X":
		if len(f.rules[chain]) > 0 {
			return fmt.Errorf("chain %s not empty", chain)
		}
		f.chains = slices.DeleteFunc(f.chains, func(c string) bool { return c == chain })
	default:
		return fmt.Errorf("unknown command %s", op)
	}
	return nil
}

// TestFirewall: network create adds our chains, the jumps to them (first
// in FORWARD and INPUT) and the network's rules (an internal network's
// drops ahead of the published ports' RETURN, every network's stage-1
// jump after it); adding again changes nothing; network rm takes a
// network's rules away, and the last one's the chains and jumps too,
// leaving the host's rules as they were.
func TestFirewall(t *testing.T) {
	f := newFakeFilter()
	s := Open(t.TempDir())
	s.iptables = f.run
	a, err := s.Create(Request{Name: "a", Subnet: netip.MustParsePrefix("10.200.0.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	in, err := s.Create(Request{Name: "in", Subnet: netip.MustParsePrefix("10.201.0.0/24"), Internal: true})
	if err != nil {
		t.Fatal(err)
	}
	ba, bi := a.Bridge(), in.Bridge()
	want := map[string][]string{
		"FORWARD": {"-j MINIMAL-DOCKER-ISOLATION-1", "-i host0 -j ACCEPT"},
		"INPUT":   {"-j MINIMAL-DOCKER-INPUT"},
		"MINIMAL-DOCKER-ISOLATION-1": {
			"! -i " + bi + " -o " + bi + " -j DROP",
			"-i " + bi + " ! -o " + bi + " -j DROP",
			"-m conntrack --ctstate DNAT -j RETURN",
			"-i " + ba + " ! -o " + ba + " -j MINIMAL-DOCKER-ISOLATION-2",
			"-i " + bi + " ! -o " + bi + " -j MINIMAL-DOCKER-ISOLATION-2",
		},
		"MINIMAL-DOCKER-ISOLATION-2": {"-o " + ba + " -j DROP", "-o " + bi + " -j DROP"},
		"MINIMAL-DOCKER-INPUT": {
			"-d 127.0.0.0/8 -i " + ba + " -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
			"-d 127.0.0.0/8 -i " + bi + " -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
		},
	}
	check := func(when string, want map[string][]string) {
		t.Helper()
		for _, c := range f.chains {
			if !slices.Equal(f.rules[c], want[c]) {
				t.Errorf("%s: chain %s:\n%s\nwant:\n%s", when, c, strings.Join(f.rules[c], "\n"), strings.Join(want[c], "\n"))
			}
		}
		for c := range want {
			if !slices.Contains(f.chains, c) {
				t.Errorf("%s: no chain %s", when, c)
			}
		}
	}
	check("after two creates", want)

	batches := f.batches
	if err := s.firewallUp(a); err != nil {
		t.Fatal(err)
	}
	if f.batches != batches {
		t.Errorf("firewallUp of a network whose rules are there ran iptables-restore")
	}
	// After a reboot (no rules): an attach puts them back.
	*f = *newFakeFilter()
	if err := s.firewallUp(a); err != nil {
		t.Fatal(err)
	}
	if err := s.firewallUp(in); err != nil {
		t.Fatal(err)
	}
	check("after the rules were lost and put back", want)

	if err := s.Remove(in, nil); err != nil {
		t.Fatal(err)
	}
	check("after rm of the internal network", map[string][]string{
		"FORWARD":                    want["FORWARD"],
		"INPUT":                      want["INPUT"],
		"MINIMAL-DOCKER-ISOLATION-1": {"-m conntrack --ctstate DNAT -j RETURN", want["MINIMAL-DOCKER-ISOLATION-1"][3]},
		"MINIMAL-DOCKER-ISOLATION-2": want["MINIMAL-DOCKER-ISOLATION-2"][:1],
		"MINIMAL-DOCKER-INPUT":       want["MINIMAL-DOCKER-INPUT"][:1],
	})
	if err := s.Remove(a, nil); err != nil {
		t.Fatal(err)
	}
	check("after rm of the last network", newFakeFilter().rules)
	if !slices.Equal(f.chains, newFakeFilter().chains) {
		t.Errorf("chains after rm of the last network: %v", f.chains)
	}
	// Removing what is gone already changes nothing.
	batches = f.batches
	if err := s.firewallDown(a); err != nil {
		t.Fatal(err)
	}
	if f.batches != batches {
		t.Errorf("firewallDown with no rules left ran iptables-restore")
	}
}
