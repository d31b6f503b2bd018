package sealed

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSealedCannotBeWritten: both ways give a handle through which the
// file can be read and executed but not opened for writing, and the file
// stays as it was.
func TestSealedCannotBeWritten(t *testing.T) {
	requireRoot(t)
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

// TestOpenHighFD: the handle is numbered at or above minFD and close-on-exec.
func TestOpenHighFD(t *testing.T) {
	requireRoot(t)
	f, m, err := Open("/proc/self/exe", 100)
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

// TestFindHelper: the helper beside the runtime (mode 0755 here), which
// runs as root in every container, is used when it is an executable
// regular file, with the runtime's owner, that no one else can write;
// absent, beside finds none (Beside's error); anything else is an error
// that names it.
func TestFindHelper(t *testing.T) {
	requireRoot(t) // chown
	for _, tc := range []struct {
		name    string
		make    func(path string) error
		want    bool // found
		wantErr bool
	}{
		{"absent", func(string) error { return nil }, false, false},
		{"executable", func(p string) error { return os.WriteFile(p, nil, 0o755) }, true, false},
		{"world-writable", func(p string) error { return writeMode(p, 0o757) }, false, true},
		{"group-writable", func(p string) error { return writeMode(p, 0o775) }, false, true},
		{"other owner", func(p string) error {
			if err := os.WriteFile(p, nil, 0o755); err != nil {
				return err
			}
			return os.Chown(p, 65534, 65534)
		}, false, true},
		{"not executable", func(p string) error { return os.WriteFile(p, nil, 0o644) }, false, true},
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			self := filepath.Join(dir, "minimal-runc")
			if err := os.WriteFile(self, nil, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := tc.make(filepath.Join(dir, HelperName)); err != nil {
				t.Fatal(err)
			}
			got, err := beside(self, HelperName)
			if (err != nil) != tc.wantErr {
				t.Fatalf("beside: %q, %v; want error %v", got, err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), filepath.Join(dir, HelperName)) {
				t.Errorf("error %q does not name the helper", err)
			}
			if want := filepath.Join(dir, HelperName); tc.want && got != want {
				t.Errorf("beside = %q, want %q", got, want)
			}
			if !tc.want && got != "" {
				t.Errorf("beside = %q, want none", got)
			}
		})
	}
}

// TestBesideMissing: a companion with no fallback (the helper) that is
// not there is an error naming where it was looked for.
func TestBesideMissing(t *testing.T) {
	_, err := Beside("minimal-docker-no-such-companion")
	self, _ := os.Executable()
	want := filepath.Join(filepath.Dir(self), "minimal-docker-no-such-companion")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), want) {
		t.Errorf("Beside(missing) = %v, want not-exist naming %s", err, want)
	}
}

// writeMode creates path with exactly mode (the umask would clear the
// group and other write bits).
func writeMode(path string, mode os.FileMode) error {
	if err := os.WriteFile(path, nil, 0o700); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}

// requireRoot skips a test that needs root (testenv.RequireRoot's work:
// testenv imports seccomp, which imports this package).
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("requires root")
	}
}
