package network

// Docker's predefined networks: bridge (the default: a bridge network of
// ours like the others, made on first use), host and none (the runtime's
// own modes: no CNI, nothing on disk).

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
)

// DefaultName is the default bridge network's name: a container's
// network when it names none (Docker's).
const DefaultName = "bridge"

// DefaultBridge is the default bridge network's device, as Docker's is
// docker0.
const DefaultBridge = "minimal-docker0"

// DefaultSubnet is the default bridge's subnet, Docker's, unless it
// overlaps another network or a route of the host (then one of the
// pools' is chosen, as network create does).
var DefaultSubnet = netip.MustParsePrefix("172.17.0.0/16")

// Predefined are Docker's predefined networks and their drivers, as
// network ls shows them.
var Predefined = []struct{ Name, Driver string }{
	{DefaultName, "bridge"}, {"host", "host"}, {"none", "null"},
}

// IsPredefined reports whether name is one of Predefined.
func IsPredefined(name string) bool {
	return slices.ContainsFunc(Predefined, func(p struct{ Name, Driver string }) bool { return p.Name == name })
}

// PredefinedID is the ID of network host or none: they have no record,
// so their IDs are derived from their names (the same on every host).
func PredefinedID(name string) string {
	sum := sha256.Sum256([]byte("minimal-docker predefined network " + name))
	return hex.EncodeToString(sum[:])
}

// Default returns the default bridge network, made on its first use
// (under the store's lock: two commands make one).
func (s *Store) Default() (*Network, error) {
	b, err := os.ReadFile(s.confPath(DefaultName))
	if err == nil {
		return parse(b, s.confPath(DefaultName))
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("network %s: %w", DefaultName, err)
	}
	return s.create(Request{Name: DefaultName}, true)
}
