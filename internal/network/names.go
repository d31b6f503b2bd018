package network

// Names on user-defined networks: containers find each other by name,
// alias and short ID through their /etc/hosts, kept current (nerdctl's
// way: no server to keep alive, nothing listening in the containers).
// Each container attached with a hosts file has a record under
// names/ID.json: the file's path on the host, its hostname, its
// --add-host entries, and per network its address and the names it is
// known by there. ADD (Attach) writes the network's entry, DEL (Detach,
// Sweep) takes it away; each then rewrites the hosts file of every
// container sharing that network, in place (the file is bind-mounted:
// its inode must stay), under names/.lock.
//
// Docker's default network "bridge" resolves no names: containers there
// get their own line only.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/minimal-docker/minimal-docker/internal/ondisk"
)

// Member is how a container appears in the hosts files of a network's
// containers, and what its own hosts file is made of.
type Member struct {
	Hosts      string      // its /etc/hosts on the host ("": none kept current)
	Hostname   string      // its own lines' name (ownNames)
	Domainname string      // its NIS domain name, "" for none (ownNames)
	Names      []string    // its names on the network: name, aliases, short ID
	Extra      []HostEntry // --add-host
}

// memberRecord is names/ID.json.
type memberRecord struct {
	Hosts    string               `json:"hosts"`
	Hostname string               `json:"hostname"`
	Domain   string               `json:"domainname,omitempty"`
	Extra    []HostEntry          `json:"extra,omitempty"`
	Networks map[string]HostEntry `json:"networks"` // the address and names on each network
}

func (s *Store) namesDir() string { return filepath.Join(s.dir, "names") }

func (s *Store) memberPath(id string) string { return filepath.Join(s.namesDir(), id+".json") }

func (s *Store) namesLock() (*os.File, error) {
	if err := os.MkdirAll(s.namesDir(), 0o700); err != nil {
		return nil, fmt.Errorf("names: %w", err)
	}
	return ondisk.LockPath(filepath.Join(s.namesDir(), ".lock"))
}

// join records container id on network name at address ip and rewrites
// the hosts files of the network's containers.
func (s *Store) join(name, id string, ip netip.Addr, m *Member) error {
	if m == nil || m.Hosts == "" || !ip.IsValid() {
		return nil
	}
	lock, err := s.namesLock()
	if err != nil {
		return err
	}
	defer lock.Close()
	recs, err := s.members()
	if err != nil {
		return err
	}
	r := recs[id]
	if r == nil {
		r = &memberRecord{Networks: map[string]HostEntry{}}
		recs[id] = r
	}
	r.Hosts, r.Hostname, r.Domain, r.Extra = m.Hosts, m.Hostname, m.Domainname, m.Extra
	r.Networks[name] = HostEntry{IP: ip.String(), Names: dedup(m.Names)}
	if err := s.saveMember(id, r); err != nil {
		return err
	}
	return rewriteHosts(recs, name, "")
}

// leave takes container id's entry on network name away (its record
// with its last network) and rewrites the hosts files of the network's
// containers, its own included.
func (s *Store) leave(name, id string) error {
	if _, err := os.Stat(s.memberPath(id)); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	lock, err := s.namesLock()
	if err != nil {
		return err
	}
	defer lock.Close()
	recs, err := s.members()
	if err != nil {
		return err
	}
	r := recs[id]
	if r == nil {
		return nil
	}
	if _, ok := r.Networks[name]; !ok {
		return nil
	}
	delete(r.Networks, name)
	err = writeInPlace(r.Hosts, hostsOf(recs, id).Bytes()) // its own file, without the network
	if len(r.Networks) == 0 {
		delete(recs, id)
		if rerr := os.Remove(s.memberPath(id)); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, fmt.Errorf("names: %w", rerr))
		}
	} else if werr := s.saveMember(id, r); werr != nil {
		err = errors.Join(err, werr)
	}
	return errors.Join(err, rewriteHosts(recs, name, ""))
}

func (s *Store) saveMember(id string, r *memberRecord) error {
	b, err := json.Marshal(r)
	if err == nil {
		err = ondisk.WriteFile(s.memberPath(id), b, 0o600, ondisk.Volatile) // describes live containers
	}
	if err != nil {
		return fmt.Errorf("names: %s: %w", id, err)
	}
	return nil
}

// members reads every record (a record that can't be read is skipped:
// a write killed midway leaves none, ondisk writes atomically); a
// record whose hosts file is gone is removed.
func (s *Store) members() (map[string]*memberRecord, error) {
	ents, err := os.ReadDir(s.namesDir())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("names: %w", err)
	}
	recs := map[string]*memberRecord{}
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(id, ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.namesDir(), e.Name()))
		if err != nil {
			continue
		}
		var r memberRecord
		if json.Unmarshal(b, &r) != nil || r.Networks == nil {
			continue
		}
		if _, err := os.Stat(r.Hosts); errors.Is(err, fs.ErrNotExist) {
			// Its container is gone without its DEL (a killed run whose
			// directory was swept first): no name of a dead container.
			os.Remove(filepath.Join(s.namesDir(), e.Name()))
			continue
		}
		recs[id] = &r
	}
	return recs, nil
}

// rewriteHosts rewrites the hosts file of every container on network
// name but skip ("": all).
func rewriteHosts(recs map[string]*memberRecord, name, skip string) error {
	var errs []error
	for id, r := range recs {
		if _, on := r.Networks[name]; !on || id == skip {
			continue
		}
		if err := writeInPlace(r.Hosts, hostsOf(recs, id).Bytes()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// hostsOf is container id's hosts file: its own line on each network,
// and the others on its networks but the default bridge.
func hostsOf(recs map[string]*memberRecord, id string) Hosts {
	r := recs[id]
	h := Hosts{Extra: r.Extra}
	for _, net := range sortedKeys(r.Networks) {
		h.Own = append(h.Own, HostEntry{IP: r.Networks[net].IP, Names: ownNames(r.Hostname, r.Domain)})
	}
	for _, other := range sortedKeys(recs) {
		if other == id {
			continue
		}
		for _, net := range sortedKeys(recs[other].Networks) {
			if _, shared := r.Networks[net]; shared && net != DefaultName {
				h.Others = append(h.Others, recs[other].Networks[net])
			}
		}
	}
	return h
}

// ownNames are the names of a container's own lines in its hosts file,
// Docker's: its fully qualified name (hostname, with .domainname when it
// has one), then, when that has a dot, the part before it.
func ownNames(hostname, domainname string) []string {
	fqdn := hostname
	if domainname != "" {
		fqdn += "." + domainname
	}
	if short, _, ok := strings.Cut(fqdn, "."); ok && short != "" {
		return []string{fqdn, short}
	}
	return []string{fqdn}
}

// writeInPlace replaces file p's content without replacing the file:
// the container sees it through a bind mount of its inode. The new text
// is written over the old, then the file cut to its length (a reader
// never finds it empty). A file gone (its container removed) is no
// error.
func writeInPlace(p string, b []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("names: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, 0); err != nil {
		return fmt.Errorf("names: write %s: %w", p, err)
	}
	if err := f.Truncate(int64(len(b))); err != nil {
		return fmt.Errorf("names: truncate %s: %w", p, err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// dedup keeps the first of each name, in order, without empty ones.
func dedup(names []string) []string {
	var out []string
	for _, n := range names {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
