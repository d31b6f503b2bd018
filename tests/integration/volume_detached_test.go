package integration

// Volumes of detached containers (run -d, create, start, rm -v): a
// container keeps its volumes in use from its create to its removal,
// running or not, as Docker's; its anonymous volumes live as long as it
// does (rm -v, run --rm remove them).

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/minimal-docker/minimal-docker/internal/store"
)

// volumeNames is `volume ls -q` under root.
func volumeNames(t *testing.T, root string) string {
	t.Helper()
	r := mdi(t, root, "volume", "ls", "-q")
	r.wantExit(t, 0)
	return r.stdout
}

// volumeMount is the mount of container c on dst, as inspect shows it.
func volumeMount(t *testing.T, c store.Container, dst string) store.MountPoint {
	t.Helper()
	for _, m := range c.Mounts {
		if m.Destination == dst {
			return m
		}
	}
	t.Fatalf("inspect: no mount on %s in %+v", dst, c.Mounts)
	return store.MountPoint{}
}

var anonymousName = regexp.MustCompile(`^[0-9a-f]{64}$`)

// A named volume a detached container wrote in is there for a later
// container; inspect and ps show it as Docker's do.
func TestVolumeDetachedNamed(t *testing.T) {
	root, rootfs := t.TempDir(), ownRootfs(t)
	id := detached(t, root, "--name", "writer", "-v", "data:/d", rootfs, "sh", "-c", "echo kept > /d/f; sleep 1000")
	data := filepath.Join(root, "volumes", "data", "_data")
	waitFor(t, "file written in the volume", func() bool { return fileHas(filepath.Join(data, "f"), "kept\n") })

	c := inspectContainer(t, root, id)
	m := volumeMount(t, c, "/d")
	if m.Type != "volume" || m.Name != "data" || m.Source != data || m.Driver != "local" || !m.RW {
		t.Errorf("inspect Mounts: %+v, want Type volume, Name data, Source %s, Driver local, RW", m, data)
	}
	if got := strings.Join(c.HostConfig.Binds, " "); got != "data:/d" {
		t.Errorf("inspect HostConfig.Binds %q, want data:/d", got)
	}
	r := mdi(t, root, "ps", "--format", "{{.Mounts}} {{.LocalVolumes}}")
	if strings.TrimSpace(r.stdout) != "data 1" {
		t.Errorf("ps Mounts and LocalVolumes: %q, want data 1\n%s", r.stdout, r)
	}

	mdi(t, root, "rm", "-f", "writer").wantExit(t, 0)
	wantNothingLeft(t, root, c)
	r = runIn(t, root, rootfs, []string{"--mount", "type=volume,source=data,target=/x"}, "cat", "/x/f")
	if r.code != 0 || r.stdout != "kept\n" {
		t.Errorf("a later container: want the file the detached one wrote\n%s", r)
	}
	mdi(t, root, "volume", "rm", "data").wantExit(t, 0)
}

// An anonymous volume (-v TARGET, --mount without a source) is made at
// create, named with 64 hex digits, kept across stop and start; rm keeps
// it, rm -v removes it.
func TestVolumeDetachedAnonymous(t *testing.T) {
	root, rootfs := t.TempDir(), ownRootfs(t)
	r := mdi(t, root, "create", "--name", "anon", "-v", "/anon", "--mount", "type=volume,target=/m", rootfs,
		"sh", "-c", "echo run >> /anon/f; echo m > /m/f; sleep 1000")
	r.wantExit(t, 0)
	id := strings.TrimSpace(r.stdout)
	t.Cleanup(func() { mdi(t, root, "rm", "-f", "-v", id) })
	c := inspectContainer(t, root, "anon")
	anon, m := volumeMount(t, c, "/anon"), volumeMount(t, c, "/m")
	for _, v := range []store.MountPoint{anon, m} {
		if v.Type != "volume" || !anonymousName.MatchString(v.Name) || v.Driver != "local" {
			t.Fatalf("inspect Mounts: %+v, want an anonymous volume (64 hex digits, local)", v)
		}
	}
	if len(c.HostConfig.Binds) != 0 {
		t.Errorf("HostConfig.Binds %q, want none (anonymous volumes are not binds)", c.HostConfig.Binds)
	}
	if got, want := volumeNames(t, root), strings.Join(sorted(anon.Name, m.Name), "\n")+"\n"; got != want {
		t.Fatalf("volume ls after create: %q, want the two anonymous volumes %q", got, want)
	}
	f := filepath.Join(anon.Source, "f")

	mdi(t, root, "start", "anon").wantExit(t, 0)
	waitFor(t, "first write", func() bool { return fileHas(f, "run\n") })
	mdi(t, root, "stop", "-t", "0", "anon").wantExit(t, 0)
	mdi(t, root, "start", "anon").wantExit(t, 0)
	waitFor(t, "second write, beside the first", func() bool { return fileHas(f, "run\nrun\n") })

	mdi(t, root, "rm", "-f", "anon").wantExit(t, 0) // without -v: Docker's rm keeps them
	if got := volumeNames(t, root); !strings.Contains(got, anon.Name) || !strings.Contains(got, m.Name) {
		t.Errorf("rm without -v removed the anonymous volumes: volume ls %q", got)
	}
	mdi(t, root, "volume", "prune", "-f").wantExit(t, 0) // now unused: pruned
	if got := volumeNames(t, root); got != "" {
		t.Errorf("volume prune left %q", got)
	}

	id = detached(t, root, "-v", "/anon", "-v", "named:/n", rootfs, "sleep", "1000")
	c = inspectContainer(t, root, id)
	mdi(t, root, "rm", "-f", "-v", id).wantExit(t, 0)
	wantNothingLeft(t, root, c)
	if got := volumeNames(t, root); got != "named\n" {
		t.Errorf("rm -v: volume ls %q, want the named volume only", got)
	}
}

func sorted(s ...string) []string {
	if len(s) == 2 && s[0] > s[1] {
		s[0], s[1] = s[1], s[0]
	}
	return s
}

// A volume any container uses, running or not, is not removed (Docker's
// message names the containers), nor pruned; once they are gone it is.
func TestVolumeDetachedInUse(t *testing.T) {
	root, rootfs := t.TempDir(), ownRootfs(t)
	r := mdi(t, root, "create", "--name", "created", "-v", "busy:/d", rootfs, "true")
	r.wantExit(t, 0)
	created := strings.TrimSpace(r.stdout)
	t.Cleanup(func() { mdi(t, root, "rm", "-f", created) })
	exited := detached(t, root, "--name", "exited", "-v", "busy:/d", "-v", "/anon", rootfs, "true")
	if r := mdi(t, root, "wait", "exited"); r.stdout != "0\n" {
		t.Fatalf("wait: want 0\n%s", r)
	}
	anon := volumeMount(t, inspectContainer(t, root, "exited"), "/anon").Name
	ids := sorted(created, exited)

	for _, args := range [][]string{{"volume", "rm", "busy"}, {"volume", "rm", "-f", "busy"}} {
		r := mdi(t, root, args...)
		r.wantExit(t, 1)
		r.wantStderr(t, "remove busy: volume is in use - ["+ids[0]+", "+ids[1]+"]")
	}
	r = mdi(t, root, "volume", "rm", anon)
	r.wantExit(t, 1)
	r.wantStderr(t, "remove "+anon+": volume is in use - ["+exited+"]")
	mdi(t, root, "volume", "prune", "-a", "-f").wantExit(t, 0)
	if got := volumeNames(t, root); got != strings.Join(sorted(anon, "busy"), "\n")+"\n" {
		t.Errorf("volume prune -a removed a volume in use: volume ls %q", got)
	}

	mdi(t, root, "rm", "created").wantExit(t, 0)
	r = mdi(t, root, "volume", "rm", "busy")
	r.wantExit(t, 1)
	r.wantStderr(t, "volume is in use - ["+exited+"]")
	mdi(t, root, "container", "prune", "-f").wantExit(t, 0)
	mdi(t, root, "volume", "rm", "busy", anon).wantExit(t, 0)
	if got := volumeNames(t, root); got != "" {
		t.Errorf("volume ls %q, want none", got)
	}
}

// run -d --rm removes the container's anonymous volumes when it ends, as
// docker run --rm; its named ones stay. A run -d that fails leaves no
// anonymous volume, and its named ones free.
func TestVolumeDetachedAutoRemove(t *testing.T) {
	root, rootfs := t.TempDir(), ownRootfs(t)
	detached(t, root, "--rm", "-v", "/anon", "-v", "kept:/k", rootfs, "sh", "-c", "echo x > /anon/f; echo y > /k/f")
	waitFor(t, "the --rm container removed", func() bool {
		r := mdi(t, root, "ps", "-a", "-q")
		return r.code == 0 && r.stdout == ""
	})
	if got := volumeNames(t, root); got != "kept\n" {
		t.Errorf("after run -d --rm: volume ls %q, want kept only", got)
	}
	wantHostFile(t, filepath.Join(root, "volumes", "kept", "_data", "f"), "y\n")

	r := mdi(t, root, "run", "-d", "-v", "/anon", "-v", "kept:/k", rootfs, "nosuchcommand")
	r.wantExit(t, 127)
	if got := volumeNames(t, root); got != "kept\n" {
		t.Errorf("after a failed run -d: volume ls %q, want kept only", got)
	}
	mdi(t, root, "volume", "rm", "kept").wantExit(t, 0)
}

// An image's VOLUME is an anonymous volume of each container, made at
// create with what the image has there (its layers merged: the opaque
// /data holds only "new"), kept across stop and start; a -v on the same
// path replaces it; a foreground run's goes with the run.
func TestVolumeDetachedImageVolume(t *testing.T) {
	reg := startRegistry(t)
	ref := reg + "/test/volumes:1"
	pushBusyboxImage(t, ref, v1.Config{Env: []string{"PATH=/bin"}, Cmd: []string{"sh"},
		Volumes: map[string]struct{}{"/data": {}, "/fresh": {}}})
	root := t.TempDir()
	mdi(t, root, "pull", "-q", ref).wantExit(t, 0)

	id := detached(t, root, "--name", "img", ref, "sh", "-c", "echo run >> /fresh/f; sleep 1000")
	c := inspectContainer(t, root, id)
	data, fresh := volumeMount(t, c, "/data"), volumeMount(t, c, "/fresh")
	for _, m := range []store.MountPoint{data, fresh} {
		if m.Type != "volume" || !anonymousName.MatchString(m.Name) || m.Driver != "local" || !m.RW {
			t.Fatalf("inspect Mounts: %+v, want an anonymous volume", m)
		}
	}
	wantHostFile(t, filepath.Join(data.Source, "new"), "new")
	if _, err := os.Lstat(filepath.Join(data.Source, "old")); err == nil {
		t.Errorf("the volume on /data has old, which the image's opaque /data hides")
	}
	f := filepath.Join(fresh.Source, "f")
	waitFor(t, "first write", func() bool { return fileHas(f, "run\n") })
	if err := os.WriteFile(filepath.Join(data.Source, "new"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	mdi(t, root, "stop", "-t", "0", "img").wantExit(t, 0)
	mdi(t, root, "start", "img").wantExit(t, 0)
	waitFor(t, "second write", func() bool { return fileHas(f, "run\nrun\n") })
	wantHostFile(t, filepath.Join(data.Source, "new"), "changed") // not copied again
	mdi(t, root, "rm", "-f", "-v", "img").wantExit(t, 0)
	wantNothingLeft(t, root, c)
	if got := volumeNames(t, root); got != "" {
		t.Errorf("rm -v left volumes %q", got)
	}

	id = detached(t, root, "-v", "mine:/data", ref, "sleep", "1000")
	c = inspectContainer(t, root, id)
	if m := volumeMount(t, c, "/data"); m.Name != "mine" || len(c.Mounts) != 2 {
		t.Errorf("inspect Mounts %+v: want -v mine:/data in place of the image's /data", c.Mounts)
	}
	mdi(t, root, "rm", "-f", "-v", id).wantExit(t, 0)

	r := mdi(t, root, "run", ref, "cat", "/data/new")
	if r.code != 0 || r.stdout != "new" {
		t.Errorf("a foreground run: want the image's /data/new in its volume\n%s", r)
	}
	if got := volumeNames(t, root); got != "mine\n" {
		t.Errorf("volume ls %q, want mine only (the run's anonymous volumes go with it)", got)
	}
}
