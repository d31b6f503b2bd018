package initproc

import "github.com/minimal-docker/minimal-docker/internal/rootfs"

// The steps for linux.devices, linux.readonlyPaths and linux.maskedPaths;
// the work is in package rootfs.

func makeSpecDevices(s *state) error {
	return rootfs.CreateDevices(s.root, s.spec.Linux.Devices, s.spec.Mounts)
}

func readonlyPaths(s *state) error { return rootfs.ReadonlyPaths(s.spec.Linux.ReadonlyPaths) }

func maskPaths(s *state) error { return rootfs.MaskPaths(s.spec.Linux.MaskedPaths) }
