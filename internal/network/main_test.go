package network

import (
	"fmt"
	"os"
	"testing"
)

// TestMain keeps the unit tests off the host's firewall: a Store that a
// test did not give a fake table (newFakeTables) fails at its first
// iptables run, where it would have left rules on the machine.
func TestMain(m *testing.M) {
	hostIptables = func(tool string, _ []byte, _ ...string) ([]byte, error) {
		return nil, fmt.Errorf("%s: a unit test ran the host's iptables (give its Store a fake table)", tool)
	}
	os.Exit(m.Run())
}
