// Command minimal-runc is the OCI runtime CLI (runc's command line) over
// the same core as minimal-docker: parse, dispatch, print, exit.
package main

import (
	"os"

	"github.com/minimal-docker/minimal-docker/internal/cli/runc"
)

func main() {
	os.Exit(runc.Execute(os.Args[1:], runc.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
