package sealed

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// TestSealedCannotBeWritten: both ways give a handle through which the
// file can be read and executed but not opened for writing, and the file
// stays as it was.
func TestSealedCannotBeWritten(t *testing.T) {
	testenv.RequireRoot(t)
	src := filepath.Join(t.TempDir(), "prog")
	if err := os.WriteFile(src, []byte("#!/bin/sh\necho sealed-ran\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method Method
		fd     func(string) (int, error)
	}{
		{ReadonlyMount, readonlyMount},
		{Memfd, memfdCopy},
	} {
		t.Run(string(tc.method), func(t *testing.T) {
			fd, err := tc.fd(src)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			// As another process sees it (the fd is close-on-exec).
			p := fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), fd)
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err == nil {
				// A sealed memfd opens, but refuses every write.
				_, err = f.Write([]byte("x"))
				f.Close()
			}
			if !errors.Is(err, unix.EROFS) && !errors.Is(err, unix.EPERM) {
				t.Errorf("writing through the sealed handle: %v, want EROFS (mount) or EPERM (seals)", err)
			}
			out, err := exec.Command("/bin/sh", p).Output()
			if err != nil || string(out) != "sealed-ran\n" {
				t.Errorf("running the sealed copy: %q, %v", out, err)
			}
		})
	}
	if data, _ := os.ReadFile(src); string(data) != "#!/bin/sh\necho sealed-ran\n" {
		t.Errorf("the original changed: %q", data)
	}
}

// TestExeHighFD: the handle is numbered at or above minFD and close-on-exec.
func TestExeHighFD(t *testing.T) {
	testenv.RequireRoot(t)
	f, m, err := Exe(100)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Fd() < 100 {
		t.Errorf("fd %d below 100", f.Fd())
	}
	flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("fd flags %#x, %v: want close-on-exec", flags, err)
	}
	t.Logf("sealed by %s", m)
}
