package security

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// symlinkRows are the cases of a rootfs or a bundle whose paths are
// symlinks that lead out of the rootfs: the runtime must fail cleanly or
// resolve them inside the rootfs, and never mount on, create in or bind
// from the host path (CVE-2021-30465, CVE-2023-28642, CVE-2025-31133).
// Each symlink points at an empty host directory under the test's
// temporary directory (or at the host's /etc, used only as a bind source
// onto itself, which changes nothing even where it lands), and the check
// afterwards is that it is still as it was.
func symlinkRows() []row {
	rootDirs := func(name, link string, relative bool, fs string) row {
		host := filepath.Join(env.tmp, "host-"+strings.TrimPrefix(link, "/"))
		target := host
		if relative {
			// From ROOTFS/link, "../host-X" is TMP/host-X on the host;
			// inside the rootfs it stays at the root (/host-X).
			target = "../host-" + strings.TrimPrefix(link, "/")
		}
		return row{
			name:    name,
			helper:  "root-symlinks",
			defence: "securejoin",
			expect: expect{want: fmt.Sprintf("runtime-failed|ok %s=symlink->%s,%s host-marker=invisible", link, target, fs),
				through: "ok"},
			docker:  "runc fails or mounts inside the rootfs (CVE-2023-28642: /proc a symlink)",
			touches: []string{host},
			setup:   func(t *testing.T) { mustMkdir(t, host) },
			run: func(t *testing.T) outcome {
				rootfs := variantRootfs(t, name)
				replaceWithSymlink(t, filepath.Join(rootfs, link), target)
				o, err := runHelper(nil, rootfs, "root-symlinks")
				if err != nil {
					t.Fatal(err)
				}
				return o
			},
		}
	}
	rs := []row{
		rootDirs("proc-symlink", "/proc", false, "proc"),
		rootDirs("dev-symlink", "/dev", true, "tmpfs"),
		rootDirs("sys-symlink", "/sys", false, "sysfs"),
	}

	// A mount target that is a symlink to the host's /etc. The mount binds
	// the host's /etc there: where the runtime resolves the target inside
	// the rootfs, the container's /etc shows the host's (etc-probe); where
	// it followed the link, it bound /etc onto /etc, which changes nothing.
	rs = append(rs, row{
		name: "mount-target-symlink-etc", helper: "etc-probe", defence: "securejoin",
		expect:  expect{want: "runtime-failed|ok etc=host-etc-bound-inside"},
		docker:  "runc resolves mount targets inside the rootfs (CVE-2021-30465)",
		touches: []string{"/etc"},
		run: func(t *testing.T) outcome {
			var st unix.Stat_t
			if err := unix.Stat("/etc", &st); err != nil {
				t.Fatal(err)
			}
			rootfs := variantRootfs(t, "etcsym")
			replaceWithSymlink(t, filepath.Join(rootfs, "hostetc"), "/etc")
			b := newBundle(t, rootfs, []string{"/bin/escape", "etc-probe"}, []string{fmt.Sprintf("ESCAPE_ETC_ID=%d:%d", st.Dev, st.Ino)}, func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/hostetc", Type: "bind", Source: "/etc", Options: []string{"bind"}})
			})
			return b.run(t, "etc-probe")
		},
	})

	// A mount target that is a symlink to a host directory that does not
	// exist yet: the runtime must not create it on the host.
	mkdirHost := filepath.Join(env.tmp, "host-mkdir")
	rs = append(rs, row{
		name: "mount-target-symlink-mkdir", helper: "hostdir-probe", defence: "securejoin",
		expect:  expect{want: "runtime-failed|ok hostdir=tmpfs"},
		docker:  "runc creates mount points inside the rootfs only",
		touches: []string{mkdirHost},
		setup:   func(t *testing.T) { mustMkdir(t, mkdirHost) },
		run: func(t *testing.T) outcome {
			rootfs := variantRootfs(t, "mkdirsym")
			replaceWithSymlink(t, filepath.Join(rootfs, "hostdir"), filepath.Join(mkdirHost, "sub"))
			b := newBundle(t, rootfs, []string{"/bin/escape", "hostdir-probe"}, nil, func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/hostdir", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "noexec", "size=64k"}})
			})
			return b.run(t, "hostdir-probe")
		},
	})

	// The source of the binds that mask paths is the container's
	// /dev/null: a rootfs whose /dev/null is a symlink to
	// /proc/sys/kernel/core_pattern (and a config without a /dev tmpfs)
	// must not get core_pattern bound over the masked files
	// (CVE-2025-31133).
	rs = append(rs, row{
		name: "bind-source-symlink", helper: "masked-probe", defence: "securejoin+masked",
		expect:  expect{want: "runtime-failed|ok leak=none"},
		docker:  "runc >= 1.2.8 checks that /dev/null is the null device before binding it (CVE-2025-31133)",
		touches: []string{"/proc/sys/kernel/core_pattern"},
		run: func(t *testing.T) outcome {
			rootfs := variantRootfs(t, "devnullsym")
			mustMkdir(t, filepath.Join(rootfs, "dev"))
			replaceWithSymlink(t, filepath.Join(rootfs, "dev/null"), "/proc/sys/kernel/core_pattern")
			b := newBundle(t, rootfs, []string{"/bin/escape", "masked-probe"}, nil, func(s *specs.Spec) {
				kept := s.Mounts[:0]
				for _, m := range s.Mounts {
					if !testenv.IsUnder(m.Destination, "/dev") {
						kept = append(kept, m)
					}
				}
				s.Mounts = kept
			})
			return b.run(t, "masked-probe")
		},
	})
	return rs
}

var variants atomic.Int64

// variantRootfs builds a fresh busybox rootfs (with the helper) for a test
// that changes it.
func variantRootfs(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(env.tmp, fmt.Sprintf("rootfs-%s-%d", name, variants.Add(1)))
	if err := buildRootfs(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// replaceWithSymlink makes path a symlink to target, whatever was there.
func replaceWithSymlink(t *testing.T, path, target string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// ---- OCI bundles ----

// bundle is a bundle made with `minimal-runc spec`, edited, with a private
// --root for the state.
type bundle struct {
	dir, root, id string
}

var bundles atomic.Int64

// newBundle writes a bundle whose root is rootfs and whose process runs
// args with the helper's environment and extraEnv, without a terminal;
// edit changes the rest. The container is deleted (--force) when the test
// ends.
func newBundle(t *testing.T, rootfs string, args, extraEnv []string, edit func(*specs.Spec)) *bundle {
	t.Helper()
	b := &bundle{dir: t.TempDir(), root: t.TempDir(), id: fmt.Sprintf("md-security-%d-%d", os.Getpid(), bundles.Add(1))}
	if _, stderr, code, err := runCommand(env.runc, "spec", "--bundle", b.dir); err != nil || code != 0 {
		t.Fatalf("minimal-runc spec: exit %d %v %s", code, err, stderr)
	}
	err := testenv.EditConfig(b.dir, func(s *specs.Spec) {
		s.Root.Path = rootfs
		s.Process.Terminal = false
		s.Process.Args = args
		s.Process.Env = append(append(s.Process.Env, helperEnv()...), extraEnv...)
		if edit != nil {
			edit(s)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runCommand(env.runc, "--root", b.root, "delete", "--force", b.id) })
	return b
}

// run runs the container in the foreground (`minimal-runc run`) and
// returns what the helper's case reported.
func (b *bundle) run(t *testing.T, name string) outcome {
	t.Helper()
	args := []string{"--root", b.root, "run", "--bundle", b.dir, b.id}
	stdout, stderr, code, err := runCommand(env.runc, args...)
	o, found := parseOutcome(name, stdout)
	o.code = code
	o.output = fmt.Sprintf("minimal-runc %s\nexit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, o.output)
	}
	if !found {
		o.token, o.detail = "runtime-failed", testenv.FirstLine(stderr)
	}
	return o
}

// ---- CVE-2019-5736 ----

// exeAttempts bounds the processes exeOverwrite execs into the container.
const exeAttempts = 60

// exeOverwrite runs the helper's exe-overwrite case as PID 1 of a detached
// bundle container and execs short processes into it (minimal-runc exec
// /bin/escape __exit) until the helper holds one's /proc/PID/exe or
// exeAttempts have run; then, with no runtime process left on the host, it
// tells the helper to go on and waits for its report.
func exeOverwrite(t *testing.T) outcome {
	var st unix.Stat_t
	if err := unix.Stat(env.runc, &st); err != nil {
		t.Fatal(err)
	}
	goName := fmt.Sprintf("/tmp/md-security-go-%d-%d", os.Getpid(), bundles.Add(1))
	goHost := filepath.Join(env.rootfs, goName)
	t.Cleanup(func() {
		os.Remove(goHost)
		os.Remove(goHost + ".grabbed")
	})
	b := newBundle(t, env.rootfs, []string{"/bin/escape", "exe-overwrite"},
		[]string{fmt.Sprintf("ESCAPE_RUNTIME=%d:%d", st.Dev, st.Ino), "ESCAPE_GO_FILE=" + goName}, nil)

	out, err := os.Create(filepath.Join(b.dir, "output"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	runArgs := []string{"--root", b.root, "run", "--detach", "--bundle", b.dir, b.id}
	if err := runWithFiles(env.runc, runArgs, out, out); err != nil {
		t.Fatalf("minimal-runc %s: %v\n%s", strings.Join(runArgs, " "), err, readFile(out.Name()))
	}
	execs := 0
	for ; execs < exeAttempts && !testenv.Exists(goHost+".grabbed"); execs++ {
		args := []string{"--root", b.root, "exec", b.id, "/bin/escape", "__exit"}
		if _, stderr, code, err := runCommand(env.runc, args...); err != nil || code != 0 {
			t.Fatalf("minimal-runc %s: exit %d %v\n%s", strings.Join(args, " "), code, err, stderr)
		}
	}
	t.Logf("%d runtime processes exec'd into the container; the helper holds one: %v", execs, testenv.Exists(goHost+".grabbed"))
	if err := os.WriteFile(goHost, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(env.timeout)
	for {
		text := readFile(out.Name())
		if o, found := parseOutcome("exe-overwrite", text); found {
			o.output = text
			return o
		}
		if time.Now().After(deadline) {
			t.Fatalf("the helper reported nothing within %v\n%s", env.timeout, text)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runWithFiles runs bin with stdin from /dev/null and the given stdout and
// stderr, bounded by env.timeout.
func runWithFiles(bin string, args []string, stdout, stderr *os.File) error {
	ctx, cancel := context.WithTimeout(context.Background(), env.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("timed out: %w", err)
	}
	return err
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}
