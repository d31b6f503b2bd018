// Command minimal-runc is the OCI runtime CLI (runc's command line) over
// the same core as minimal-docker: parse, dispatch, print, exit.
//
// The runtime's processes are short-lived or a tiny PID 1: they need no
// cgroup-aware GOMAXPROCS, whose files the Go runtime would keep open in
// the container's init (reachable through /proc/1/fd).
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/minimal-docker/minimal-docker/internal/cli/runc"
	"github.com/minimal-docker/minimal-docker/internal/rootless"
)

func main() {
	// A write to a closed stdout or stderr (`run --explain ... 2>&1 | head`)
	// must fail with EPIPE, not kill the runtime halfway through a run with
	// its container's state and cgroup left behind: SIGPIPE notified on a
	// channel does that (os/signal). Not signal.Ignore: an ignored SIGPIPE
	// stays ignored across execve, in the container's process.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	// Not root, outside a user namespace, --rootless not false: the same
	// command again as root of a user namespace of the user's ids, as
	// minimal-docker does (package rootless). runc would go on as the
	// user and fail at the first mount.
	if rootless.Needed() && rootlessFlag(os.Args[1:]) != "false" {
		code, err := rootless.Enter(os.Stderr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "minimal-runc: %v\n", err)
			code = 1
		}
		os.Exit(code)
	}
	os.Exit(runc.Execute(os.Args[1:], runc.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}

// rootlessFlag is the value of the global --rootless among args before
// the verb ("auto" when not given; the flag parser checks it later).
func rootlessFlag(args []string) string {
	for i, a := range args {
		if !strings.HasPrefix(a, "-") {
			break
		}
		if v, ok := strings.CutPrefix(a, "--rootless="); ok {
			return v
		}
		if a == "--rootless" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return "auto"
}
