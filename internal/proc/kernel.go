package proc

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// KernelAtLeast reports whether the running kernel's release is at least
// major.minor (false when uname can't say).
func KernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	rel := unix.ByteSliceToString(u.Release[:])
	var ma, mi int
	if _, err := fmt.Sscanf(rel, "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}
