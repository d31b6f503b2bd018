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

	"github.com/minimal-docker/minimal-docker/internal/cli/runc"
)

func main() {
	os.Exit(runc.Execute(os.Args[1:], runc.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
