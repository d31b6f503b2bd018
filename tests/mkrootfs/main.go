// Command mkrootfs builds a busybox root filesystem for minimal-docker:
//
//	go run ./tests/mkrootfs [--busybox PATH] [--probe PATH] DIR
//
// --busybox names the static busybox to use (default /bin/busybox, from
// Debian's busybox-static); --probe, when given, is copied into the rootfs
// as /bin/probe (build it with CGO_ENABLED=0 go build ./tests/probe).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkrootfs:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("mkrootfs", flag.ContinueOnError)
	busybox := fs.String("busybox", "/bin/busybox", "static busybox binary to install")
	probe := fs.String("probe", "", "static probe binary to install as /bin/probe")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: mkrootfs [--busybox PATH] [--probe PATH] DIR")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("want exactly one DIR, got %d arguments", fs.NArg())
	}
	extra := map[string]string{}
	if *probe != "" {
		extra["/bin/probe"] = *probe
	}
	return testenv.BuildBusyboxRootfs(fs.Arg(0), *busybox, extra)
}
