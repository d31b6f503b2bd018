// Command minimal-docker-init is the container's init, and nothing else:
// the runtimes (minimal-docker, minimal-runc) start it in the container's
// new namespaces instead of re-executing themselves, when it sits beside
// them (see package sealed). It runs the same code as their hidden "init"
// command (package initproc) — and, given "exec-init", as minimal-runc's
// hidden exec-init (package nsenter: a process that exec put in a running
// container) — but links none of the parent's libraries — no libseccomp,
// eBPF or CLI — so it starts in half the time: a container pays for this
// process's start-up before its own program runs. Build it with
// CGO_ENABLED=0 (make build does).
//
// The init is short-lived or a tiny PID 1: it needs no cgroup-aware
// GOMAXPROCS, whose files the Go runtime would keep open in the
// container's init (reachable through /proc/1/fd).
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"os"

	"github.com/minimal-docker/minimal-docker/internal/initproc"
	"github.com/minimal-docker/minimal-docker/internal/nsenter"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == nsenter.InitCommand {
		os.Exit(nsenter.Main())
	}
	os.Exit(initproc.Main())
}
