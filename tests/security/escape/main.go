// The Go runtime would otherwise keep the cgroup CPU files open (for
// GOMAXPROCS), and "escape proc-fds" would list them as if leaked.
//
//go:debug containermaxprocs=0

// Command escape attempts one container escape per case, from inside a
// container, and reports what the kernel answered on one line:
//
//	CASE errno=NAME [DETAIL]    the attempt failed with errno NAME
//	CASE ok [DETAIL]            the attempt succeeded (DETAIL says what it saw)
//	CASE refused: WHY           not attempted: it could have changed the host
//
// It is built with CGO_ENABLED=0 and copied into the busybox rootfs of
// tests/security as /bin/escape. Every attempt is made so that the host is
// unchanged even if it gets through: the clock is set to the time it
// already reads, files get back the value they hold, reboot is asked only
// for LINUX_REBOOT_CMD_CAD_OFF, accounting is switched off at once, devices
// are opened read-only, kexec_load gets no segments, init_module gets no
// module. Before any attempt it checks that its PID, mount and UTS
// namespaces are not the host's (ESCAPE_HOST_NS) and refuses otherwise.
// "escape list" prints the cases. The cases live in
// tests/security/internal/escapes.
package main

import (
	"os"

	"github.com/minimal-docker/minimal-docker/tests/security/internal/escapes"
)

func main() {
	os.Exit(escapes.Main(os.Args))
}
