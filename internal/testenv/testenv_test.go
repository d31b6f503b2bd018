package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestBuildBusyboxRootfs(t *testing.T) {
	const busybox = "/bin/busybox"
	if _, err := os.Stat(busybox); err != nil {
		t.Skipf("needs %s (Debian package busybox-static): %v", busybox, err)
	}
	dir := filepath.Join(t.TempDir(), "rootfs")
	extraSrc := filepath.Join(t.TempDir(), "hello")
	if err := os.WriteFile(extraSrc, []byte("#!/bin/sh\necho hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := BuildBusyboxRootfs(dir, busybox, map[string]string{"/bin/hello": extraSrc}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		path     string
		mode     os.FileMode // permission and type bits to compare, 0 to skip
		linkDest string      // for symlinks
	}{
		{path: "bin/busybox", mode: 0o755},
		{path: "tmp", mode: os.ModeDir | os.ModeSticky | 0o777},
		{path: "proc", mode: os.ModeDir | 0o555},
		{path: "dev", mode: os.ModeDir | 0o755},
		{path: "sys", mode: os.ModeDir | 0o555},
		{path: "var", mode: os.ModeDir | 0o755},
		{path: "root", mode: os.ModeDir | 0o700},
		{path: "bin/sh", linkDest: "/bin/busybox"},
		{path: "usr/bin/env", linkDest: "/bin/busybox"},
		{path: "etc/passwd", mode: 0o644},
		{path: "etc/group", mode: 0o644},
		{path: "bin/hello", mode: 0o755},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p := filepath.Join(dir, tt.path)
			fi, err := os.Lstat(p)
			if err != nil {
				t.Fatal(err)
			}
			if tt.linkDest != "" {
				dest, err := os.Readlink(p)
				if err != nil {
					t.Fatal(err)
				}
				if dest != tt.linkDest {
					t.Errorf("%s -> %s, want -> %s", tt.path, dest, tt.linkDest)
				}
				return
			}
			got := fi.Mode() & (os.ModeType | os.ModePerm | os.ModeSticky)
			if got != tt.mode {
				t.Errorf("mode of %s = %v, want %v", tt.path, got, tt.mode)
			}
		})
	}
	if _, err := os.Lstat(filepath.Join(dir, "etc/hostname")); !os.IsNotExist(err) {
		t.Errorf("etc/hostname should not exist, Lstat: %v", err)
	}
}

func TestBuildBusyboxRootfsErrorsNamePath(t *testing.T) {
	dir := t.TempDir()
	err := BuildBusyboxRootfs(dir, "/nonexistent/busybox", nil)
	if err == nil {
		t.Fatal("BuildBusyboxRootfs with a missing busybox succeeded")
	}
	if want := "/nonexistent/busybox"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %s", err, want)
	}
}

// TestBinariesFromEnv: a binary named by its variable is taken as it is
// (made absolute), nothing is built; one that is not is built from its
// package into the directory, named after it.
func TestBinariesFromEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MD_TEST_BIN", "relative/minimal-docker")
	var given, built string
	err := Binaries(dir,
		Bin{Path: &given, Env: "MD_TEST_BIN", Pkg: "./cmd/minimal-docker", Runtime: true},
		Bin{Path: &built, Env: "MD_TEST_UNSET", Pkg: "./tests/probe"},
	)
	if err != nil {
		t.Fatal(err)
	}
	if wd, _ := os.Getwd(); given != filepath.Join(wd, "relative/minimal-docker") {
		t.Errorf("from the environment: %s, want it made absolute", given)
	}
	if built != filepath.Join(dir, "probe") {
		t.Errorf("built: %s, want %s", built, filepath.Join(dir, "probe"))
	}
	if _, err := os.Stat(built); err != nil {
		t.Errorf("built binary: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "minimal-docker-helper")); err == nil {
		t.Error("companions built though no runtime was")
	}
}

// TestOwnCgroupDirs: one directory per hierarchy (co-mounted controllers
// once), the v2 tree's when it is mounted, nothing for a controller this
// process has no cgroup for.
func TestOwnCgroupDirs(t *testing.T) {
	v1 := map[string]string{"cpu": "/cg/cpu,cpuacct", "cpuacct": "/cg/cpu,cpuacct", "memory": "/cg/memory", "pids": "/cg/pids"}
	self := map[string]string{"cpu": "/a", "cpuacct": "/a", "memory": "/b", "": "/c"}
	got := strings.Join(OwnCgroupDirs(v1, "/cg/unified", self), " ")
	if want := "/cg/cpu,cpuacct/a /cg/memory/b /cg/unified/c"; got != want {
		t.Errorf("hybrid: %s, want %s", got, want)
	}
	if got := strings.Join(OwnCgroupDirs(nil, "/sys/fs/cgroup", map[string]string{"": "/x"}), " "); got != "/sys/fs/cgroup/x" {
		t.Errorf("v2: %s, want /sys/fs/cgroup/x", got)
	}
}

func TestText(t *testing.T) {
	for _, tt := range []struct{ in, indent, first string }{
		{"", "\t(empty)", ""},
		{" \n", "\t(empty)", ""},
		{"one\ntwo\n", "\tone\n\ttwo", "one"},
		{"\n  lead\nnext", "\t\n\t  lead\n\tnext", "lead"},
	} {
		if got := Indent(tt.in); got != tt.indent {
			t.Errorf("Indent(%q) = %q, want %q", tt.in, got, tt.indent)
		}
		if got := FirstLine(tt.in); got != tt.first {
			t.Errorf("FirstLine(%q) = %q, want %q", tt.in, got, tt.first)
		}
	}
}

// TestNSpidAndStatusFields: this process's NSpid starts with its PID as the
// host sees it; a process that is gone has none.
func TestNSpidAndStatusFields(t *testing.T) {
	if got := StatusFields("Name:\tsh\nNSpid:\t12\t1\n")["NSpid"]; got != "12\t1" {
		t.Errorf("StatusFields NSpid = %q, want %q", got, "12\t1")
	}
	ns := NSpid(os.Getpid())
	if len(ns) == 0 || ns[0] != strconv.Itoa(os.Getpid()) {
		t.Errorf("NSpid(self) = %v, want it to start with %d", ns, os.Getpid())
	}
	if ns := NSpid(-1); ns != nil {
		t.Errorf("NSpid(-1) = %v, want none", ns)
	}
}

// TestExists: a dangling symlink is something at its path.
func TestExists(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "missing"), link); err != nil {
		t.Fatal(err)
	}
	if !Exists(link) || Exists(filepath.Join(dir, "missing")) {
		t.Errorf("Exists(dangling symlink) = %v, Exists(missing) = %v; want true, false", Exists(link), Exists(filepath.Join(dir, "missing")))
	}
}

// TestBackground: a command that waits for its stdin has not exited; once
// the stdin is closed it exits, Done closes and Exited says so.
func TestBackground(t *testing.T) {
	cmd := exec.Command("sh", "-c", "read x")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	b, err := StartBackground(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if b.Exited() || b.Pid() <= 0 {
		t.Errorf("right after the start: Exited() = %v, Pid() = %d", b.Exited(), b.Pid())
	}
	stdin.Close()
	<-b.Done
	if !b.Exited() {
		t.Error("Exited() = false after Done closed")
	}
	if _, err := StartBackground(exec.Command("/nonexistent/program")); err == nil {
		t.Error("StartBackground(/nonexistent/program) = nil error")
	}
}
