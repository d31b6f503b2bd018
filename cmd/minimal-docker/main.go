// Command minimal-docker is the Docker-like CLI: parse, dispatch, print, exit.
package main

import (
	"os"

	"github.com/minimal-docker/minimal-docker/internal/cli/docker"
)

func main() {
	os.Exit(docker.Execute(os.Args[1:], docker.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
