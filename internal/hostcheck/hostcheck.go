// Package hostcheck is `minimal-docker check`: whether this host is ready
// for `minimal-docker run` by the calling user (root, or a user without
// privileges: rootless), and for each piece that is missing, what it
// means and how to fix it.
//
// The checks are a table of named functions (checks), each reading the
// host's files beneath Host.Root (/proc, /sys, /etc: a temporary
// directory in the unit tests) and asking the kernel through
// Host.Probe, which starts a child in new namespaces and reaps it
// (probe.go). Nothing on the host is changed: the probes' mounts are
// made in a mount namespace of their own that dies with the child, in a
// temporary directory removed afterwards.
package hostcheck

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/sealed"
)

// Status is how one finding bears on `run` for the calling user.
type Status int

const (
	// OK: present and working.
	OK Status = iota
	// NotNeeded: absent or not checked, and not needed by this user (a
	// rootless user needs no CNI plugins; root needs no subordinate ids).
	NotNeeded
	// Note: absent; run works without it, with a feature less (limits,
	// images, a network), which Means says.
	Note
	// Missing: absent; run does not work for this user until it is fixed.
	Missing
)

// label is how Print shows a status.
func (s Status) label() string {
	switch s {
	case OK:
		return "ok"
	case NotNeeded:
		return "-"
	case Note:
		return "note"
	}
	return "MISSING"
}

// Finding is the result of one check.
type Finding struct {
	Name   string // what was checked: "kernel", "namespace pid", ...
	Status Status
	Found  string // what is there
	Means  string // for Note and Missing: what it means for the user
	Fix    string // for Note and Missing: how to fix it
}

// Host is where the checks look and who asks.
type Host struct {
	// Root is the directory that /proc, /sys, /etc, /dev and the CNI
	// plugins' directory are read beneath: "/" (a temporary directory in
	// the unit tests).
	Root string
	// UID, GID and User are the calling user's (User may be "": then
	// /etc/subuid is matched by uid alone).
	UID, GID int
	User     string
	// InUserNS: the caller runs in a user namespace other than the
	// host's (namespaces.InUserNS), where even uid 0 is not the host's
	// root: its containers are made as a rootless user's are.
	InUserNS bool
	// LookPath finds a program in PATH (exec.LookPath).
	LookPath func(name string) (string, error)
	// Probe asks the kernel by starting a child (RunProbe); nil: nothing
	// is probed, and the findings rest on the files alone.
	Probe func(Probe) error
	// Helper finds minimal-docker-helper, the container's init, beside
	// the runtime (sealed.Beside).
	Helper func() (string, error)
	// ImageBinary finds minimal-docker-image, which a lean minimal-docker
	// hands pull, load, save and import to; nil: this minimal-docker runs
	// them itself.
	ImageBinary func() (string, error)
	// Store is the image store (--root): the overlay probes are made on
	// its file system (in it, or its nearest ancestor the user may
	// write to: probeDir), where image containers' overlays are. "" for
	// anywhere.
	Store string
	// MountProgram is the overlay's mount program the user named
	// (--storage-opt overlay.mount_program), "" for none.
	MountProgram string
}

// Rootless says whether the calling user is not the host's root: its
// containers run in a user namespace of their own.
func (h *Host) Rootless() bool { return h.UID != 0 || h.InUserNS }

// path is p (absolute) beneath h.Root.
func (h *Host) path(p string) string { return filepath.Join(h.Root, p) }

// read returns the trimmed content of the file at p beneath h.Root.
func (h *Host) read(p string) (string, error) {
	b, err := os.ReadFile(h.path(p))
	return strings.TrimSpace(string(b)), err
}

// probe runs p, or says it was not run.
func (h *Host) probe(p Probe) error {
	if h.Probe == nil {
		return errNotProbed
	}
	return h.Probe(p)
}

// Current is the real host, for the calling user, with the probes run by
// exe (this binary: RunProbe).
func Current(exe string) *Host {
	h := &Host{
		Root:     "/",
		UID:      os.Getuid(),
		GID:      os.Getgid(),
		InUserNS: namespaces.InUserNS(),
		LookPath: exec.LookPath,
		Helper:   func() (string, error) { return sealed.Beside(sealed.HelperName) },
	}
	if u, err := user.LookupId(strconv.Itoa(h.UID)); err == nil {
		h.User = u.Username
	}
	h.Probe = func(p Probe) error { return RunProbeIn(exe, p, h.UID, h.GID, h.Store) }
	return h
}

// checks are the host's pieces, in the order the report lists them.
var checks = []struct {
	name string
	run  func(*Host) []Finding
}{
	{"kernel", checkKernel},
	{"helper", checkHelper},
	{"image binary", checkImageBinary},
	{"namespaces", checkNamespaces},
	{"user namespaces", checkUserNS},
	{"subordinate ids", checkSubIDs},
	{"newuidmap", checkIDMapTools},
	{"cgroups", checkCgroups},
	{"overlay", checkOverlay},
	{"seccomp", checkSeccomp},
	{"cni", checkCNI},
	{"rootless network", checkRootlessNet},
}

// Run runs every check.
func Run(h *Host) []Finding {
	var out []Finding
	for _, c := range checks {
		out = append(out, c.run(h)...)
	}
	return out
}

// Ready says whether run works for the user: nothing is Missing.
func Ready(fs []Finding) bool {
	for _, f := range fs {
		if f.Status == Missing {
			return false
		}
	}
	return true
}

// Print writes the report: who asks, a line per finding (with what it
// means and how to fix it beneath each Note and Missing), and the verdict.
func Print(w io.Writer, h *Host, fs []Finding) {
	who := fmt.Sprintf("uid %d", h.UID)
	if h.User != "" {
		who = fmt.Sprintf("%s (uid %d)", h.User, h.UID)
	}
	mode := "root"
	switch {
	case h.InUserNS:
		mode = "in a user namespace, not the host's root: containers are made as a rootless user's"
	case h.Rootless():
		mode = "rootless: containers run in a user namespace of their own"
	}
	fmt.Fprintf(w, "minimal-docker check for %s, %s\n\n", who, mode)
	width := 0
	for _, f := range fs {
		width = max(width, len(f.Name))
	}
	for _, f := range fs {
		fmt.Fprintf(w, "%-7s %-*s  %s\n", f.Status.label(), width, f.Name, f.Found)
		pad := strings.Repeat(" ", 7+1+width+2)
		if f.Status == Note || f.Status == Missing {
			if f.Means != "" {
				fmt.Fprintf(w, "%smeans: %s\n", pad, f.Means)
			}
			if f.Fix != "" {
				fmt.Fprintf(w, "%sfix:   %s\n", pad, f.Fix)
			}
		}
	}
	missing := 0
	for _, f := range fs {
		if f.Status == Missing {
			missing++
		}
	}
	if missing == 0 {
		fmt.Fprintf(w, "\nready: minimal-docker run works for %s\n", who)
		return
	}
	fmt.Fprintf(w, "\nnot ready: %d missing (MISSING above); minimal-docker run does not work for %s until they are fixed\n", missing, who)
}
