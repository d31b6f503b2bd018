// Command minimal-docker-helper is the runtimes' cgo half, so that the
// runtimes themselves (minimal-docker, minimal-runc) are pure Go and start
// without cgo's cost at every command. The runtimes run it from beside
// their own binary (package sealed) for three jobs:
//
//   - the container's init: with _MINIMAL_DOCKER_PLAN_FD set, its C
//     constructor (plan.c) reads the plan the runtime compiled (package
//     plan, package initproc) and carries it out before any Go runtime
//     starts, then execs the container's command;
//   - exec: its C constructor (nsenter.c) joins a running container's
//     namespaces before the Go runtime starts, forks, and the child runs
//     the exec's plan the same way (package nsenter);
//   - hold: waits for the end of its standard input (sealed.HelperHold),
//     started in a new user namespace to hold it open while the runtime
//     makes an idmapped mount with its mapping;
//   - seccomp-compile: a linux.seccomp profile (JSON) on standard input,
//     the classic BPF program libseccomp compiles from it on standard
//     output, the syscall names it did not know on standard error
//     (seccomp.ServeCompile; package seccomp calls it when its cache has
//     no program).
//
// Build it with cgo, linked statically (make build does). It is not for
// people to run.
package main

// Importing "C" compiles the constructors (plan.c, nsenter.c) and the
// plan's operations (plan_fs.c, plan_proc.c) into the binary.

import "C"

import (
	"fmt"
	"io"
	"os"

	"github.com/minimal-docker/minimal-docker/internal/sealed"
	"github.com/minimal-docker/minimal-docker/internal/seccomp"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == sealed.HelperHold {
		_, _ = io.Copy(io.Discard, os.Stdin)
		return
	}
	if len(os.Args) != 2 || os.Args[1] != seccomp.HelperCompile {
		fmt.Fprintf(os.Stderr, "minimal-docker-helper: internal to minimal-docker and minimal-runc: usage: %s %s < PROFILE.json\n", os.Args[0], seccomp.HelperCompile)
		os.Exit(2)
	}
	if err := seccomp.ServeCompile(os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "minimal-docker-helper: %v\n", err)
		os.Exit(1)
	}
}
