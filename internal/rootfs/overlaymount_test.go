package rootfs

import (
	"errors"
	"strings"
	"testing"
)

// TestChooseOverlayMount: the choice of the image overlay's path, not
// the kernel's answer (the probe is given).
func TestChooseOverlayMount(t *testing.T) {
	refused := errors.New("mount overlay: invalid argument")
	found := func(string) (string, error) { return "/usr/bin/fuse-overlayfs", nil }
	absent := func(string) (string, error) {
		return "", errors.New(`exec: "fuse-overlayfs": executable file not found in $PATH`)
	}
	fuseOK := func() error { return nil }
	noFuse := func() error { return ErrNoDevFuse }
	for _, tc := range []struct {
		name    string
		h       OverlayHost
		program string
		errHas  []string // the error names both paths
	}{
		{"root: the kernel's, never probed", OverlayHost{Rootless: false, LookPath: found, DevFuse: fuseOK}, "", nil},
		{"root asks for a program", OverlayHost{MountProgram: "/opt/fo", LookPath: absent, DevFuse: noFuse}, "/opt/fo", nil},
		{"rootless asks for a program: no probe", OverlayHost{MountProgram: "/usr/bin/fuse-overlayfs", Rootless: true, LookPath: absent, DevFuse: noFuse}, "/usr/bin/fuse-overlayfs", nil},
		{"rootless, the kernel's mounts", OverlayHost{Rootless: true, Kernel: func() error { return nil }, LookPath: found, DevFuse: fuseOK}, "", nil},
		{"rootless, the kernel's refused: fuse-overlayfs", OverlayHost{Rootless: true, Kernel: func() error { return refused }, LookPath: found, DevFuse: fuseOK}, "/usr/bin/fuse-overlayfs", nil},
		{"rootless, neither: no program", OverlayHost{Rootless: true, Kernel: func() error { return refused }, LookPath: absent, DevFuse: fuseOK}, "", []string{"kernel's overlay", "invalid argument", "fuse-overlayfs", "not found"}},
		{"rootless, neither: no /dev/fuse", OverlayHost{Rootless: true, Kernel: func() error { return refused }, LookPath: found, DevFuse: noFuse}, "", []string{"kernel's overlay", "invalid argument", "fuse-overlayfs", "/dev/fuse"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.h.Kernel == nil {
				tc.h.Kernel = func() error { t.Fatal("the kernel's overlay was probed"); return nil }
			}
			m, err := ChooseOverlayMount(tc.h)
			if tc.errHas != nil {
				if err == nil {
					t.Fatalf("chose %v (%s), want an error", m, m.Why)
				}
				for _, s := range tc.errHas {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Program != tc.program {
				t.Errorf("program %q (%s), want %q", m.Program, m.Why, tc.program)
			}
		})
	}
}
