package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLeftoverMounts: a mount made since the snapshot is a leftover
// beneath the suite's own directory and outside the temporary directory,
// and so is a second mount of a mount point the snapshot had once; one
// beneath another temporary directory is only logged.
func TestLeftoverMounts(t *testing.T) {
	tmp := os.TempDir()
	own := filepath.Join(tmp, "md-suite")
	line := func(id int, mountPoint string) string {
		return fmt.Sprintf("%d 1 0:%d / %s rw - tmpfs tmpfs rw\n", id, id, mountPoint)
	}
	parse := func(text string) []Mount {
		t.Helper()
		m, err := ParseMountinfo(text)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	before := line(1, "/") + line(2, "/mnt/twice") + line(3, own+"/gone")
	s := snapshotOf(parse(before), nil)

	after := line(1, "/") + line(2, "/mnt/twice") + line(4, "/mnt/twice") +
		line(5, own+"/rootfs/proc") + line(6, tmp+"/other-package/mnt") + line(7, "/srv/new")
	var logged []string
	logf := func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }
	var got []string
	for _, m := range s.leftoverMounts(parse(after), own, logf) {
		got = append(got, m.Mountpoint)
	}
	if want := []string{"/mnt/twice", own + "/rootfs/proc", "/srv/new"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("leftovers %q, want %q", got, want)
	}
	if len(logged) != 1 || !strings.Contains(logged[0], tmp+"/other-package/mnt") {
		t.Errorf("logged %q, want the mount in the other package's directory", logged)
	}
}

// TestNewCgroups: a directory made since the snapshot is new; one that
// vanishes within the grace is not.
func TestNewCgroups(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "old"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := snapshotOf(nil, []string{root})
	stays, goes := filepath.Join(root, "old", "stays"), filepath.Join(root, "goes")
	for _, d := range []string{stays, goes} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(s.NewCgroups([]string{root}, 0), " "); got != goes+" "+stays {
		t.Errorf("new: %s, want %s %s", got, goes, stays)
	}
	if err := os.Remove(stays); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		os.Remove(goes)
	}()
	if got := s.NewCgroups([]string{root}, time.Minute); len(got) != 0 {
		t.Errorf("new after the grace: %v, want none", got)
	}
}
