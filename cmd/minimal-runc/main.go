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
	"os"
	"os/signal"
	"syscall"

	"github.com/minimal-docker/minimal-docker/internal/cli/runc"
)

func main() {
	// A write to a closed stdout or stderr (`run --explain ... 2>&1 | head`)
	// must fail with EPIPE, not kill the runtime halfway through a run with
	// its container's state and cgroup left behind: SIGPIPE notified on a
	// channel does that (os/signal). Not signal.Ignore: an ignored SIGPIPE
	// stays ignored across execve, in the container's process.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	os.Exit(runc.Execute(os.Args[1:], runc.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
