package rootless

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// TestPublishKeepsSource: a client of a port published through pasta or
// slirp4netns is seen in the container with its own address, not as
// 127.0.0.1 nor as a gateway's (the complaint users have of rootless
// published ports). The
// rootless runtime runs in a network namespace the test makes (its
// "host"), the client in a second one joined to it by a veth pair, so
// that no packet reaches the machine's own interfaces.
func TestPublishKeepsSource(t *testing.T) {
	for _, tool := range []string{"ip", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: %v", tool, err)
		}
	}
	h := newHome(t)
	for _, tool := range []string{"pasta", "slirp4netns"} {
		t.Run(tool, func(t *testing.T) {
			if _, err := exec.LookPath(tool); err != nil {
				t.Skipf("%s is not installed: %v", tool, err)
			}
			publishKeepsSource(t, h, tool)
		})
	}
}

// publishKeepsSource is TestPublishKeepsSource for the user-mode network
// tool.
func publishKeepsSource(t *testing.T, h *home, tool string) {
	srv, cli := netnsPair(t, tool)
	const port = "8080"
	// A detached container answers each client with its view of the TCP
	// sockets (IPv4 and IPv6): the connection's remote address among
	// them; END marks the answer whole. The runtime (and so the network's
	// program) runs in the first namespace.
	args := []string{"--net=/run/netns/" + srv, "--setuid", strconv.Itoa(h.uid), "--setgid", strconv.Itoa(h.gid), "--",
		"env", "-i"}
	args = append(append(args, h.env...), env.bin, "run", "-d", "--network", tool, "-p", "10.231.0.1:"+port+":8080", env.rootfs,
		"nc", "-ll", "-p", "8080", "-e", "sh", "-c", "cat /proc/net/tcp /proc/net/tcp6; echo END")
	var errb bytes.Buffer
	cmd := exec.Command("nsenter", args...)
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("run -d: %v\n%s", err, errb.String())
	}
	id := strings.TrimSpace(string(out))
	t.Cleanup(func() { h.md(t, "rm", "-f", id) })

	// Each try gives up after a few seconds: a connection the program
	// takes before the container listens may stay open unanswered.
	var got string
	for deadline := time.Now().Add(env.timeout); got == "" && time.Now().Before(deadline); {
		b, err := dialFrom(cli, "10.231.0.1", port, 3*time.Second)
		if err == nil && bytes.Contains(b, []byte("END")) {
			got = string(b)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got == "" {
		t.Fatalf("no answer on 10.231.0.1:%s from the second namespace\n%s", port, h.md(t, "logs", id))
	}
	remotes := remotesOn(got, 8080)
	if len(remotes) == 0 {
		t.Fatalf("no connection on port 8080 in the container's /proc/net/tcp:\n%s", got)
	}
	for _, r := range remotes {
		if r != "10.231.0.2" {
			t.Errorf("the container sees its client as %s, want the client's own address 10.231.0.2\n%s", r, got)
		}
	}
}

// netnsPair makes two network namespaces (named after name) joined by a veth pair: the
// first (10.231.0.1/24, a default route by a gateway that does not
// exist, as pasta wants one to copy) and the second (10.231.0.2/24).
// Both go (and the pair with them) when the test ends.
func netnsPair(t *testing.T, name string) (string, string) {
	t.Helper()
	a, b := fmt.Sprintf("md-%s-a-%d", name, os.Getpid()), fmt.Sprintf("md-%s-b-%d", name, os.Getpid())
	for _, ns := range []string{a, b} {
		testenv.AddNetns(t, ns)
	}
	for _, c := range [][]string{
		{"-n", a, "link", "add", "vsrc", "type", "veth", "peer", "name", "vcli", "netns", b},
		{"-n", a, "addr", "add", "10.231.0.1/24", "dev", "vsrc"},
		{"-n", b, "addr", "add", "10.231.0.2/24", "dev", "vcli"},
		{"-n", a, "link", "set", "lo", "up"},
		{"-n", b, "link", "set", "lo", "up"},
		{"-n", a, "link", "set", "vsrc", "up"},
		{"-n", b, "link", "set", "vcli", "up"},
		{"-n", a, "route", "add", "default", "via", "10.231.0.254"},
	} {
		if out, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(c, " "), err, out)
		}
	}
	return a, b
}

// remotesOn returns the remote addresses of the connections
// on local port in the text of /proc/net/tcp and tcp6 (an IPv4 client of
// a socket listening on IPv6's any address is there, v4-mapped).
func remotesOn(text string, port int) []string {
	var out []string
	suffix := fmt.Sprintf(":%04X", port)
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		// Any state but listening (0A): established, or close-wait once
		// the client has sent all it had.
		if len(f) < 4 || !strings.HasSuffix(f[1], suffix) || f[3] == "0A" {
			continue
		}
		addr, _, _ := strings.Cut(f[2], ":")
		if len(addr) == 32 {
			if !strings.HasPrefix(addr, "0000000000000000FFFF0000") {
				out = append(out, "IPv6 "+addr)
				continue
			}
			addr = addr[24:]
		}
		v, err := strconv.ParseUint(addr, 16, 32)
		if err != nil {
			continue
		}
		// The kernel prints the address as a number in host (little
		// endian) order.
		out = append(out, fmt.Sprintf("%d.%d.%d.%d", v&0xff, v>>8&0xff, v>>16&0xff, v>>24))
	}
	return out
}

// dialFrom connects from network namespace ns to addr:port (busybox nc,
// its standard input empty: pasta passes the container's answer on once
// the client has sent all it had) and returns what it read until the
// other end closed, or until limit (then an error).
func dialFrom(ns, addr, port string, limit time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "busybox", "nc", addr, port)
	cmd.WaitDelay = time.Second
	return cmd.Output()
}
