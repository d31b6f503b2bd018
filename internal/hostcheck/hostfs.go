package hostcheck

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/network"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
)

// checkOverlay asks whether the kernel's overlay mounts — as root, and in
// a user namespace, where a rootless container's image root is mounted
// (Linux 5.11) — and, where it does not in a user namespace, whether
// fuse-overlayfs can stand in.
func checkOverlay(h *Host) []Finding {
	fsList, _ := h.read("/proc/filesystems")
	known := false
	for _, line := range strings.Split(fsList, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[len(f)-1] == "overlay" {
			known = true
		}
	}
	imagesNeed := "images run on an overlay: `run IMAGE` fails (`run ROOTFS-DIR` works)"

	root := Finding{Name: "overlay"}
	if h.Rootless() {
		root.Status, root.Found = NotNeeded, "not mounted outside a user namespace by a rootless user"
	} else {
		root = overlayFinding(h.probe(ProbeOverlay), known, "overlay")
		if root.Status != OK {
			root.Status = Note
			root.Means = imagesNeed
			root.Fix = "modprobe overlay (CONFIG_OVERLAY_FS)"
		}
	}

	usernsErr := h.probe(ProbeOverlayUserNS)
	userns := overlayFinding(usernsErr, known, "overlay in a user namespace")
	path := imageOverlay(h, root, usernsErr, imagesNeed)
	if userns.Status == OK {
		return []Finding{root, userns, path}
	}
	if !h.Rootless() {
		userns.Status = NotNeeded
		userns.Found += " (needed by rootless users, who have fuse-overlayfs to fall back on)"
		return []Finding{root, userns, path}
	}
	// fuse-overlayfs in its stead: the program and /dev/fuse that the
	// user may open.
	fuse := Finding{Name: "fuse-overlayfs"}
	fusePath, err := h.LookPath(rootfs.FuseOverlayfs)
	switch {
	case err != nil:
		fuse.Status, fuse.Found = Note, "not found in PATH"
		fuse.Fix = "apt-get install fuse-overlayfs, or a kernel 5.11 or newer"
	case h.devFuse() != nil:
		fuse.Status, fuse.Found = Note, fusePath+", but /dev/fuse is not readable and writable by you"
		fuse.Fix = "as root: chmod 0666 /dev/fuse (as Debian's udev rules make it)"
	default:
		fuse.Found = fusePath + " and /dev/fuse"
	}
	if fuse.Status == OK {
		userns.Status = NotNeeded
		userns.Found += " (fuse-overlayfs stands in)"
	} else {
		userns.Status, fuse.Means = Note, imagesNeed
		userns.Means, userns.Fix = imagesNeed, "a kernel 5.11 or newer, or fuse-overlayfs (below)"
	}
	return []Finding{root, userns, fuse, path}
}

// imageOverlay says which way image containers' overlays are mounted
// for this user, as run decides it (rootfs.ChooseOverlayMount): root's
// overlay finding, the probe of the kernel's overlay in a user
// namespace (on the store's file system: Host.Store).
func imageOverlay(h *Host, root Finding, usernsErr error, imagesNeed string) Finding {
	f := Finding{Name: "image overlay"}
	m, err := rootfs.ChooseOverlayMount(rootfs.OverlayHost{
		MountProgram: h.MountProgram,
		Rootless:     h.Rootless(),
		Kernel:       func() error { return usernsErr },
		LookPath:     h.LookPath,
		DevFuse:      h.devFuse,
	})
	switch {
	case err != nil:
		f.Status, f.Found = Note, "none: neither the kernel's overlay nor fuse-overlayfs can be used"
		f.Means = imagesNeed
		f.Fix = "a kernel 5.11 or newer (the store on a file system with user xattrs), or apt-get install fuse-overlayfs"
	case m.Program == "" && !h.Rootless() && root.Status != OK:
		f.Status, f.Found = Note, "none: the kernel's overlay does not mount (above)"
		f.Means, f.Fix = root.Means, root.Fix
	default:
		f.Found = m.String() + ": " + m.Why
		if h.Store != "" {
			f.Found += " (store " + h.Store + ")"
		}
	}
	return f
}

// devFuse says whether the user may open /dev/fuse for reading and
// writing.
func (h *Host) devFuse() error {
	if err := unix.Access(h.path("/dev/fuse"), unix.R_OK|unix.W_OK); err != nil {
		return fmt.Errorf("%w: %v", rootfs.ErrNoDevFuse, err)
	}
	return nil
}

// overlayFinding is an overlay probe's answer err.
func overlayFinding(err error, known bool, name string) Finding {
	f := Finding{Name: name}
	switch {
	case err == nil:
		f.Found = "mounts"
	case errors.Is(err, errNotProbed):
		if known {
			f.Found = "in /proc/filesystems (not tried)"
		} else {
			f.Status, f.Found = Missing, "not in /proc/filesystems (not tried)"
		}
	default:
		f.Status, f.Found = Missing, "refused: "+err.Error()
	}
	return f
}

// cniPlugins are the CNI plugins of a minimal-docker network's conflist
// (network: bridge, host-local, portmap).
var cniPlugins = []string{"bridge", "host-local", "portmap"}

// checkCNI looks for the CNI plugins of run's default bridge network and
// the iptables it runs, which root's containers use.
func checkCNI(h *Host) []Finding {
	f := Finding{Name: "CNI plugins"}
	var absent []string
	for _, p := range cniPlugins {
		if !isExecutable(h.path(filepath.Join(network.PluginDir, p))) {
			absent = append(absent, p)
		}
	}
	ipt := Finding{Name: "iptables"}
	path, err := h.LookPath("iptables-restore")
	if err == nil {
		ipt.Found = path
	} else {
		ipt.Found = "no iptables-restore in PATH"
	}
	if len(absent) == 0 {
		f.Found = fmt.Sprintf("%s in %s", strings.Join(cniPlugins, ", "), network.PluginDir)
	} else {
		f.Found = fmt.Sprintf("%s: no %s", network.PluginDir, strings.Join(absent, ", "))
	}
	if h.Rootless() {
		f.Status, ipt.Status = NotNeeded, NotNeeded
		f.Found += " (not used by rootless containers: slirp4netns or pasta)"
		ipt.Found += " (not used by rootless containers)"
		return []Finding{f, ipt}
	}
	means := "run's default network, a bridge, can't be made: run works with --network none or host"
	if len(absent) > 0 {
		f.Status, f.Means = Missing, means
		f.Fix = "apt-get install containernetworking-plugins"
	}
	if err != nil {
		ipt.Status, ipt.Means = Missing, means+" (the bridge's rules)"
		ipt.Fix = "apt-get install iptables"
	}
	return []Finding{f, ipt}
}

// checkRootlessNet looks for a rootless container's way out, pasta
// (Debian's passt) or slirp4netns, and /dev/net/tun that they open.
func checkRootlessNet(h *Host) []Finding {
	f := Finding{Name: "slirp4netns/pasta"}
	var found []string
	for _, p := range []string{"pasta", "slirp4netns"} {
		if path, err := h.LookPath(p); err == nil {
			found = append(found, path)
		}
	}
	tun := unix.Access(h.path("/dev/net/tun"), unix.R_OK|unix.W_OK) == nil
	switch {
	case len(found) == 0:
		f.Found = "neither pasta nor slirp4netns in PATH"
		f.Fix = "apt-get install passt (pasta) or slirp4netns"
	case !tun:
		f.Found = strings.Join(found, ", ") + ", but /dev/net/tun is not readable and writable by you"
		f.Fix = "as root: chmod 0666 /dev/net/tun (as Debian's udev rules make it)"
	default:
		f.Found = strings.Join(found, ", ") + "; /dev/net/tun"
		return []Finding{f}
	}
	if !h.Rootless() {
		f.Status = NotNeeded
		f.Fix = ""
		f.Found += " (needed by rootless users only)"
		return []Finding{f}
	}
	f.Status = Missing
	f.Means = "a rootless container's network (the default, and -p) has no way out: run works with --network none or host"
	return []Finding{f}
}

// exists says whether there is anything at p.
func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// isExecutable says whether p is a regular file with an execute bit.
func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
