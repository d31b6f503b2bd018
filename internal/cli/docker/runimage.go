package docker

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/image"
)

// What `run` starts from: its first argument names a root filesystem
// directory (an existing directory, or any path with --rootfs, Podman's
// flag) or else an image of the store, pulled first where --pull says.
// An image's container runs on an overlay of the image's layers (read
// only) and a writable directory of its own under --root, mounted by the
// init in the container's mount namespace (no mount on the host) and
// removed with the container.

// pullPolicies are --pull's values, as Docker's.
var pullPolicies = []string{"missing", "always", "never"}

// imageRun is what an image gives a container: its config's defaults and
// its overlay.
type imageRun struct {
	config  v1.Config
	layers  []string // lower directories, top first
	dir     *runDir  // the container's own directory: rootfs, upper, work
	overlay *handshake.Overlay
}

// isRootfs tells whether run's first argument names a root filesystem
// directory rather than an image: with --rootfs, when it names an existing
// directory, or when it can only be a path (empty, or starting with "/"
// or ".", which no image reference does: the rootfs checks then say
// what is wrong with it).
func (f *runFlags) isRootfs(arg string) bool {
	if f.rootfsFlag || arg == "" || strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, ".") {
		return true
	}
	fi, err := os.Stat(arg)
	return err == nil && fi.IsDir()
}

// findImage returns the image ref names, pulling it as --pull says:
// missing (when the store has none), always, never.
func (f *runFlags) findImage(c *cobra.Command, g *globals, st Streams, ref string) (*image.Store, *image.Image, error) {
	store, err := g.images()
	if err != nil {
		return nil, nil, err
	}
	img, err := store.Lookup(ref)
	switch {
	case err == nil && f.pull != "always":
		return store, img, nil
	case err != nil && !errors.Is(err, image.ErrNotFound):
		return nil, nil, err
	case err != nil && f.pull == "never":
		return nil, nil, fmt.Errorf("no such image: %s (--pull never)", ref)
	}
	if err != nil {
		fmt.Fprintf(st.Err, "Unable to find image '%s' locally\n", ref)
	}
	// Docker's run prints the pull's lines on stderr: stdout is the
	// container's.
	if err := pull(c, g, Streams{In: st.In, Out: st.Err, Err: st.Err}, ref, false, image.PullOptions{}); err != nil {
		return nil, nil, err
	}
	img, err = store.Lookup(ref)
	return store, img, err
}

// prepareImage finds (or pulls) the image, reads its config and makes the
// container's directory (runDir). The caller removes it (imageRun.remove)
// when the container is gone.
func (f *runFlags) prepareImage(c *cobra.Command, g *globals, st Streams, ref, id string) (*imageRun, error) {
	store, img, err := f.findImage(c, g, st, ref)
	if err != nil {
		return nil, err
	}
	cfg, err := store.ConfigFile(img)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	var chains []v1.Hash
	for _, l := range img.Layers {
		chains = append(chains, l.ChainID)
	}
	dir, err := newRunDir(g.imageRoot, id, chains)
	if err != nil {
		return nil, err
	}
	r := &imageRun{config: cfg.Config, layers: store.LowerDirs(img), dir: dir}
	r.overlay = &handshake.Overlay{Lower: r.layers, Upper: dir.path("upper"), Work: dir.path("work")}
	return r, nil
}

// command is the container's argv by Docker's rules: the entrypoint
// (--entrypoint's, or the image's) followed by the arguments after IMAGE,
// or by the image's Cmd when there are none; --entrypoint clears the
// image's Cmd.
func (r *imageRun) command(entrypoint *string, args []string) ([]string, error) {
	ep, cmd := r.config.Entrypoint, r.config.Cmd
	if entrypoint != nil {
		ep, cmd = nil, nil
		if *entrypoint != "" {
			ep = []string{*entrypoint}
		}
	}
	if len(args) > 0 {
		cmd = args
	}
	argv := append(append([]string(nil), ep...), cmd...)
	if len(argv) == 0 {
		return nil, errors.New("no command specified: the image has no Entrypoint or Cmd, and none was given")
	}
	return argv, nil
}

// A runDir is an image's container's directory under --root:
// containers/ID holds rootfs (the overlay's mount point), upper and work
// (the container's writes) and layers.json (the chain ids of the layers it
// runs on). The run holds an exclusive flock on containers/ID.lock, taken
// before the directory is made, for as long as the container lives: a
// directory whose lock is free is a killed run's, which the next run
// removes (sweepRunDirs), and only a held one keeps its layers from rmi
// and image prune (layersInUse).
type runDir struct {
	dir  string
	lock *os.File
}

const runDirs = "containers"

func newRunDir(root, id string, chains []v1.Hash) (*runDir, error) {
	base := filepath.Join(root, runDirs)
	if err := os.MkdirAll(base, 0o700); err != nil {
		return nil, fmt.Errorf("container directory: %w", err)
	}
	sweepRunDirs(base)
	lock, err := lockRunDir(filepath.Join(base, id))
	if err != nil {
		return nil, err
	}
	d := &runDir{dir: filepath.Join(base, id), lock: lock}
	// The overlay's root takes the upper directory's owner and mode: 0755,
	// as an image's root is; the others stay private.
	for _, sub := range []struct {
		name string
		mode os.FileMode
	}{{"rootfs", 0o700}, {"upper", 0o755}, {"work", 0o700}} {
		p := d.path(sub.name)
		if err := os.MkdirAll(p, 0o700); err == nil {
			err = os.Chmod(p, sub.mode) // MkdirAll is subject to the umask
		}
		if err != nil {
			d.remove()
			return nil, fmt.Errorf("container directory: %w", err)
		}
	}
	b, err := json.Marshal(chains)
	if err == nil {
		err = os.WriteFile(d.path("layers.json"), b, 0o600)
	}
	if err != nil {
		d.remove()
		return nil, fmt.Errorf("container directory: %w", err)
	}
	return d, nil
}

func (d *runDir) path(name string) string { return filepath.Join(d.dir, name) }

// remove deletes the directory, then its lock.
func (d *runDir) remove() {
	os.RemoveAll(d.dir)
	os.Remove(d.dir + ".lock")
	d.lock.Close()
}

// lockRunDir opens and locks dir's lock file; it fails if another holds it.
func lockRunDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(dir+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("container directory lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("container directory lock %s: %w", f.Name(), err)
	}
	return f, nil
}

// liveRunDirs calls fn for each container directory under base whose run
// holds its lock (live true) or whose lock is free (live false; the lock is
// then held by the caller during fn).
func liveRunDirs(base string, fn func(dir string, live bool)) {
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(base, e.Name())
		lock, err := lockRunDir(dir)
		if err != nil {
			fn(dir, true)
			continue
		}
		fn(dir, false)
		lock.Close()
	}
}

// sweepRunDirs removes the directories of killed runs (a free lock).
func sweepRunDirs(base string) {
	liveRunDirs(base, func(dir string, live bool) {
		if !live {
			os.RemoveAll(dir)
			os.Remove(dir + ".lock")
		}
	})
}

// layersInUse says whether a live image container runs on the layer with
// chain id: the image store's Options.LayerInUse.
func layersInUse(root string) func(v1.Hash) (bool, error) {
	return func(chain v1.Hash) (bool, error) {
		used := false
		liveRunDirs(filepath.Join(root, runDirs), func(dir string, live bool) {
			if !live || used {
				return
			}
			var chains []v1.Hash
			if b, err := os.ReadFile(filepath.Join(dir, "layers.json")); err == nil && json.Unmarshal(b, &chains) == nil {
				used = slices.Contains(chains, chain)
			}
		})
		return used, nil
	}
}
