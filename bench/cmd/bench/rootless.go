package main

// The rootless bench (issue 18, "Speed"): `run --rm ROOTFS true` by the
// CI's unprivileged user (testenv.RootlessUserName) with minimal-docker
// rootless and with rootless Podman (its own OCI runtime), beside
// minimal-docker as root, interleaved round by round. Each runs the same
// rootfs, a copy of the bench's given to the user (Podman writes
// /etc/mtab into it), with --network none; neither rootless engine has
// cgroups here (no delegated v2 cgroup on this host: Podman
// with --cgroups disabled, minimal-docker says it runs without limits),
// the root path has its default limits.

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

var (
	rootlessRounds = flag.Int("rootless", 10, "measured rounds of the rootless bench, after one warm-up round (0 skips it)")
	rootlessOnly   = flag.Bool("rootless-only", false, "run only the rootless bench")
)

// rootlessRun is one way of running the container in the rootless bench.
type rootlessRun struct {
	name, version, missing string
	cmd                    func() *exec.Cmd
	samples                []time.Duration
	failed                 error
}

// asUser makes cmd run as uid and gid (testenv.AsUser) with environment env.
func asUser(cmd *exec.Cmd, uid, gid int, env []string) *exec.Cmd {
	cmd.SysProcAttr = testenv.AsUser(uid, gid)
	cmd.Env = env
	return cmd
}

func (e *env) rootlessBench() string {
	var b strings.Builder
	b.WriteString("### Rootless: `run --rm ROOTFS true` by an unprivileged user\n\n")
	u, err := user.Lookup(testenv.RootlessUserName)
	if err != nil {
		fmt.Fprintf(&b, "Not run: %v (scripts/host-setup.sh makes the user)\n", err)
		return b.String()
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// The user reaches its directory through the bench's (search only).
	if err := os.Chmod(e.tmp, 0o711); err != nil {
		fmt.Fprintf(&b, "Not run: %v\n", err)
		return b.String()
	}
	dir := filepath.Join(e.tmp, "rootless")
	var pausePID string
	defer func() {
		// Podman's pause process holds its user namespace between runs:
		// ended by the PID it wrote.
		if pid, err := strconv.Atoi(strings.TrimSpace(pausePID)); err == nil && pid > 1 {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
		cleanDir(dir)
	}()
	env := []string{"HOME=" + filepath.Join(dir, "home"), "USER=" + u.Username, "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
		"XDG_RUNTIME_DIR=" + filepath.Join(dir, "run"), "XDG_DATA_HOME=" + filepath.Join(dir, "data"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "config")}
	if err := os.Mkdir(dir, 0o755); err == nil {
		err = os.Chown(dir, uid, gid)
	}
	if err != nil {
		fmt.Fprintf(&b, "Not run: %v\n", err)
		return b.String()
	}
	rootfs := filepath.Join(dir, "rootfs")
	for _, c := range [][]string{{"mkdir", "-m", "0700", "home", "run", "data", "config"}, {"cp", "-a", e.rootfs, rootfs},
		{"chown", "-R", u.Uid + ":" + u.Gid, rootfs}} {
		cmd := exec.Command(c[0], c[1:]...)
		if c[0] == "mkdir" {
			asUser(cmd, uid, gid, env)
		}
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(&b, "Not run: %s: %v: %s\n", strings.Join(c, " "), err, out)
			return b.String()
		}
	}
	ours := &rootlessRun{name: "minimal-docker rootless", version: firstLine(e.mdocker, "--version"),
		cmd: func() *exec.Cmd {
			return asUser(exec.Command(e.mdocker, "run", "--rm", "--network", "none", rootfs, "true"), uid, gid, env)
		}}
	root := &rootlessRun{name: "minimal-docker as root", version: ours.version,
		cmd: func() *exec.Cmd { return exec.Command(e.mdocker, "run", "--rm", "--network", "none", rootfs, "true") }}
	podman := &rootlessRun{name: "podman rootless"}
	if path, err := exec.LookPath("podman"); err != nil {
		podman.missing = "podman is not installed"
	} else {
		podman.version = firstLine(path, "--version") + " (" + firstLine("crun", "--version") + ")"
		podman.cmd = func() *exec.Cmd {
			return asUser(exec.Command(path, "--root", filepath.Join(dir, "podman-root"), "--runroot", filepath.Join(dir, "run", "podman"),
				"--storage-driver", "vfs", "run", "--rm", "--network", "none", "--cgroups", "disabled", "--rootfs", rootfs, "true"), uid, gid, env)
		}
	}
	runs := []*rootlessRun{ours, podman, root}
	fmt.Printf("rootless: 1 warm-up + %d rounds\n", *rootlessRounds)
	for round := 0; round <= *rootlessRounds; round++ {
		for _, r := range runs {
			if r.missing != "" || r.failed != nil {
				continue
			}
			cmd := r.cmd()
			cmd.Dir = dir
			t0 := time.Now()
			out, err := cmd.CombinedOutput()
			d := time.Since(t0)
			if err != nil {
				r.failed = fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
				fmt.Fprintf(os.Stderr, "bench: rootless %s: %v\n", r.name, r.failed)
				continue
			}
			if round > 0 {
				r.samples = append(r.samples, d)
			}
		}
		if pausePID == "" {
			if p, err := os.ReadFile(filepath.Join(dir, "run", "libpod", "tmp", "pause.pid")); err == nil {
				pausePID = string(p)
			}
		}
	}
	fmt.Fprintf(&b, "%d interleaved rounds after one warm-up (ratios: the median of the per-round ratios to minimal-docker rootless); "+
		"wall time of the command, run by the user %s (uid %s, subordinate ids from /etc/subuid) through a direct setuid/setgid, no login. "+
		"The same rootfs (the user's copy of the bench's busybox), `--network none`. Rootless runs have no cgroup limits here "+
		"(no delegated cgroup v2: Podman with `--cgroups disabled`); the root run has minimal-docker's default limits. "+
		"Podman uses the vfs storage driver (`--rootfs` needs no image) and keeps its pause process between runs, as it does for a user.\n\n",
		*rootlessRounds, u.Username, u.Uid)
	for _, r := range runs {
		if r.missing == "" {
			fmt.Fprintf(&b, "- %s: %s\n", r.name, r.version)
		}
	}
	b.WriteString("\n| run | median | min | max | / minimal-docker rootless |\n| --- | ---: | ---: | ---: | ---: |\n")
	for _, r := range runs {
		switch {
		case r.missing != "":
			fmt.Fprintf(&b, "| %s | skipped: %s | | | |\n", r.name, r.missing)
		case r.failed != nil:
			fmt.Fprintf(&b, "| %s | failed: %s | | | |\n", r.name, strings.Join(strings.Fields(r.failed.Error()), " "))
		case len(r.samples) == 0:
			fmt.Fprintf(&b, "| %s | no samples | | | |\n", r.name)
		default:
			ratio := "—"
			if len(ours.samples) == len(r.samples) {
				ratio = fmt.Sprintf("%.2f×", roundRatio(r.samples, ours.samples))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.name, ms(median(r.samples)), ms(slices.Min(r.samples)), ms(slices.Max(r.samples)), ratio)
		}
	}
	b.WriteString("\n")
	return b.String()
}
