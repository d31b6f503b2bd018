package integration

// exec on a detached container: -u with names, read from the container's
// own /etc/passwd and /etc/group as it is now (inside its root), as
// Docker's exec does; -d with -t, refused.

import (
	"strings"
	"testing"
)

// TestExecUserNames: exec -u NAME[:GROUP] resolves names from the
// running container's files (written after it started: not the image's),
// gives the user's primary and supplementary groups and HOME; a name the
// files lack is Docker's error, exit 126.
func TestExecUserNames(t *testing.T) {
	root := t.TempDir()
	mdi(t, root, "import", rootfsTarball(t, t.TempDir()), "test/bb").wantExit(t, 0)
	detached(t, root, "--name", "ux", "test/bb", "sleep", "1000")
	addUsers := `echo 'app:x:1000:1000:app:/home/app:/bin/sh' >>/etc/passwd &&
		printf 'app:x:1000:\nwheel2:x:2000:root,app\nstaff2:x:3000:\n' >>/etc/group`
	mdi(t, root, "exec", "ux", "sh", "-c", addUsers).wantExit(t, 0)
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		out    string
		stderr string
	}{
		{"a name: its uid, groups and HOME", []string{"-u", "app", "ux", "sh", "-c", `id -u; id -G; echo $HOME`}, 0, "1000\n1000 2000\n/home/app\n", ""},
		{"NAME:GROUP", []string{"-u", "app:staff2", "ux", "sh", "-c", "id -u; id -g"}, 0, "1000\n3000\n", ""},
		{"a uid in /etc/passwd gets its group", []string{"-u", "1000", "ux", "id", "-g"}, 0, "1000\n", ""},
		{"UID:GID numbers", []string{"-u", "65534:65534", "ux", "id", "-u"}, 0, "65534\n", ""},
		{"-e HOME wins", []string{"-u", "app", "-e", "HOME=/x", "ux", "sh", "-c", "echo $HOME"}, 0, "/x\n", ""},
		{"an unknown user", []string{"-u", "nosuch", "ux", "true"}, 126, "", "unable to find user nosuch: no matching entries in passwd file"},
		{"an unknown group", []string{"-u", "app:nosuchgroup", "ux", "true"}, 126, "", "unable to find group nosuchgroup: no matching entries in group file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := mdi(t, root, append([]string{"exec"}, c.args...)...)
			if r.code != c.code || r.stdout != c.out || !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("want exit %d, %q and %q on stderr\n%s", c.code, c.out, c.stderr, r)
			}
		})
	}
	// An /etc/passwd that is a symlink out of the container's root is
	// resolved inside it: the host's root entry is not found there.
	mdi(t, root, "exec", "ux", "sh", "-c", "mkdir -p /h/etc && echo 'hostonly:x:7:7::/:/bin/sh' >/h/etc/passwd && mv /etc/passwd /etc/passwd.real && ln -s ../../../../../h/etc/passwd /etc/passwd").wantExit(t, 0)
	if r := mdi(t, root, "exec", "-u", "hostonly", "ux", "id", "-u"); r.code != 0 || r.stdout != "7\n" {
		t.Errorf("exec -u through a symlinked /etc/passwd: want uid 7 from the container's /h/etc/passwd\n%s", r)
	}
}

// TestExecDetachTTY: exec -d -t is refused, saying why (nothing would
// hold the pty), and starts nothing.
func TestExecDetachTTY(t *testing.T) {
	root := t.TempDir()
	detached(t, root, "--name", "dt", env.rootfs, "sleep", "1000")
	r := mdi(t, root, "exec", "-d", "-t", "dt", "sleep", "999")
	r.wantExit(t, 1)
	r.wantStderr(t, "exec -d with -t: not supported (nothing would hold the pty's master")
	if r := mdi(t, root, "top", "dt"); r.code != 0 || strings.Contains(r.stdout, "sleep 999") || len(r.lines()) != 2 {
		t.Errorf("exec -d -t refused: want only the container's sleep in top\n%s", r)
	}
}
