package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/image"
	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// rootfsTarball is the shared busybox rootfs as a tar in dir.
func rootfsTarball(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "rootfs.tar")
	if out, err := exec.Command("tar", "-C", env.rootfs, "-cf", p, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar %s: %v\n%s", env.rootfs, err, out)
	}
	return p
}

// openImages opens the image store under root, as the verbs' --root does.
func openImages(t *testing.T, root string) *image.Store {
	t.Helper()
	s, err := image.Open(root, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// importBusybox imports the busybox rootfs into the store under root as
// ref and returns the id import printed.
func importBusybox(t *testing.T, root, ref string) string {
	t.Helper()
	r := md(t, "--root", root, "import", rootfsTarball(t, t.TempDir()), ref)
	r.wantExit(t, 0)
	id := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(id, "sha256:") || len(id) != len("sha256:")+64 {
		t.Fatalf("import printed %q, want an image id\n%s", id, r)
	}
	return id
}

// `import` of a rootfs tarball makes a one-layer image under its tag,
// whose layer holds the rootfs's files.
func TestImportRootfs(t *testing.T) {
	testenv.RequireRoot(t)
	root := t.TempDir()
	id := importBusybox(t, root, "test/busybox:imported")

	s := openImages(t, root)
	imgs, err := s.Images()
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 1 || imgs[0].ID.String() != id || !slices.Equal(imgs[0].RepoTags, []string{"docker.io/test/busybox:imported"}) {
		t.Fatalf("images after import: %+v, want %s tagged test/busybox:imported", imgs, id)
	}
	if n := len(imgs[0].Layers); n != 1 {
		t.Fatalf("%d layers, want 1", n)
	}
	want, err := os.ReadFile(filepath.Join(env.rootfs, "bin", "busybox"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(s.LowerDirs(imgs[0])[0], "bin", "busybox"))
	if err != nil || len(got) != len(want) {
		t.Errorf("bin/busybox in the image's layer: %d bytes, %v; want %d", len(got), err, len(want))
	}
	// Docker's management-command spelling: the same tarball, the same
	// layer (a new image: its config has the time of its import).
	md(t, "--root", root, "image", "import", rootfsTarball(t, t.TempDir()), "test/busybox:again").wantExit(t, 0)
	again, err := s.Lookup("test/busybox:again")
	if err != nil {
		t.Fatalf("image import: %v", err)
	}
	if !slices.Equal(again.Layers, imgs[0].Layers) {
		t.Errorf("image import's layers %+v, want import's %+v", again.Layers, imgs[0].Layers)
	}
}

// `save` then `load` into another --root gives the same image id, through
// a file (-o, -i) and through stdout and stdin.
func TestSaveLoadRoundTrip(t *testing.T) {
	testenv.RequireRoot(t)
	root := t.TempDir()
	srcRoot := root
	id := importBusybox(t, root, "test/busybox:1")
	dir := t.TempDir()

	archive := filepath.Join(dir, "busybox.tar")
	md(t, "--root", root, "save", "-o", archive, "test/busybox:1").wantExit(t, 0)

	// save to stdout, load from stdin
	piped := filepath.Join(dir, "piped.tar")
	out, err := os.Create(piped)
	if err != nil {
		t.Fatal(err)
	}
	r := startProc(t, false, func(c *exec.Cmd) { c.Stdout = out }, []string{"--root", root, "save", "test/busybox:1"}).wait(t)
	out.Close()
	r.wantExit(t, 0)

	for _, tc := range []struct {
		name string
		load func(root string) result
	}{
		{"-o and -i", func(root string) result { return md(t, "--root", root, "load", "-i", archive) }},
		// Docker's management-command spelling of the same verbs.
		{"image save, image load", func(root string) result {
			saved := filepath.Join(t.TempDir(), "image-save.tar")
			r := md(t, "--root", srcRoot, "image", "save", "-o", saved, "test/busybox:1")
			r.wantExit(t, 0)
			return md(t, "--root", root, "image", "load", "-i", saved)
		}},
		{"stdout and stdin", func(root string) result {
			in, err := os.Open(piped)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			return startProc(t, false, func(c *exec.Cmd) { c.Stdin = in }, []string{"--root", root, "load"}).wait(t)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fresh := t.TempDir()
			r := tc.load(fresh)
			r.wantExit(t, 0)
			if r.stdout != "Loaded image: test/busybox:1\n" {
				t.Errorf("load printed %q, want \"Loaded image: test/busybox:1\"\n%s", r.stdout, r)
			}
			img, err := openImages(t, fresh).Lookup("test/busybox:1")
			if err != nil {
				t.Fatal(err)
			}
			if img.ID.String() != id {
				t.Errorf("loaded image id %s, want the saved one's %s", img.ID, id)
			}
		})
	}
}

// The archive verbs' errors name the file or image, exit 1 as Docker's
// CLI does, and leave nothing in the store or beside the output file.
func TestArchiveVerbErrors(t *testing.T) {
	testenv.RequireRoot(t)
	dir := t.TempDir()
	notArchive := filepath.Join(dir, "not-an-archive.tar")
	if out, err := exec.Command("tar", "-C", env.rootfs, "-cf", notArchive, "etc").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"load missing file", []string{"load", "-i", filepath.Join(dir, "missing.tar")}, []string{"missing.tar", "no such file"}},
		{"load not an archive", []string{"load", "-i", notArchive}, []string{"not-an-archive.tar", "not an image archive"}},
		{"save missing image", []string{"save", "-o", filepath.Join(dir, "out.tar"), "no/such:image"}, []string{"no/such:image", "not found"}},
		{"import missing file", []string{"import", filepath.Join(dir, "missing.tar"), "x:1"}, []string{"missing.tar", "no such file"}},
		{"import bad change", []string{"import", "-c", "FROM busybox", notArchive}, []string{"FROM", "not a valid change"}},
		{"import a digest", []string{"import", notArchive, "x@sha256:" + strings.Repeat("0", 64)}, []string{"invalid reference"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			r := md(t, append([]string{"--root", root}, tc.args...)...)
			r.wantExit(t, 1)
			r.wantStderr(t, tc.want...)
			if imgs, err := openImages(t, root).Images(); err != nil || len(imgs) != 0 {
				t.Errorf("images after a failed %s: %v, %v", tc.args[0], imgs, err)
			}
			for _, d := range []string{"blobs/sha256", "layers", "records", "tmp"} {
				if ents, _ := os.ReadDir(filepath.Join(root, "images", d)); len(ents) != 0 {
					t.Errorf("left in images/%s: %d entries", d, len(ents))
				}
			}
		})
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("beside the output file: %d entries, want only %s", len(ents), notArchive)
	}
}
