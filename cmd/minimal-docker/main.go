// Command minimal-docker is the Docker-like CLI: parse, dispatch, print, exit.
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

	"github.com/minimal-docker/minimal-docker/internal/cli/docker"
)

func main() {
	os.Exit(docker.Execute(os.Args[1:], docker.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
