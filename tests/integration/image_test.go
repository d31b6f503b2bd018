package integration

// The image verbs (pull, images, tag, rmi, image inspect, image prune)
// against a real registry: Debian's docker-registry, started by each test
// on 127.0.0.1 in a temporary directory, with images the test builds and
// pushes with go-containerregistry. Each test's image store is its own
// temporary --root.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// startRegistry starts a registry (testenv.RegistryBin: Debian's
// docker-registry, or $MD_REGISTRY) on a free port of 127.0.0.1, storing
// under a temp dir, and returns its host:port. It is stopped when the test
// ends.
func startRegistry(t *testing.T) string {
	t.Helper()
	testenv.RequireRoot(t)
	bin, err := testenv.RegistryBin()
	if err != nil {
		t.Skipf("no registry to pull from: %v (make deps installs docker-registry)", err)
	}
	reg, err := testenv.StartRegistry(bin, t.TempDir(), env.timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Stop)
	return reg.Addr
}

// testImageConfig is the config the pushed images carry.
var testImageConfig = v1.Config{
	Env:          []string{"PATH=/usr/bin:/bin", "GREETING=hello"},
	Cmd:          []string{"echo", "hi"},
	Entrypoint:   []string{"/bin/sh", "-c"},
	WorkingDir:   "/work",
	User:         "1000:1000",
	ExposedPorts: map[string]struct{}{"8080/tcp": {}},
	Labels:       map[string]string{"org.example.test": "image-cli"},
	StopSignal:   "SIGTERM",
}

// pushImage builds an image of layers random layers with testImageConfig
// and pushes it as ref (host:port/repo:tag).
func pushImage(t *testing.T, ref string, layers int) v1.Image {
	t.Helper()
	img, err := random.Image(2048, int64(layers))
	if err != nil {
		t.Fatal(err)
	}
	if img, err = mutate.Config(img, testImageConfig); err != nil {
		t.Fatal(err)
	}
	if img, err = mutate.CreatedAt(img, v1.Time{Time: time.Now().Add(-3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return pushAs(t, ref, img, nil)
}

// pushAs pushes img as ref, made an image of this machine's platform and,
// when cfg is given, with that config; it returns what it pushed.
func pushAs(t *testing.T, ref string, img v1.Image, cfg *v1.Config) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	if cfg != nil {
		cf.Config = *cfg
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return img
}

// facts are what a test checks an image against.
type facts struct {
	id, digest string // config and manifest digests
	layers     []v1.Hash
	diffIDs    []string
	size       int64 // compressed layers
}

func imageFacts(t *testing.T, img v1.Image) facts {
	t.Helper()
	var f facts
	id, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	f.id, f.digest = id.String(), digest.String()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Layers {
		f.layers = append(f.layers, l.Digest)
		f.size += l.Size
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range cf.RootFS.DiffIDs {
		f.diffIDs = append(f.diffIDs, d.String())
	}
	return f
}

// mdi runs minimal-docker --root root args... to completion.
func mdi(t *testing.T, root string, args ...string) result {
	t.Helper()
	return md(t, append([]string{"--root", root}, args...)...)
}

// shortHex is the 12 hex digits Docker shows of a digest.
func shortHex(digest string) string {
	return strings.TrimPrefix(digest, "sha256:")[:12]
}

func TestImagePullByTag(t *testing.T) {
	reg := startRegistry(t)
	ref := reg + "/test/pull:v1"
	f := imageFacts(t, pushImage(t, ref, 3))
	root := t.TempDir()

	r := mdi(t, root, "pull", ref)
	r.wantExit(t, 0)
	want := []string{"Digest: " + f.digest, "Status: Downloaded newer image for " + ref, ref}
	if got := r.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stdout lines %q, want %q\n%s", got, want, r)
	}
	r.wantStderr(t, "v1: Pulling from test/pull")
	for _, l := range f.layers {
		r.wantStderr(t, shortHex(l.String())+": Pull complete")
	}

	r = mdi(t, root, "pull", ref)
	r.wantExit(t, 0)
	if !strings.Contains(r.stdout, "Status: Image is up to date for "+ref) {
		t.Errorf("second pull: no \"Image is up to date\"\n%s", r)
	}

	r = mdi(t, root, "pull", "-q", ref)
	r.wantExit(t, 0)
	if r.stdout != ref+"\n" || r.stderr != "" {
		t.Errorf("pull -q: want only %q on stdout and nothing on stderr\n%s", ref, r)
	}
}

func TestImagePullByDigest(t *testing.T) {
	reg := startRegistry(t)
	f := imageFacts(t, pushImage(t, reg+"/test/bydigest:v1", 2))
	root := t.TempDir()
	ref := reg + "/test/bydigest@" + f.digest

	r := mdi(t, root, "pull", ref)
	r.wantExit(t, 0)
	if got := r.lines(); len(got) == 0 || got[len(got)-1] != ref || !strings.Contains(r.stdout, "Digest: "+f.digest) {
		t.Errorf("pull by digest: want the digest and %q last on stdout\n%s", ref, r)
	}
	// Pulled by digest only: listed without a tag, with its digest.
	r = mdi(t, root, "images", "--format", "{{.Repository}} {{.Tag}} {{.Digest}} {{.ID}}")
	r.wantExit(t, 0)
	want := fmt.Sprintf("%s/test/bydigest <none> %s %s\n", reg, f.digest, shortHex(f.id))
	if r.stdout != want {
		t.Errorf("images: got %q, want %q\n%s", r.stdout, want, r)
	}
}

func TestImagePullMissing(t *testing.T) {
	reg := startRegistry(t)
	root := t.TempDir()
	r := mdi(t, root, "pull", reg+"/test/nothing:v1")
	r.wantExit(t, 1)
	r.wantStderr(t, "test/nothing")
	r = mdi(t, root, "images", "-q")
	r.wantExit(t, 0)
	if r.stdout != "" {
		t.Errorf("a failed pull left an image\n%s", r)
	}
}

func TestImagesList(t *testing.T) {
	reg := startRegistry(t)
	ref := reg + "/test/list:v1"
	f := imageFacts(t, pushImage(t, ref, 2))
	root := t.TempDir()
	mdi(t, root, "pull", "-q", ref).wantExit(t, 0)

	r := mdi(t, root, "images")
	r.wantExit(t, 0)
	lines := r.lines()
	if len(lines) != 2 {
		t.Fatalf("images: want a header and a row\n%s", r)
	}
	if fields := strings.Fields(lines[0]); strings.Join(fields, " ") != "REPOSITORY TAG IMAGE ID CREATED SIZE" {
		t.Errorf("header %q", lines[0])
	}
	fields := strings.Fields(lines[1])
	if len(fields) < 5 || fields[0] != reg+"/test/list" || fields[1] != "v1" || fields[2] != shortHex(f.id) ||
		strings.Join(fields[3:6], " ") != "3 hours ago" {
		t.Errorf("row %q, want %s/test/list v1 %s 3 hours ago SIZE", lines[1], reg, shortHex(f.id))
	}

	r = mdi(t, root, "images", "-q")
	r.wantExit(t, 0)
	if r.stdout != shortHex(f.id)+"\n" {
		t.Errorf("images -q: got %q, want %q", r.stdout, shortHex(f.id)+"\n")
	}
	r = mdi(t, root, "image", "ls", "-q", "--no-trunc")
	r.wantExit(t, 0)
	if r.stdout != f.id+"\n" {
		t.Errorf("image ls -q --no-trunc: got %q, want %q", r.stdout, f.id+"\n")
	}
	r = mdi(t, root, "images", "--digests")
	r.wantExit(t, 0)
	if !strings.Contains(r.stdout, "DIGEST") || !strings.Contains(r.stdout, f.digest) {
		t.Errorf("images --digests: no DIGEST column with %s\n%s", f.digest, r)
	}
	r = mdi(t, root, "images", "--format", "{{.Repository}}:{{.Tag}}")
	r.wantExit(t, 0)
	if r.stdout != ref+"\n" {
		t.Errorf("images --format: got %q, want %q", r.stdout, ref+"\n")
	}
	r = mdi(t, root, "images", "--format", "json")
	r.wantExit(t, 0)
	var row map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &row); err != nil {
		t.Fatalf("images --format json: %v\n%s", err, r)
	}
	if row["Repository"] != reg+"/test/list" || row["Tag"] != "v1" || row["ID"] != shortHex(f.id) || row["CreatedSince"] != "3 hours ago" {
		t.Errorf("images --format json: %v", row)
	}
	r = mdi(t, root, "images", "--format", "{{.Nope}}")
	r.wantExit(t, 1)
	r.wantStderr(t, "--format")
}

func TestImageTagAndRmi(t *testing.T) {
	reg := startRegistry(t)
	ref := reg + "/test/rmi:v1"
	f := imageFacts(t, pushImage(t, ref, 2))
	root := t.TempDir()
	mdi(t, root, "pull", "-q", ref).wantExit(t, 0)

	mdi(t, root, "tag", ref, "local/copy:v2").wantExit(t, 0)
	r := mdi(t, root, "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
	r.wantExit(t, 0)
	for _, want := range []string{ref + " " + shortHex(f.id), "local/copy:v2 " + shortHex(f.id)} {
		if !strings.Contains(r.stdout, want+"\n") {
			t.Errorf("after tag: no row %q\n%s", want, r)
		}
	}

	r = mdi(t, root, "tag", "no/such:image", "other:v1")
	r.wantExit(t, 1)
	r.wantStderr(t, "No such image: no/such:image")

	r = mdi(t, root, "rmi", "nope")
	r.wantExit(t, 1)
	r.wantStderr(t, "No such image: nope")

	// By id while two tags name it: refused without -f.
	r = mdi(t, root, "rmi", shortHex(f.id))
	r.wantExit(t, 1)

	r = mdi(t, root, "rmi", "local/copy:v2")
	r.wantExit(t, 0)
	if r.stdout != "Untagged: local/copy:v2\n" {
		t.Errorf("rmi of one of two tags: got %q", r.stdout)
	}

	// The last tag: untagged (with its digest) and deleted; a missing one
	// beside it is reported and makes the exit status 1.
	r = mdi(t, root, "rmi", ref, "nope:v9")
	r.wantExit(t, 1)
	for _, want := range []string{"Untagged: " + ref + "\n", "Untagged: " + reg + "/test/rmi@" + f.digest + "\n", "Deleted: " + f.id + "\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("rmi: stdout lacks %q\n%s", want, r)
		}
	}
	r.wantStderr(t, "No such image: nope:v9")
	r = mdi(t, root, "images", "-q")
	if r.stdout != "" {
		t.Errorf("images after rmi: %q", r.stdout)
	}
	if entries, err := os.ReadDir(filepath.Join(root, "images", "layers")); err != nil || len(entries) != 0 {
		t.Errorf("layers left after the last image went: %v %v", entries, err)
	}
}

func TestImageInspect(t *testing.T) {
	reg := startRegistry(t)
	ref := reg + "/test/inspect:v1"
	f := imageFacts(t, pushImage(t, ref, 2))
	root := t.TempDir()
	mdi(t, root, "pull", "-q", ref).wantExit(t, 0)

	r := mdi(t, root, "image", "inspect", ref)
	r.wantExit(t, 0)
	var out []struct {
		ID          string `json:"Id"`
		RepoTags    []string
		RepoDigests []string
		Created     string
		Config      struct {
			Env          []string
			Cmd          []string
			Entrypoint   []string
			WorkingDir   string
			User         string
			ExposedPorts map[string]struct{}
			Labels       map[string]string
			StopSignal   string
		}
		Architecture, Os string
		Size             int64
		RootFS           struct {
			Type   string
			Layers []string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) != 1 {
		t.Fatalf("image inspect: want a JSON array of one: %v\n%s", err, r)
	}
	img := out[0]
	c := img.Config
	for _, check := range []struct {
		field     string
		got, want any
	}{
		{"Id", img.ID, f.id},
		{"RepoTags", img.RepoTags, []string{ref}},
		{"RepoDigests", img.RepoDigests, []string{reg + "/test/inspect@" + f.digest}},
		{"Config.Env", c.Env, testImageConfig.Env},
		{"Config.Cmd", c.Cmd, testImageConfig.Cmd},
		{"Config.Entrypoint", c.Entrypoint, testImageConfig.Entrypoint},
		{"Config.WorkingDir", c.WorkingDir, testImageConfig.WorkingDir},
		{"Config.User", c.User, testImageConfig.User},
		{"Config.ExposedPorts", fmt.Sprint(c.ExposedPorts), fmt.Sprint(testImageConfig.ExposedPorts)},
		{"Config.Labels", fmt.Sprint(c.Labels), fmt.Sprint(testImageConfig.Labels)},
		{"Config.StopSignal", c.StopSignal, testImageConfig.StopSignal},
		{"Os", img.Os, "linux"},
		{"Architecture", img.Architecture, runtime.GOARCH},
		{"RootFS.Type", img.RootFS.Type, "layers"},
		{"RootFS.Layers", img.RootFS.Layers, f.diffIDs},
		{"Size", img.Size, f.size},
	} {
		if fmt.Sprint(check.got) != fmt.Sprint(check.want) {
			t.Errorf("%s = %v, want %v", check.field, check.got, check.want)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, img.Created); err != nil {
		t.Errorf("Created %q: %v", img.Created, err)
	}

	r = mdi(t, root, "image", "inspect", ref, "missing:v1")
	r.wantExit(t, 1)
	r.wantStderr(t, "No such image: missing:v1")
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) != 1 || out[0].ID != f.id {
		t.Errorf("image inspect with a missing image: want the found one printed: %v\n%s", err, r)
	}
}

func TestImagePrune(t *testing.T) {
	reg := startRegistry(t)
	tagged := imageFacts(t, pushImage(t, reg+"/test/keep:v1", 1))
	dangling := imageFacts(t, pushImage(t, reg+"/test/dangling:v1", 1))
	root := t.TempDir()
	mdi(t, root, "pull", "-q", reg+"/test/keep:v1").wantExit(t, 0)
	mdi(t, root, "pull", "-q", reg+"/test/dangling@"+dangling.digest).wantExit(t, 0)

	r := mdi(t, root, "image", "prune", "-f")
	r.wantExit(t, 0)
	for _, want := range []string{"Deleted Images:", "untagged: " + reg + "/test/dangling@" + dangling.digest, "deleted: " + dangling.id, "Total reclaimed space: "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("image prune: stdout lacks %q\n%s", want, r)
		}
	}
	r = mdi(t, root, "images", "-q", "--no-trunc")
	r.wantExit(t, 0)
	if r.stdout != tagged.id+"\n" {
		t.Errorf("after prune: images %q, want only the tagged %s", r.stdout, tagged.id)
	}
	// Only the tagged image's layer is left.
	if entries, err := os.ReadDir(filepath.Join(root, "images", "layers")); err != nil || len(entries) != 1 {
		t.Errorf("layers after prune: %d entries (%v), want 1", len(entries), err)
	}
}

// TestImagePullKilled: a pull killed with SIGKILL while it downloads, and
// while it unpacks, leaves nothing that outlives the next pull: that pull
// succeeds, the store's tmp/ is empty, and every blob left is the image's.
func TestImagePullKilled(t *testing.T) {
	reg := startRegistry(t)
	ref := reg + "/test/big:1"
	img, err := random.Image(8<<20, 3) // incompressible: the work takes a while
	if err != nil {
		t.Fatal(err)
	}
	f := imageFacts(t, pushAs(t, ref, img, nil))
	want := map[string]bool{shortHex(f.id): true, shortHex(f.digest): true}
	for _, l := range f.layers {
		want[shortHex(l.String())] = true
	}
	for _, at := range []string{"Downloading", "Extracting"} {
		t.Run("at "+at, func(t *testing.T) {
			root := t.TempDir()
			p := startProc(t, false, nil, []string{"--root", root, "pull", ref})
			deadline := time.Now().Add(env.timeout)
			for !strings.Contains(p.stderr.String(), ": "+at) && !p.Exited() {
				if time.Now().After(deadline) {
					t.Fatalf("the pull never said %q\n%s", at, p.result())
				}
				time.Sleep(time.Millisecond)
			}
			syscall.Kill(p.Pid(), syscall.SIGKILL)
			<-p.Done
			mdi(t, root, "pull", "-q", ref).wantExit(t, 0)
			if left, _ := os.ReadDir(filepath.Join(root, "images", "tmp")); len(left) > 0 {
				t.Errorf("left in the store's tmp/ after the next pull: %v", left)
			}
			blobs, err := os.ReadDir(filepath.Join(root, "images", "blobs", "sha256"))
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range blobs {
				if !want[b.Name()[:12]] {
					t.Errorf("blob %s is not the image's", b.Name())
				}
			}
		})
	}
}
