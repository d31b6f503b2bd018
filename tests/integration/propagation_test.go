package integration

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// rootPropagationScript prints the propagation of the container's / (its
// line's optional fields in /proc/self/mountinfo, "none" for private),
// then tries to bind / elsewhere (refused for an unbindable root).
const rootPropagationScript = `tags=$(awk '$5=="/" {t=""; for (i=7; $i!="-"; i++) t=t" "$i; print t}' /proc/self/mountinfo | tail -n 1)
echo "root:${tags:- none}"
mkdir -p /tmp/bindtest && mount --bind / /tmp/bindtest && echo bind-ok && umount /tmp/bindtest || echo bind-refused`

// TestRootfsPropagation: linux.rootfsPropagation is applied to the
// container's root as the OCI validation suite checks it (shared, slave,
// private, unbindable), and the caller's mount table is left as it was.
// The runtime runs in a mount namespace of the test's own, whose / is
// shared as a host's usually is (testenv.RunInOwnMountNS): a shared root
// must not carry the container's mounts back to it.
func TestRootfsPropagation(t *testing.T) {
	cases := []struct {
		mode     string
		want     []string // substrings of the root's tags
		wantNot  []string
		bindSays string
	}{
		{mode: "shared", want: []string{"shared:"}, wantNot: []string{"master:", "unbindable"}, bindSays: "bind-ok"},
		{mode: "rshared", want: []string{"shared:"}, wantNot: []string{"master:"}, bindSays: "bind-ok"},
		{mode: "slave", want: []string{"master:"}, wantNot: []string{"shared:"}, bindSays: "bind-ok"},
		{mode: "rslave", want: []string{"master:"}, wantNot: []string{"shared:"}, bindSays: "bind-ok"},
		{mode: "private", want: []string{"none"}, wantNot: []string{"shared:", "master:"}, bindSays: "bind-ok"},
		{mode: "rprivate", want: []string{"none"}, wantNot: []string{"shared:", "master:"}, bindSays: "bind-ok"},
		{mode: "unbindable", want: []string{"unbindable"}, wantNot: []string{"shared:"}, bindSays: "bind-refused"},
		{mode: "runbindable", want: []string{"unbindable"}, wantNot: []string{"shared:"}, bindSays: "bind-refused"},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			b := newBundle(t, "/bin/sh", "-c", rootPropagationScript)
			b.edit(t, func(s *specs.Spec) {
				s.Linux.RootfsPropagation = c.mode
				s.Root.Readonly = false // the case binds onto a directory it makes
				s.Linux.Seccomp = nil   // which refuses mount
				addCaps(s, "CAP_SYS_ADMIN")
			})
			id := uniqueName("prop")
			r, err := testenv.RunInOwnMountNS(`"$RUNC" --root "$R" run --bundle "$B" "$ID" </dev/null; echo "exit $?"`,
				2*env.timeout, "RUNC="+env.runc, "R="+b.root, "B="+b.dir, "ID="+id)
			if err != nil {
				t.Fatal(err)
			}
			out := r.Output
			if !strings.Contains(out, "exit 0") {
				t.Fatalf("run failed:\n%s", out)
			}
			var root string
			for _, line := range strings.Split(out, "\n") {
				if v, ok := strings.CutPrefix(line, "root:"); ok {
					root = v
				}
			}
			for _, w := range c.want {
				if !strings.Contains(root, w) {
					t.Errorf("the container's / has %q, want %q\n%s", root, w, out)
				}
			}
			for _, w := range c.wantNot {
				if strings.Contains(root, w) {
					t.Errorf("the container's / has %q, want no %q\n%s", root, w, out)
				}
			}
			if !strings.Contains(out, c.bindSays) {
				t.Errorf("binding / inside: want %s\n%s", c.bindSays, out)
			}
			if r.Before != r.After {
				t.Errorf("the caller's mount table changed:\nbefore:\n%s\nafter:\n%s", r.Before, r.After)
			}
		})
	}
}

// addCaps adds capabilities to every set of the spec's process.
func addCaps(s *specs.Spec, caps ...string) {
	c := s.Process.Capabilities
	if c == nil {
		c = &specs.LinuxCapabilities{}
		s.Process.Capabilities = c
	}
	c.Bounding = append(c.Bounding, caps...)
	c.Effective = append(c.Effective, caps...)
	c.Permitted = append(c.Permitted, caps...)
}

// volumePropagationScript is the container's half of
// TestVolumePropagation: once the caller says go (after mounting a tmpfs on
// the volume's h), it says whether it sees that mount, mounts a tmpfs on
// the volume's c and says done.
const volumePropagationScript = `i=0
while [ ! -e /vol/go ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done
if [ -e /vol/h/flag ]; then echo host-to-container=yes; else echo host-to-container=no; fi >/vol/result
mount -t tmpfs ctr /vol/c && touch /vol/c/flag
touch /vol/done
sleep 1000`

// TestVolumePropagation: a bind-mounted volume with rshared, rslave or
// rprivate propagation (Kubernetes' Bidirectional, HostToContainer and
// None, as containerd's CRI asks for them: the bind's own option and the
// same linux.rootfsPropagation) receives the caller's later mounts
// (rshared, rslave) and sends the container's back (rshared only). Run in
// a mount namespace of the test's own whose / is shared, as a host's is;
// its table is compared before and after.
func TestVolumePropagation(t *testing.T) {
	cases := []struct {
		mode                       string
		hostToContainer, toTheHost string
	}{
		{"rshared", "yes", "yes"},
		{"rslave", "yes", "no"},
		{"rprivate", "no", "no"},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			b := newBundle(t, "/bin/sh", "-c", volumePropagationScript)
			vol := t.TempDir()
			b.edit(t, func(s *specs.Spec) {
				s.Linux.RootfsPropagation = c.mode
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/vol", Type: "bind", Source: vol,
					Options: []string{"rbind", c.mode}})
				s.Linux.Seccomp = nil // which refuses mount
				addCaps(s, "CAP_SYS_ADMIN")
			})
			id := uniqueName("volprop")
			r, err := testenv.RunInOwnMountNS(`mkdir -p "$V/h" "$V/c"
mount --bind "$V" "$V" && mount --make-shared "$V" || exit 98
"$RUNC" --root "$R" run -d --bundle "$B" "$ID" </dev/null >/dev/null; echo "run exit $?"
mount -t tmpfs host "$V/h" && touch "$V/h/flag" && touch "$V/go"
i=0
while [ ! -e "$V/done" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done
cat "$V/result"
if [ -e "$V/c/flag" ]; then echo to-the-host=yes; else echo to-the-host=no; fi
"$RUNC" --root "$R" delete --force "$ID"
umount "$V/c" 2>/dev/null
umount "$V/h"; umount "$V"`,
				2*env.timeout, "RUNC="+env.runc, "R="+b.root, "B="+b.dir, "ID="+id, "V="+vol)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(r.Output, "run exit 0") {
				t.Fatalf("run failed:\n%s", r.Output)
			}
			for _, want := range []string{"host-to-container=" + c.hostToContainer, "to-the-host=" + c.toTheHost} {
				if !strings.Contains(r.Output, want) {
					t.Errorf("want %s\n%s", want, r.Output)
				}
			}
			if r.Before != r.After {
				t.Errorf("the caller's mount table changed:\nbefore:\n%s\nafter:\n%s", r.Before, r.After)
			}
		})
	}
}
