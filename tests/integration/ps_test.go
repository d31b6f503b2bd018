package integration

// ps's filters on real detached containers: exited=, ancestor= (an
// image's name resolved in the image store), before= and since= (a
// container by name); ps -s.

import (
	"strings"
	"testing"
)

func TestPsFilters(t *testing.T) {
	root := t.TempDir()
	mdi(t, root, "import", rootfsTarball(t, t.TempDir()), "test/bb").wantExit(t, 0)
	detached(t, root, "--name", "pa", env.rootfs, "sh", "-c", "exit 3")
	detached(t, root, "--name", "pb", "test/bb", "sleep", "1000")
	detached(t, root, "--name", "pc", "test/bb", "true")
	mdi(t, root, "wait", "pa", "pc").wantExit(t, 0)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-a", "--filter", "ancestor=test/bb"}, "pc pb"},
		{[]string{"--filter", "ancestor=test/bb"}, "pb"},
		{[]string{"-a", "--filter", "ancestor=nosuch/image"}, ""},
		{[]string{"-a", "--filter", "exited=3"}, "pa"},
		{[]string{"-a", "--filter", "exited=0", "--filter", "exited=3"}, "pc pa"},
		{[]string{"-a", "--filter", "before=pb"}, "pa"},
		{[]string{"-a", "--filter", "since=pb"}, "pc"},
		{[]string{"-a", "--filter", "status=exited", "--filter", "ancestor=test/bb"}, "pc"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := mdi(t, root, append(append([]string{"ps"}, c.args...), "--format", "{{.Names}}")...)
			r.wantExit(t, 0)
			if got := strings.Join(r.lines(), " "); got != c.want {
				t.Errorf("want %q\n%s", c.want, r)
			}
		})
	}
	// -s: the SIZE column, an image container's writes and, as virtual,
	// with its image's; a rootfs container's N/A.
	mdi(t, root, "exec", "pb", "sh", "-c", "head -c 5000 /dev/zero >/five-k").wantExit(t, 0)
	r := mdi(t, root, "ps", "-s", "--filter", "name=pb")
	r.wantExit(t, 0)
	if lines := r.lines(); len(lines) != 2 || !strings.HasSuffix(lines[0], "SIZE") || !strings.Contains(lines[1], "5kB (virtual ") {
		t.Errorf("ps -s: want a SIZE column, 5kB written\n%s", r)
	}
	if r := mdi(t, root, "ps", "-a", "--filter", "name=pa", "--format", "{{.Size}}"); r.stdout != "N/A\n" {
		t.Errorf("ps {{.Size}} of a rootfs container: want N/A\n%s", r)
	}
	r = mdi(t, root, "ps", "--filter", "since=nosuch")
	r.wantExit(t, 1)
	r.wantStderr(t, "No such container: nosuch")
}
