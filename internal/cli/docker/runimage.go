package docker

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/image"
	"github.com/minimal-docker/minimal-docker/internal/ondisk"
	"github.com/minimal-docker/minimal-docker/internal/store"
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
	id      string // the image's id ("sha256:...")
	root    string // the overlay's mount point (runMountPoint)
	config  image.RunConfig
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
// missing (when the store has none), always, never. The store is pinned
// (image.Store.Pin) from the lookup on: the caller unpins it.
func (f *runFlags) findImage(c *cobra.Command, g *globals, st Streams, ref string) (*image.Store, *image.Image, func(), error) {
	store, err := g.images()
	if err != nil {
		return nil, nil, nil, err
	}
	unpin, err := store.Pin()
	if err != nil {
		return nil, nil, nil, err
	}
	img, err := store.Lookup(ref)
	switch {
	case err == nil && f.pull != "always":
		return store, img, unpin, nil
	case err != nil && !errors.Is(err, image.ErrNotFound):
		unpin()
		return nil, nil, nil, err
	case err != nil && f.pull == "never":
		unpin()
		return nil, nil, nil, fmt.Errorf("no such image: %s (--pull never)", ref)
	}
	unpin() // not during the pull: an rmi's GC would wait for it
	if err != nil {
		fmt.Fprintf(st.Err, "Unable to find image '%s' locally\n", ref)
	}
	if err := pullForRun(c, g, st, ref); err != nil {
		return nil, nil, nil, err
	}
	if unpin, err = store.Pin(); err != nil {
		return nil, nil, nil, err
	}
	if img, err = store.Lookup(ref); err != nil {
		unpin()
		return nil, nil, nil, err
	}
	return store, img, unpin, nil
}

// prepareImage finds (or pulls) the image and reads its config while it
// makes the container's directory (runDir) beside: the directory does not
// depend on the image until the layers are written into its lock. The
// caller removes the directory (runDir.remove) when the container is gone.
func (f *runFlags) prepareImage(c *cobra.Command, g *globals, st Streams, ref, id string) (*imageRun, error) {
	mount, err := g.overlayMount()
	if err != nil {
		return nil, err
	}
	type made struct {
		dir *runDir
		err error
	}
	dirc := make(chan made, 1)
	go func() {
		d, err := newRunDir(g.imageRoot, id, true)
		dirc <- made{d, err}
	}()
	r, chains, unpin, err := f.imageConfig(c, g, st, ref)
	m := <-dirc
	if err == nil {
		err = m.err
	}
	if err == nil {
		err = m.dir.setLayers(chains)
	}
	if unpin != nil {
		unpin()
	}
	if err != nil {
		if m.dir != nil {
			m.dir.remove()
		}
		return nil, err
	}
	r.dir = m.dir
	r.root = filepath.Join(g.imageRoot, runMountPoint)
	// Volatile: the container's writes go with it when the run ends, so
	// they need not survive a crash (Podman's --rm does the same).
	r.overlay = &handshake.Overlay{Lower: r.layers, Upper: r.dir.path("upper"), Work: r.dir.path("work"), Volatile: true, MountProgram: mount.Program}
	return r, nil
}

// imageConfig finds (or pulls) the image and reads its config; it returns
// the container's imageRun without its directory, the layers' chain ids,
// and the unpin of the store (findImage) for the caller.
func (f *runFlags) imageConfig(c *cobra.Command, g *globals, st Streams, ref string) (*imageRun, []v1.Hash, func(), error) {
	store, img, unpin, err := f.findImage(c, g, st, ref)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg, err := store.RunConfig(img)
	if err != nil {
		unpin()
		return nil, nil, nil, fmt.Errorf("image %s: %w", ref, err)
	}
	var chains []v1.Hash
	for _, l := range img.Layers {
		chains = append(chains, l.ChainID)
	}
	return &imageRun{id: img.ID.String(), config: *cfg, layers: store.LowerDirs(img)}, chains, unpin, nil
}

// command is the container's argv by Docker's rules: the entrypoint
// (--entrypoint's, or the image's) followed by the arguments after IMAGE,
// or by the image's Cmd when there are none; --entrypoint clears the
// image's Cmd.
func (r *imageRun) command(entrypoint *string, args []string) ([]string, error) {
	ep, cmd := r.split(entrypoint, args)
	argv := append(append([]string(nil), ep...), cmd...)
	if len(argv) == 0 {
		return nil, errNoCommand
	}
	return argv, nil
}

// split is command's two parts, Docker's Config.Entrypoint and Cmd.
func (r *imageRun) split(entrypoint *string, args []string) (ep, cmd []string) {
	ep, cmd = r.config.Entrypoint, r.config.Cmd
	if entrypoint != nil {
		ep, cmd = nil, nil
		if *entrypoint != "" {
			ep = []string{*entrypoint}
		}
	}
	if len(args) > 0 {
		cmd = args
	}
	return append([]string(nil), ep...), cmd
}

// A runDir is an image's container's directory under --root:
// writable/ID holds upper and work, the container's writes. The run
// holds an exclusive flock on writable/ID.lock, taken before the
// directory is made, for as long as the container lives; the lock file
// holds the chain ids of the layers the container runs on (JSON). A
// directory whose lock is free is a killed run's, which the next run
// removes (sweepRunDirs), and only a held one keeps its layers from rmi
// and image prune (layersInUse). Every image container's overlay is
// mounted on one empty directory, --root/mnt (runMountPoint): each in the
// container's own mount namespace, where no other container sees it.
type runDir struct {
	dir    string
	lock   *os.File
	remove func() // removes the directory, then its lock; once (removeDir)
}

const runDirs = "writable"

// runMountPoint is the directory under --root on which image containers'
// roots are mounted.
const runMountPoint = "mnt"

// newRunDir takes the lock and makes the directory of container id:
// with overlay, its upper and work directories in it (an image's
// container), else empty (a foreground run's /etc files, etcfiles.go).
func newRunDir(root, id string, overlay bool) (*runDir, error) {
	base := filepath.Join(root, runDirs)
	for _, d := range []string{base, filepath.Join(root, runMountPoint)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("container directory: %w", err)
		}
	}
	sweepRunDirs(base)
	// Waiting: a new id's lock can be held only by a sweep, for a moment.
	lock, err := ondisk.LockPath(filepath.Join(base, id) + ".lock")
	if err != nil {
		return nil, fmt.Errorf("container directory lock: %w", err)
	}
	d := &runDir{dir: filepath.Join(base, id), lock: lock}
	d.remove = sync.OnceFunc(d.removeDir)
	// The overlay's root takes the upper directory's owner and mode: 0755,
	// as an image's root is (chmod: mkdir is subject to the umask). The
	// others stay private (to root, whom their modes do not stop).
	for _, sub := range []struct {
		name string
		mode os.FileMode
	}{{"", 0o700}, {"upper", 0o755}, {"work", 0o700}} {
		if sub.name != "" && !overlay {
			break
		}
		p := d.path(sub.name)
		err := os.Mkdir(p, sub.mode)
		if err == nil && sub.mode != 0o700 {
			err = os.Chmod(p, sub.mode)
		}
		if err != nil {
			d.remove()
			return nil, fmt.Errorf("container directory: %w", err)
		}
	}
	return d, nil
}

// setLayers writes the chain ids of the container's layers into its lock
// file, which layersInUse reads.
func (d *runDir) setLayers(chains []v1.Hash) error {
	b, err := json.Marshal(chains)
	if err == nil {
		_, err = d.lock.Write(b)
	}
	if err != nil {
		return fmt.Errorf("container directory lock %s: %w", d.lock.Name(), err)
	}
	return nil
}

func (d *runDir) path(name string) string { return filepath.Join(d.dir, name) }

// runDir is the container's directory (nil for none: a root filesystem's
// container).
func (r *imageRun) runDir() *runDir {
	if r == nil {
		return nil
	}
	return r.dir
}

// removeDir deletes the directory, then its lock. Its /etc files go
// first (etcfiles.go). A container that wrote
// nothing leaves empty directories only, and what overlay made in work
// (work/work; a volatile mount's incompat/volatile/dirty in it): they go
// in a few calls; anything else by os.RemoveAll.
func (d *runDir) removeDir() {
	for _, n := range etcNames {
		unix.Unlink(d.path(n.file))
	}
	err := unix.Unlink(d.path("work/work/incompat/volatile/dirty"))
	for _, sub := range []string{"upper", "work/work/incompat/volatile", "work/work/incompat", "work/work", "work/index", "work", ""} {
		if err != nil && !errors.Is(err, unix.ENOENT) {
			break
		}
		err = unix.Rmdir(d.path(sub))
	}
	if err != nil && !errors.Is(err, unix.ENOENT) {
		os.RemoveAll(d.dir)
	}
	os.Remove(d.dir + ".lock")
	d.lock.Close()
}

// lockRunDir opens and locks dir's lock file; it fails if another holds it.
// The lock taken is the file at that path (ondisk.TryLockMade): a sweep
// may remove a free lock file (sweepRunDirs) between our open and flock.
func lockRunDir(dir string) (*os.File, error) {
	f, err := ondisk.TryLockMade(dir + ".lock")
	if err != nil {
		return nil, fmt.Errorf("container directory lock: %w", err)
	}
	return f, nil
}

// liveRunDirs calls fn for each container directory under base whose run
// holds its lock or that a container's record keeps (live true), or
// whose lock is free (live false; the lock is then held by the caller
// during fn).
func liveRunDirs(base string, fn func(dir string, live bool)) {
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(base, e.Name())
		if runDirKept(base, e.Name()) {
			fn(dir, true)
			continue
		}
		lock, err := lockRunDir(dir)
		if err != nil {
			fn(dir, true)
			continue
		}
		fn(dir, false)
		lock.Close()
	}
}

// runDirKept reports whether container id's writable directory under
// base (--root/writable) belongs to a container with a record under
// --root/containers (a detached one): rm removes it, not a sweep. The
// record is made while the run holds the directory's lock, and removed
// after the directory, so that a directory is never unheld and unkept
// while its container lives.
func runDirKept(base, id string) bool {
	s, err := store.Open(filepath.Dir(base), nil)
	return err == nil && s.Has(id)
}

// sweepRunDirs removes the directories of killed runs (a free lock).
//
// It removes, too, a free lock whose directory is gone: a run killed
// between removing its directory and its lock left it (removeDir). A
// new run holds its lock before it makes its directory, so a held lock
// without a directory is a run being born, and stays.
func sweepRunDirs(base string) {
	liveRunDirs(base, func(dir string, live bool) {
		if !live {
			os.RemoveAll(dir)
			os.Remove(dir + ".lock")
		}
	})
	locks, _ := filepath.Glob(filepath.Join(base, "*.lock"))
	for _, l := range locks {
		dir := strings.TrimSuffix(l, ".lock")
		if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if f, err := ondisk.TryLockPath(l); err == nil {
			if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
				os.Remove(l)
			}
			f.Close()
		}
	}
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
			if b, err := os.ReadFile(dir + ".lock"); err == nil && json.Unmarshal(b, &chains) == nil {
				used = slices.Contains(chains, chain)
			}
		})
		return used, nil
	}
}
