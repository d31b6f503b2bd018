package network

// The isolation and the masquerade of our networks: iptables rules of our
// own in the filter and nat tables, on the model of Docker's
// DOCKER-ISOLATION-STAGE-1/2 chains and POSTROUTING masquerade, and of
// kube-proxy's fix of CVE-2020-8558. CNI's plugins do the rest (the
// bridge and its veths, portmap's DNAT); they isolate nothing.
//
//	filter:
//	FORWARD -j MINIMAL-DOCKER-USER                (first)
//	  the admin's own rules (Docker's DOCKER-USER), ahead of ours
//	FORWARD -j MINIMAL-DOCKER-ISOLATION-1         (after it)
//	  -i BR ! -o BR -j DROP, ! -i BR -o BR -j DROP   an --internal network's
//	                                              bridge: no way in or out
//	  -m conntrack --ctstate DNAT -j RETURN       a published port answers
//	                                              from any network
//	  -i BR ! -o BR -j ...-ISOLATION-2            from each bridge of ours...
//	  -i BR -o BR -j DROP                         within an enable_icc=false
//	                                              network's bridge (seen by
//	                                              iptables through
//	                                              br_netfilter)
//	  ! -i BR -o BR -m conntrack ! --ctstate RELATED,ESTABLISHED -j DROP
//	                                              into a bridge from the
//	                                              host's other interfaces
//	                                              (another machine routing
//	                                              to a container's address):
//	                                              only published ports and
//	                                              replies (Docker 28's; not
//	                                              with gateway_mode_ipv4=
//	                                              nat-unprotected)
//	MINIMAL-DOCKER-ISOLATION-2
//	  -o BR -j DROP                               ...to another one: dropped
//	INPUT -j MINIMAL-DOCKER-INPUT                 (first)
//	  -d 127.0.0.0/8 -i BR -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
//	                                              the host's 127.0.0.1 from a
//	                                              bridge (portmap turns
//	                                              route_localnet on there)
//	nat:
//	POSTROUTING -j MINIMAL-DOCKER-POSTROUTING     (first)
//	  -s SUBNET ! -o BR -j MASQUERADE             out of a network that is
//	                                              not --internal (Docker's
//	                                              rule)
//
// The masquerade is one rule per network, made with the network, where
// the bridge plugin's ipMasq makes a chain per container on every ADD and
// removes it on every DEL (some 15 iptables runs, ~90 ms of each run);
// conflists written before have ipMasq on still, and work as they did (a
// second masquerade of the same packet changes nothing).
//
// A network's rules are added by network create and again (when missing:
// after a reboot) by an Attach that finds no bridge yet, and removed by
// network rm; the chains and the jumps to them go with the last
// network's rules; MINIMAL-DOCKER-USER and the jump to it stay while the
// admin's rules are in it. Each change is one iptables-restore --noflush batch
// (each table's part atomic), computed from iptables-save under the
// store's firewall lock. (Chain names are under 29 characters, iptables'
// limit: Docker's STAGE-1 is shortened to 1.)

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/minimal-docker/minimal-docker/internal/ondisk"
)

// Our chains, and their tables.
const (
	chainUser        = "MINIMAL-DOCKER-USER"
	chainIsolation1  = "MINIMAL-DOCKER-ISOLATION-1"
	chainIsolation2  = "MINIMAL-DOCKER-ISOLATION-2"
	chainInput       = "MINIMAL-DOCKER-INPUT"
	chainPostrouting = "MINIMAL-DOCKER-POSTROUTING"
)

// chain is a chain of ours in its table.
type chain struct{ table, name string }

var ourChains = []chain{
	{"filter", chainUser}, {"filter", chainIsolation1}, {"filter", chainIsolation2}, {"filter", chainInput},
	{"nat", chainPostrouting},
}

// tables are the tables our rules are in, in the order of the batches.
var tables = []string{"filter", "nat"}

// rule is one rule: its table, its chain, and its match and target as
// iptables-save prints them (what is looked for in its output), inserted
// at the chain's top when first, else appended.
type rule struct {
	table, chain, spec string
	first              bool
}

func (r rule) saved() string { return "-A " + r.chain + " " + r.spec }

func (r rule) add() string {
	if r.first {
		return "-I " + r.chain + " 1 " + r.spec
	}
	return r.saved()
}

func (r rule) del() string { return "-D " + r.chain + " " + r.spec }

// jumps send packets to our chains, ahead of the host's own rules (each
// inserted first: the admin's chain, later, ends ahead of the isolation).
var jumps = []rule{
	isolationJump,
	userJump,
	{"filter", "INPUT", "-j " + chainInput, true},
	{"nat", "POSTROUTING", "-j " + chainPostrouting, true},
}

var (
	isolationJump = rule{"filter", "FORWARD", "-j " + chainIsolation1, true}
	userJump      = rule{"filter", "FORWARD", "-j " + chainUser, true}
)

// dnatReturn lets traffic to a published port (DNAT'd by portmap) past
// the isolation: before every network's stage-1 jump, after an internal
// network's drops.
var dnatReturn = rule{"filter", chainIsolation1, "-m conntrack --ctstate DNAT -j RETURN", false}

// networkRules are network n's rules.
func networkRules(n *Network) []rule {
	b := n.Bridge()
	var rs []rule
	if n.Internal {
		rs = append(rs,
			rule{"filter", chainIsolation1, fmt.Sprintf("-i %s ! -o %s -j DROP", b, b), true},
			rule{"filter", chainIsolation1, fmt.Sprintf("! -i %s -o %s -j DROP", b, b), true})
	}
	if n.NoICC {
		rs = append(rs, rule{"filter", chainIsolation1, fmt.Sprintf("-i %s -o %s -j DROP", b, b), false})
	}
	if !n.Internal && !n.Unprotected {
		rs = append(rs, rule{"filter", chainIsolation1, fmt.Sprintf("! -i %s -o %s -m conntrack ! --ctstate RELATED,ESTABLISHED -j DROP", b, b), false})
	}
	rs = append(rs,
		rule{"filter", chainIsolation1, fmt.Sprintf("-i %s ! -o %s -j %s", b, b, chainIsolation2), false},
		rule{"filter", chainIsolation2, fmt.Sprintf("-o %s -j DROP", b), false},
		rule{"filter", chainInput, fmt.Sprintf("-d 127.0.0.0/8 -i %s -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP", b), false})
	if !n.Internal && !n.NoMasquerade {
		rs = append(rs, rule{"nat", chainPostrouting, fmt.Sprintf("-s %s ! -o %s -j MASQUERADE", n.Subnet.Masked(), b), false})
	}
	return rs
}

// ruleset is the tables as iptables-save prints them: each table's
// chains and rules.
type ruleset struct {
	chains map[chain]bool
	rules  map[string][]string // table: its rules
}

func (t *ruleset) has(r rule) bool { return slices.Contains(t.rules[r.table], r.saved()) }

// batch is an iptables-restore batch, by table.
type batch map[string][]string

func (b batch) add(table string, lines ...string) { b[table] = append(b[table], lines...) }

// firewallUp adds what network n's rules need and is missing: our
// chains, the jumps to them, n's rules. A network whose containers may
// not reach each other (NoICC) needs br_netfilter on (its rule sees
// nothing without): refused otherwise, rather than a rule that keeps no
// one apart.
func (s *Store) firewallUp(n *Network) error {
	if n.NoICC {
		if b, err := os.ReadFile(s.bridgeNF); err != nil || strings.TrimSpace(string(b)) != "1" {
			return fmt.Errorf("network %s: com.docker.network.bridge.enable_icc=false needs traffic within a bridge to go through iptables: %s must be 1 (the br_netfilter module: modprobe br_netfilter), and is not (%v)", n.Name, s.bridgeNF, bridgeNFState(b, err))
		}
	}
	return s.firewall(n, "add", func(t *ruleset) batch {
		b := batch{}
		for _, c := range ourChains {
			if !t.chains[c] {
				b.add(c.table, ":"+c.name+" - [0:0]") // made empty (declaring one there flushes it)
			}
		}
		present := t.has
		if t.has(userJump) && !t.has(isolationJump) {
			// The admin's chain, kept from before: its jump goes back
			// ahead of the isolation's (in the same atomic batch).
			b.add(userJump.table, userJump.del())
			present = func(r rule) bool { return r != userJump && t.has(r) }
		}
		for _, r := range append(append([]rule{dnatReturn}, networkRules(n)...), jumps...) {
			if !present(r) {
				b.add(r.table, r.add())
			}
		}
		return b
	})
}

// firewallDown removes network n's rules; our chains and the jumps to
// them too when no other network's rules are left in them, but the
// admin's chain (and its jump) while it has rules.
func (s *Store) firewallDown(n *Network) error {
	return s.firewall(n, "remove", func(t *ruleset) batch {
		b := batch{}
		mine := networkRules(n)
		for _, r := range mine {
			if t.has(r) {
				b.add(r.table, r.del())
			}
		}
		adminRules := slices.ContainsFunc(t.rules["filter"], func(line string) bool { return strings.HasPrefix(line, "-A "+chainUser+" ") })
		for _, c := range ourChains {
			if c.name == chainUser {
				continue // the admin's rules are no network's
			}
			for _, line := range t.rules[c.table] {
				if strings.HasPrefix(line, "-A "+c.name+" ") && line != dnatReturn.saved() &&
					!slices.ContainsFunc(mine, func(r rule) bool { return r.table == c.table && r.saved() == line }) {
					return b // another network's rules: the chains stay
				}
			}
		}
		for _, r := range jumps {
			if t.has(r) && !(r == userJump && adminRules) {
				b.add(r.table, r.del())
			}
		}
		for _, c := range ourChains {
			if t.chains[c] && !(c.name == chainUser && adminRules) {
				b.add(c.table, "-F "+c.name, "-X "+c.name)
			}
		}
		return b
	})
}

// bridgeNFState says what the br_netfilter file held, for an error.
func bridgeNFState(b []byte, err error) string {
	if err != nil {
		return err.Error()
	}
	return "it is " + strings.TrimSpace(string(b))
}

// firewall runs the batch that change computes from the tables, under
// the store's firewall lock.
func (s *Store) firewall(n *Network, op string, change func(*ruleset) batch) error {
	fail := func(err error) error { return fmt.Errorf("network %s: %s firewall rules: %w", n.Name, op, err) }
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fail(err)
	}
	lock, err := ondisk.LockPath(filepath.Join(s.dir, ".firewall.lock"))
	if err != nil {
		return fail(err)
	}
	defer lock.Close()
	out, err := s.iptables("iptables-save", nil) // every table, in one run
	if err != nil {
		return fail(err)
	}
	b := change(parseRuleset(out))
	var in strings.Builder
	for _, table := range tables {
		if len(b[table]) > 0 {
			in.WriteString("*" + table + "\n" + strings.Join(b[table], "\n") + "\nCOMMIT\n")
		}
	}
	if in.Len() == 0 {
		return nil
	}
	if _, err := s.iptables("iptables-restore", []byte(in.String()), "--noflush"); err != nil {
		return fail(fmt.Errorf("%w\n%s", err, in.String()))
	}
	return nil
}

// parseRuleset reads iptables-save's output.
func parseRuleset(b []byte) *ruleset {
	t := &ruleset{chains: map[chain]bool{}, rules: map[string][]string{}}
	table := ""
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			table = strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, ":"):
			name, _, _ := strings.Cut(line[1:], " ")
			t.chains[chain{table, name}] = true
		case strings.HasPrefix(line, "-A "):
			t.rules[table] = append(t.rules[table], strings.TrimSpace(line))
		}
	}
	return t
}

// runIptables runs one of iptables' tools (found in PATH or the sbin
// directories, which a caller's PATH may lack), stdin in, and returns its
// output.
func runIptables(tool string, stdin []byte, args ...string) ([]byte, error) {
	path, err := exec.LookPath(tool)
	if err != nil {
		for _, d := range []string{"/usr/sbin", "/sbin"} {
			if p := filepath.Join(d, tool); isExecutable(p) {
				path, err = p, nil
				break
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s (Debian's iptables): %w", tool, err)
	}
	cmd := exec.Command(path, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", path, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}
