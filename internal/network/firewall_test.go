package network

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeTables are the filter and nat tables in memory, which
// iptables-save prints and iptables-restore --noflush changes (the
// commands our batches use).
type fakeTables struct {
	tables  map[string]*fakeTable
	batches int
}

type fakeTable struct {
	chains []string            // in the order made
	rules  map[string][]string // chain: its rules' specs
}

func newFakeTables() *fakeTables {
	return &fakeTables{tables: map[string]*fakeTable{
		"filter": {chains: []string{"INPUT", "FORWARD", "OUTPUT"}, rules: map[string][]string{
			"FORWARD": {"-i host0 -j ACCEPT"}, // the host's own
		}},
		"nat": {chains: []string{"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"}, rules: map[string][]string{
			"POSTROUTING": {"-s 192.168.9.0/24 -j MASQUERADE"}, // the host's own
		}},
	}}
}

func (f *fakeTables) run(tool string, stdin []byte, args ...string) ([]byte, error) {
	switch tool {
	case "iptables-save":
		var b strings.Builder
		for _, name := range []string{"filter", "nat"} {
			t := f.tables[name]
			fmt.Fprintf(&b, "*%s\n", name)
			for _, c := range t.chains {
				fmt.Fprintf(&b, ":%s - [0:0]\n", c)
			}
			for _, c := range t.chains {
				for _, r := range t.rules[c] {
					fmt.Fprintf(&b, "-A %s %s\n", c, r)
				}
			}
			b.WriteString("COMMIT\n")
		}
		return []byte(b.String()), nil
	case "iptables-restore":
		f.batches++
		var t *fakeTable
		for _, line := range strings.Split(strings.TrimSpace(string(stdin)), "\n") {
			if name, ok := strings.CutPrefix(line, "*"); ok {
				if t = f.tables[name]; t == nil {
					return nil, fmt.Errorf("no table %s", name)
				}
				continue
			}
			if t == nil {
				return nil, fmt.Errorf("%q before a table", line)
			}
			if err := t.apply(line); err != nil {
				return nil, fmt.Errorf("%q: %w", line, err)
			}
		}
		return nil, nil
	}
	return nil, fmt.Errorf("no %s", tool)
}

func (f *fakeTable) apply(line string) error {
	if line == "COMMIT" {
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
// in FORWARD, the admin's chain ahead of the isolation, INPUT and nat's
// POSTROUTING) and the network's rules (an
// internal network's drops ahead of the published ports' RETURN, every
// network's stage-1 jump after it; a drop of new connections into a
// bridge from elsewhere, but an internal one's, which drops them all; a
// masquerade for each network but an internal one); adding again changes nothing; network rm takes a
// network's rules away, and the last one's the chains and jumps too,
// leaving the host's rules as they were.
func TestFirewall(t *testing.T) {
	f := newFakeTables()
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
	want := map[string]map[string][]string{
		"filter": {
			"FORWARD":             {"-j MINIMAL-DOCKER-USER", "-j MINIMAL-DOCKER-ISOLATION-1", "-i host0 -j ACCEPT"},
			"INPUT":               {"-j MINIMAL-DOCKER-INPUT"},
			"MINIMAL-DOCKER-USER": nil, // the admin's, empty
			"MINIMAL-DOCKER-ISOLATION-1": {
				"! -i " + bi + " -o " + bi + " -j DROP",
				"-i " + bi + " ! -o " + bi + " -j DROP",
				"-m conntrack --ctstate DNAT -j RETURN",
				"! -i " + ba + " -o " + ba + " -m conntrack ! --ctstate RELATED,ESTABLISHED -j DROP",
				"-i " + ba + " ! -o " + ba + " -j MINIMAL-DOCKER-ISOLATION-2",
				"-i " + bi + " ! -o " + bi + " -j MINIMAL-DOCKER-ISOLATION-2",
			},
			"MINIMAL-DOCKER-ISOLATION-2": {"-o " + ba + " -j DROP", "-o " + bi + " -j DROP"},
			"MINIMAL-DOCKER-INPUT": {
				"-d 127.0.0.0/8 -i " + ba + " -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
				"-d 127.0.0.0/8 -i " + bi + " -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
			},
		},
		"nat": {
			"POSTROUTING":                {"-j MINIMAL-DOCKER-POSTROUTING", "-s 192.168.9.0/24 -j MASQUERADE"},
			"MINIMAL-DOCKER-POSTROUTING": {"-s 10.200.0.0/24 ! -o " + ba + " -j MASQUERADE"},
		},
	}
	check := func(when string, want map[string]map[string][]string) {
		t.Helper()
		for name, tb := range f.tables {
			for _, c := range tb.chains {
				if !slices.Equal(tb.rules[c], want[name][c]) {
					t.Errorf("%s: %s chain %s:\n%s\nwant:\n%s", when, name, c, strings.Join(tb.rules[c], "\n"), strings.Join(want[name][c], "\n"))
				}
			}
			for c := range want[name] {
				if !slices.Contains(tb.chains, c) {
					t.Errorf("%s: no %s chain %s", when, name, c)
				}
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
	*f = *newFakeTables()
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
	wf := want["filter"]
	check("after rm of the internal network", map[string]map[string][]string{
		"filter": {
			"FORWARD":                    wf["FORWARD"],
			"INPUT":                      wf["INPUT"],
			"MINIMAL-DOCKER-USER":        nil,
			"MINIMAL-DOCKER-ISOLATION-1": {"-m conntrack --ctstate DNAT -j RETURN", wf["MINIMAL-DOCKER-ISOLATION-1"][3], wf["MINIMAL-DOCKER-ISOLATION-1"][4]},
			"MINIMAL-DOCKER-ISOLATION-2": wf["MINIMAL-DOCKER-ISOLATION-2"][:1],
			"MINIMAL-DOCKER-INPUT":       wf["MINIMAL-DOCKER-INPUT"][:1],
		},
		"nat": want["nat"],
	})
	if err := s.Remove(a, nil); err != nil {
		t.Fatal(err)
	}
	host := newFakeTables()
	check("after rm of the last network", map[string]map[string][]string{"filter": host.tables["filter"].rules, "nat": host.tables["nat"].rules})
	for name, tb := range f.tables {
		if !slices.Equal(tb.chains, host.tables[name].chains) {
			t.Errorf("%s chains after rm of the last network: %v", name, tb.chains)
		}
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

// TestFirewallInternalLast: the masquerade chain goes with the last
// network when that one is internal (no rule of its own in nat).
func TestFirewallInternalLast(t *testing.T) {
	f := newFakeTables()
	s := Open(t.TempDir())
	s.iptables = f.run
	in, err := s.Create(Request{Name: "in", Subnet: netip.MustParsePrefix("10.201.0.0/24"), Internal: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := f.tables["nat"].rules[chainPostrouting]; len(r) != 0 {
		t.Errorf("an internal network's masquerade: %q", r)
	}
	if err := s.Remove(in, nil); err != nil {
		t.Fatal(err)
	}
	host := newFakeTables()
	for name, tb := range f.tables {
		if !slices.Equal(tb.chains, host.tables[name].chains) {
			t.Errorf("%s chains after rm: %v", name, tb.chains)
		}
		for _, c := range tb.chains {
			if !slices.Equal(tb.rules[c], host.tables[name].rules[c]) {
				t.Errorf("%s chain %s after rm: %q", name, c, tb.rules[c])
			}
		}
	}
}

// TestFirewallNoMasquerade: a network of -o
// com.docker.network.bridge.enable_ip_masquerade=false gets its
// isolation rules, on the bridge of the name given, and no masquerade.
func TestFirewallNoMasquerade(t *testing.T) {
	f := newFakeTables()
	s := Open(t.TempDir())
	s.iptables = f.run
	n, err := s.Create(Request{Name: "plain", Subnet: netip.MustParsePrefix("10.9.0.0/24"), BridgeOptions: BridgeOptions{BridgeName: "mdplain0", NoMasquerade: true}})
	if err != nil {
		t.Fatal(err)
	}
	if n.Bridge() != "mdplain0" {
		t.Errorf("Bridge() = %s, want mdplain0", n.Bridge())
	}
	if got := f.tables["nat"].rules[chainPostrouting]; len(got) != 0 {
		t.Errorf("masquerade rules of a network without masquerade: %q", got)
	}
	if got := f.tables["filter"].rules[chainIsolation2]; !slices.Equal(got, []string{"-o mdplain0 -j DROP"}) {
		t.Errorf("isolation rules: %q, want the named bridge's", got)
	}
}

// TestFirewallNoICC: a network of -o
// com.docker.network.bridge.enable_icc=false drops traffic within its
// bridge, after the return of published ports' traffic; without
// br_netfilter on (its file absent, or 0) it is refused, and nothing of
// it is made.
func TestFirewallNoICC(t *testing.T) {
	f := newFakeTables()
	s := Open(t.TempDir())
	s.iptables = f.run
	s.bridgeNF = filepath.Join(t.TempDir(), "bridge-nf-call-iptables")
	r := Request{Name: "apart", Subnet: netip.MustParsePrefix("10.9.0.0/24"), BridgeOptions: BridgeOptions{BridgeName: "mdapart0", NoICC: true}}
	for _, content := range []string{"", "0\n"} {
		if content != "" {
			if err := os.WriteFile(s.bridgeNF, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Create(r); err == nil || !strings.Contains(err.Error(), "enable_icc=false needs") {
			t.Errorf("Create with br_netfilter %q: %v, want it refused", content, err)
		}
		if _, err := os.Stat(s.confPath("apart")); err == nil {
			t.Errorf("a refused create (br_netfilter %q) left its conflist", content)
		}
	}
	if err := os.WriteFile(s.bridgeNF, []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(r); err != nil {
		t.Fatal(err)
	}
	got := f.tables["filter"].rules[chainIsolation1]
	drop := slices.Index(got, "-i mdapart0 -o mdapart0 -j DROP")
	if drop < 0 || slices.Index(got, dnatReturn.spec) > drop {
		t.Errorf("isolation stage 1: %q, want the drop within mdapart0 after the published ports' return", got)
	}
}

// TestFirewallUnprotected: a network of -o
// com.docker.network.bridge.gateway_mode_ipv4=nat-unprotected has no
// drop of connections into its bridge from elsewhere; the other rules
// are a network's own.
func TestFirewallUnprotected(t *testing.T) {
	f := newFakeTables()
	s := Open(t.TempDir())
	s.iptables = f.run
	n, err := s.Create(Request{Name: "open", Subnet: netip.MustParsePrefix("10.9.0.0/24"), BridgeOptions: BridgeOptions{BridgeName: "mdopen0", Unprotected: true}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"-m conntrack --ctstate DNAT -j RETURN", "-i mdopen0 ! -o mdopen0 -j MINIMAL-DOCKER-ISOLATION-2"}
	if got := f.tables["filter"].rules[chainIsolation1]; !slices.Equal(got, want) {
		t.Errorf("isolation stage 1: %q, want %q", got, want)
	}
	if got := f.tables["nat"].rules[chainPostrouting]; len(got) != 1 {
		t.Errorf("masquerade: %q, want the network's", got)
	}
	if err := s.Remove(n, nil); err != nil {
		t.Fatal(err)
	}
	if got := f.tables["filter"].rules["FORWARD"]; !slices.Equal(got, newFakeTables().tables["filter"].rules["FORWARD"]) {
		t.Errorf("FORWARD after rm: %q", got)
	}
}

// TestFirewallAdminChain: the admin's rules in MINIMAL-DOCKER-USER stay
// when the last network goes, and so do the chain and the jump to it
// (the rest of ours goes); a network made again keeps them, the admin's
// jump still ahead of the isolation's; once the
// chain is empty, the last network's rm removes it.
func TestFirewallAdminChain(t *testing.T) {
	f := newFakeTables()
	s := Open(t.TempDir())
	s.iptables = f.run
	n, err := s.Create(Request{Name: "a", Subnet: netip.MustParsePrefix("10.9.0.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	admin := "-i host0 -d 10.9.0.0/24 -j DROP"
	filter := f.tables["filter"]
	filter.rules[chainUser] = append(filter.rules[chainUser], admin)
	if err := s.Remove(n, nil); err != nil {
		t.Fatal(err)
	}
	wantForward := []string{"-j MINIMAL-DOCKER-USER", "-i host0 -j ACCEPT"}
	if !slices.Equal(filter.rules["FORWARD"], wantForward) || !slices.Equal(filter.rules[chainUser], []string{admin}) ||
		slices.Contains(filter.chains, chainIsolation1) || !slices.Contains(filter.chains, chainUser) {
		t.Errorf("after rm of the last network: chains %v, FORWARD %q, %s %q; want the admin's chain, its rule and its jump alone",
			filter.chains, filter.rules["FORWARD"], chainUser, filter.rules[chainUser])
	}
	if n, err = s.Create(Request{Name: "b", Subnet: netip.MustParsePrefix("10.9.0.0/24")}); err != nil {
		t.Fatal(err)
	}
	if got := filter.rules["FORWARD"]; !slices.Equal(got, []string{"-j MINIMAL-DOCKER-USER", "-j MINIMAL-DOCKER-ISOLATION-1", "-i host0 -j ACCEPT"}) ||
		!slices.Equal(filter.rules[chainUser], []string{admin}) {
		t.Errorf("after a create: FORWARD %q, %s %q; want the admin's jump ahead of the isolation's, and its rule kept", got, chainUser, filter.rules[chainUser])
	}
	filter.rules[chainUser] = nil
	if err := s.Remove(n, nil); err != nil {
		t.Fatal(err)
	}
	host := newFakeTables().tables["filter"]
	if !slices.Equal(filter.chains, host.chains) || !slices.Equal(filter.rules["FORWARD"], host.rules["FORWARD"]) {
		t.Errorf("after rm with the admin's chain empty: chains %v, FORWARD %q; want the host's alone", filter.chains, filter.rules["FORWARD"])
	}
}
