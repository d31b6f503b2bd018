package rootfs

import (
	"fmt"
	"path/filepath"
)

// CheckPaths checks linux.readonlyPaths and linux.maskedPaths before
// anything is made: each an absolute path in the container.
func CheckPaths(readonly, masked []string) error {
	for _, l := range []struct {
		field string
		paths []string
	}{{"linux.readonlyPaths", readonly}, {"linux.maskedPaths", masked}} {
		for _, p := range l.paths {
			if !filepath.IsAbs(p) {
				return fmt.Errorf("%s %s: not an absolute path", l.field, p)
			}
		}
	}
	return nil
}
