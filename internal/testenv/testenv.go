// Package testenv holds what tests that run real containers share, written
// once for the suites (tests/integration, tests/security, tests/interop)
// and the packages' own tests: a busybox root filesystem builder and a
// requires-root guard (this file); the suites' set-up (RootSuite,
// SuiteSetup, Binaries); the mount table (Mount, read with
// github.com/moby/sys/mountinfo); processes (ProcTable, Descendants,
// NSpid, Background); the leftover check's snapshot of mounts and cgroup
// directories (Snapshot: each suite passes what it tolerates); a bundle's
// config.json (EditConfig); and the text of messages (Indent, FirstLine).
//
// The rootfs is made from a static busybox (Debian's busybox-static installs
// one at /bin/busybox): one copy of the binary at /bin/busybox and a symlink
// to it for every applet, the directories a container expects, and minimal
// /etc/passwd and /etc/group files. There is no /etc/hostname: the hostname
// comes from the runtime.
package testenv

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/seccomp"
)

// rootfsDirs are the directories every rootfs gets, with their modes.
var rootfsDirs = []struct {
	path string
	mode os.FileMode
}{
	{"bin", 0o755},
	{"sbin", 0o755},
	{"usr/bin", 0o755},
	{"usr/sbin", 0o755},
	{"usr/local/bin", 0o755},
	{"etc", 0o755},
	{"root", 0o700},
	{"tmp", os.ModeSticky | 0o777},
	{"proc", 0o555},
	{"dev", 0o755},
	{"sys", 0o555},
	{"var", 0o755},
}

// rootfsFiles are the configuration files every rootfs gets.
var rootfsFiles = []struct {
	path    string
	content string
}{
	{"etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"},
	{"etc/group", "root:x:0:\nnogroup:x:65534:\n"},
}

// BuildBusyboxRootfs makes a root filesystem in dir (created if missing)
// from the static busybox binary at busybox. Each entry of extra copies the
// host file named by the value to the rootfs path named by the key (for
// example "/bin/probe"), with mode 0755. Errors name the path involved.
func BuildBusyboxRootfs(dir, busybox string, extra map[string]string) error {
	for _, d := range rootfsDirs {
		p := filepath.Join(dir, d.path)
		if err := os.MkdirAll(p, d.mode); err != nil {
			return fmt.Errorf("rootfs: %w", err)
		}
		// MkdirAll is subject to the umask and leaves existing dirs alone.
		if err := os.Chmod(p, d.mode); err != nil {
			return fmt.Errorf("rootfs: %w", err)
		}
	}
	if err := copyFile(busybox, filepath.Join(dir, "bin/busybox"), 0o755); err != nil {
		return err
	}
	applets, err := listApplets(busybox)
	if err != nil {
		return err
	}
	for _, a := range applets {
		if a == "bin/busybox" {
			continue
		}
		link := filepath.Join(dir, a)
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			return fmt.Errorf("rootfs: %w", err)
		}
		if err := replaceWithSymlink("/bin/busybox", link); err != nil {
			return err
		}
	}
	for _, f := range rootfsFiles {
		p := filepath.Join(dir, f.path)
		if err := os.WriteFile(p, []byte(f.content), 0o644); err != nil {
			return fmt.Errorf("rootfs: %w", err)
		}
	}
	for dst, src := range extra {
		p := filepath.Join(dir, dst)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("rootfs: %w", err)
		}
		if err := copyFile(src, p, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// listApplets asks busybox for the rootfs-relative path of every applet
// (for example "usr/bin/env").
func listApplets(busybox string) ([]string, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(busybox, "--list-full")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("rootfs: %s --list-full: %w: %s", busybox, err, strings.TrimSpace(stderr.String()))
	}
	var applets []string
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		clean := filepath.Clean(strings.TrimPrefix(line, "/"))
		if clean == "." || strings.HasPrefix(clean, "..") {
			return nil, fmt.Errorf("rootfs: %s --list-full: unexpected applet path %q", busybox, line)
		}
		applets = append(applets, clean)
	}
	if len(applets) == 0 {
		return nil, fmt.Errorf("rootfs: %s --list-full: no applets listed", busybox)
	}
	return applets, nil
}

// replaceWithSymlink makes link a symlink to target, replacing whatever was
// at link.
func replaceWithSymlink(target, link string) error {
	if err := os.Remove(link); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("rootfs: %w", err)
	}
	if err := os.Symlink(target, link); err != nil {
		return fmt.Errorf("rootfs: %w", err)
	}
	return nil
}

// copyFile copies the regular file src to dst with the given mode,
// replacing whatever was at dst (a symlink included).
func copyFile(src, dst string, mode os.FileMode) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("rootfs: %w", err)
	}
	defer in.Close()
	if err := os.Remove(dst); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("rootfs: %w", err)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("rootfs: %w", err)
	}
	defer func() {
		if cerr := out.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("rootfs: %w", cerr)
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("rootfs: copy %s to %s: %w", src, dst, err)
	}
	if err := out.Chmod(mode); err != nil {
		return fmt.Errorf("rootfs: %w", err)
	}
	return nil
}

// RequireRoot skips the test unless it runs with effective user ID 0.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("requires root")
	}
}

// Suite is what SuiteSetup read from the environment.
type Suite struct {
	// Timeout bounds every wait: MD_TIMEOUT (a Go duration), default 60s.
	Timeout time.Duration
	// Busybox is the static busybox the rootfs is made from: MD_BUSYBOX,
	// default /bin/busybox.
	Busybox string
}

// envDockerRoot is minimal-docker's variable for the root of its
// containers' records (docker.EnvRoot; that package can't be imported
// here: tests of the packages below it use this one).
const envDockerRoot = "MINIMAL_DOCKER_ROOT"

// envDataRoot is minimal-docker's variable for the default of its --root,
// the image store (docker.EnvDataRoot).
const envDataRoot = "MINIMAL_DOCKER_DATA_ROOT"

// envDefaultNetwork is minimal-docker's variable for the network of a
// container without --network (docker.EnvDefaultNetwork).
const envDefaultNetwork = "MINIMAL_DOCKER_DEFAULT_NETWORK"

// SuiteSetup is what each suite's TestMain does first with its temporary
// directory tmp: the runtimes' seccomp cache, minimal-docker's records
// of its containers and its image store go into it (and so go with it), containers get
// --network none by default, and the environment is read (Suite).
func SuiteSetup(tmp string) (Suite, error) {
	if err := os.Setenv(seccomp.EnvCacheDir, filepath.Join(tmp, "seccomp-cache")); err != nil {
		return Suite{}, err
	}
	if err := os.Setenv(envDockerRoot, filepath.Join(tmp, "containers")); err != nil {
		return Suite{}, err
	}
	// The image store (--root's default: writable/ID of a foreground
	// run, images, volumes) too, never the host's /var/lib/minimal-docker.
	if err := os.Setenv(envDataRoot, filepath.Join(tmp, "data")); err != nil {
		return Suite{}, err
	}
	// The suites' containers run without a network unless a test says
	// otherwise (--network, or this variable unset): the default bridge
	// would touch the host's network.
	if err := os.Setenv(envDefaultNetwork, "none"); err != nil {
		return Suite{}, err
	}
	s := Suite{Timeout: 60 * time.Second, Busybox: os.Getenv("MD_BUSYBOX")}
	if s.Busybox == "" {
		s.Busybox = "/bin/busybox"
	}
	if v := os.Getenv("MD_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Suite{}, fmt.Errorf("MD_TIMEOUT=%q: want a positive Go duration such as 90s", v)
		}
		s.Timeout = d
	}
	return s, nil
}

// OwnCgroupDirs lists this process's cgroup directory in each hierarchy:
// each v1 hierarchy once (v1: controller -> mount point), and the v2 tree
// (mounted at unified, if not ""); self is this process's cgroup per
// controller, "" for v2 (cgroups.SelfPaths). Sorted.
func OwnCgroupDirs(v1 map[string]string, unified string, self map[string]string) []string {
	set := map[string]bool{}
	for ctrl, mnt := range v1 {
		if rel, ok := self[ctrl]; ok {
			set[filepath.Join(mnt, rel)] = true
		}
	}
	if unified != "" {
		if rel, ok := self[""]; ok {
			set[filepath.Join(unified, rel)] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}
