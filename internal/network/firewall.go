package network

// The isolation of our networks: iptables rules of our own in the filter
// table, on the model of Docker's DOCKER-ISOLATION-STAGE-1/2 chains and
// of kube-proxy's fix of CVE-2020-8558. CNI's plugins do the rest (the
// bridge plugin's masquerade, portmap's DNAT); they isolate nothing.
//
//	FORWARD -j MINIMAL-DOCKER-ISOLATION-1         (first)
//	  -i BR ! -o BR -j DROP, ! -i BR -o BR -j DROP   an --internal network's
//	                                              bridge: no way in or out
//	  -m conntrack --ctstate DNAT -j RETURN       a published port answers
//	                                              from any network
//	  -i BR ! -o BR -j ...-ISOLATION-2            from each bridge of ours...
//	MINIMAL-DOCKER-ISOLATION-2
//	  -o BR -j DROP                               ...to another one: dropped
//	INPUT -j MINIMAL-DOCKER-INPUT                 (first)
//	  -d 127.0.0.0/8 -i BR -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
//	                                              the host's 127.0.0.1 from a
//	                                              bridge (portmap turns
//	                                              route_localnet on there)
//
// A network's rules are added by network create and again (when missing:
// after a reboot) by an Attach that finds no bridge yet, and removed by
// network rm; the chains and the jumps to them go with the last
// network's rules. Each change is one iptables-restore --noflush batch
// (atomic), computed from iptables-save under the store's firewall lock.
// (Chain names are under 29 characters, iptables' limit: Docker's
// STAGE-1 is shortened to 1.)

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

// Our chains in the filter table.
const (
	chainIsolation1 = "MINIMAL-DOCKER-ISOLATION-1"
	chainIsolation2 = "MINIMAL-DOCKER-ISOLATION-2"
	chainInput      = "MINIMAL-DOCKER-INPUT"
)

var ourChains = []string{chainIsolation1, chainIsolation2, chainInput}

// rule is one filter rule: its chain and its match and target as
// iptables-save prints them (what is looked for in its output), inserted
// at the chain's top when first, else appended.
type rule struct {
	chain, spec string
	first       bool
}

func (r rule) saved() string { return "-A " + r.chain + " " + r.spec }

func (r rule) add() string {
	if r.first {
		return "-I " + r.chain + " 1 " + r.spec
	}
	return r.saved()
}

func (r rule) del() string { return "-D " + r.chain + " " + r.spec }

// jumps send packets to our chains, ahead of the host's own rules.
var jumps = []rule{
	{"FORWARD", "-j " + chainIsolation1, true},
	{"INPUT", "-j " + chainInput, true},
}

// dnatReturn lets traffic to a published port (DNAT'd by portmap) past
// the isolation: before every network's stage-1 jump, after an internal
// network's drops.
var dnatReturn = rule{chainIsolation1, "-m conntrack --ctstate DNAT -j RETURN", false}

// networkRules are network n's rules.
func networkRules(n *Network) []rule {
	b := n.Bridge()
	var rs []rule
	if n.Internal {
		rs = append(rs,
			rule{chainIsolation1, fmt.Sprintf("-i %s ! -o %s -j DROP", b, b), true},
			rule{chainIsolation1, fmt.Sprintf("! -i %s -o %s -j DROP", b, b), true})
	}
	return append(rs,
		rule{chainIsolation1, fmt.Sprintf("-i %s ! -o %s -j %s", b, b, chainIsolation2), false},
		rule{chainIsolation2, fmt.Sprintf("-o %s -j DROP", b), false},
		rule{chainInput, fmt.Sprintf("-d 127.0.0.0/8 -i %s -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP", b), false})
}

// filterTable is the filter table as iptables-save prints it: its
// chains and its rules.
type filterTable struct {
	chains map[string]bool
	rules  []string
}

func (t *filterTable) has(r rule) bool { return slices.Contains(t.rules, r.saved()) }

// firewallUp adds what network n's isolation needs and is missing: our
// chains, the jumps to them, n's rules.
func (s *Store) firewallUp(n *Network) error {
	return s.firewall(n, "add", func(t *filterTable) []string {
		var batch []string
		for _, c := range ourChains {
			if !t.chains[c] {
				batch = append(batch, ":"+c+" - [0:0]") // made empty (declaring one there flushes it)
			}
		}
		for _, r := range append(append([]rule{dnatReturn}, networkRules(n)...), jumps...) {
			if !t.has(r) {
				batch = append(batch, r.add())
			}
		}
		return batch
	})
}

// firewallDown removes network n's rules; our chains and the jumps to
// them too when no other network's rules are left in them.
func (s *Store) firewallDown(n *Network) error {
	return s.firewall(n, "remove", func(t *filterTable) []string {
		var batch []string
		mine := networkRules(n)
		for _, r := range mine {
			if t.has(r) {
				batch = append(batch, r.del())
			}
		}
		for _, line := range t.rules {
			for _, c := range ourChains {
				if strings.HasPrefix(line, "-A "+c+" ") && line != dnatReturn.saved() &&
					!slices.ContainsFunc(mine, func(r rule) bool { return r.saved() == line }) {
					return batch // another network's rules: the chains stay
				}
			}
		}
		for _, r := range jumps {
			if t.has(r) {
				batch = append(batch, r.del())
			}
		}
		for _, c := range ourChains {
			if t.chains[c] {
				batch = append(batch, "-F "+c, "-X "+c)
			}
		}
		return batch
	})
}

// firewall runs the batch that change computes from the filter table,
// under the store's firewall lock.
func (s *Store) firewall(n *Network, op string, change func(*filterTable) []string) error {
	fail := func(err error) error { return fmt.Errorf("network %s: %s isolation rules: %w", n.Name, op, err) }
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fail(err)
	}
	lock, err := ondisk.LockPath(filepath.Join(s.dir, ".firewall.lock"))
	if err != nil {
		return fail(err)
	}
	defer lock.Close()
	out, err := s.iptables("iptables-save", nil, "-t", "filter")
	if err != nil {
		return fail(err)
	}
	batch := change(parseFilter(out))
	if len(batch) == 0 {
		return nil
	}
	in := "*filter\n" + strings.Join(batch, "\n") + "\nCOMMIT\n"
	if _, err := s.iptables("iptables-restore", []byte(in), "--noflush"); err != nil {
		return fail(fmt.Errorf("%w\n%s", err, in))
	}
	return nil
}

// parseFilter reads iptables-save -t filter's output.
func parseFilter(b []byte) *filterTable {
	t := &filterTable{chains: map[string]bool{}}
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, ":"):
			name, _, _ := strings.Cut(line[1:], " ")
			t.chains[name] = true
		case strings.HasPrefix(line, "-A "):
			t.rules = append(t.rules, strings.TrimSpace(line))
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
