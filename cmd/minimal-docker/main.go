// Command minimal-docker is the Docker-like CLI: parse, dispatch, print, exit.
//
// make build builds it twice: lean (-tags lean) as minimal-docker, which
// does not link the registry client and the image archive formats and
// hands pull, load, save and import to minimal-docker-image, this same
// command built whole (internal/cli/docker/transfer_lean.go).
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

	"github.com/minimal-docker/minimal-docker/internal/cli/docker"
	"github.com/minimal-docker/minimal-docker/internal/exitcode"
	"github.com/minimal-docker/minimal-docker/internal/rootless"
)

func main() {
	// Run by a user who is not root: the same command again, as root of
	// a user namespace of the user's ids (package rootless). Not check:
	// it reports on what the entry needs (subordinate ids, newuidmap, user
	// namespaces), from where the user stands.
	if rootless.Needed() && verb(os.Args[1:]) != "check" {
		code, err := rootless.Enter(os.Stderr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "minimal-docker: %v\n", err)
			code = exitcode.Runtime
		}
		os.Exit(code)
	}
	// A write to a closed stdout or stderr (`run --explain ... 2>&1 | head`)
	// must fail with EPIPE, not kill the runtime halfway through a run with
	// its container's state and cgroup left behind: SIGPIPE notified on a
	// channel does that (os/signal). Not signal.Ignore: an ignored SIGPIPE
	// stays ignored across execve, in the container's process.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	os.Exit(docker.Execute(os.Args[1:], docker.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}

// verb is the first argument that is not a global flag (nor the value
// of --root or --log-level).
func verb(args []string) string {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--root" || a == "--log-level":
			i++
		case strings.HasPrefix(a, "-"):
		default:
			return a
		}
	}
	return ""
}
