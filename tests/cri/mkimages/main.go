// Command mkimages builds the images the CRI validation suite (critest)
// pulls and pushes them to a registry on loopback:
//
//	go run ./tests/cri/mkimages -registry 127.0.0.1:5000 -pause PATH -nnp PATH
//
// The suite names public images (registry.k8s.io/e2e-test-images/busybox,
// nginx and httpd, gcr.io/k8s-staging-cri-tools/test-image-*, and the
// sandbox's pause image); the lane's containerd is pointed at this
// registry for those hosts (certs.d), so no traffic leaves the machine.
// Each image is made of a busybox layer (the lane gives Debian's dynamic
// busybox and its libraries: the static build runs its applets without a
// PATH search, so a masked /bin/ls would still run; its applets are hard
// links to one binary, as in the busybox image, and stand-ins for the two
// applets the suite uses that Debian's build lacks) and, where the suite expects something
// of it, one small layer more: the files its image tests add, the users
// its security tests run as, a web server on the port its network tests
// call, a set-user-ID program. The pause image is the static binary given
// by -pause alone.
//
// Images are Docker schema 2 manifests (what the suite's own images are),
// pushed with the registry API (monolithic blob uploads); repositories are
// named as on the public registries, without the host.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkimages:", err)
		os.Exit(1)
	}
}

// file is one file of an image's extra layer.
type file struct {
	path    string // inside the image, without the leading slash
	mode    int64  // with the set-user-ID bit where asked (owner: root)
	content string
}

// image is one repository:tag the suite pulls.
type image struct {
	ref    string   // repository:tag, without the registry host
	cmd    []string // the image's Cmd (default: sh)
	user   string   // the image's User
	expose []int    // ports in ExposedPorts
	entry  []string // the image's Entrypoint
	files  []file   // the extra layer (none: the busybox layer alone)
	nnp    bool     // the extra layer is the nnp program, set-user-ID root
	pause  bool     // the pause image: the pause binary alone
}

// Users and groups of every busybox image: those of the suite's images
// (busybox 1.36's www-data, and the predefined-group image's default-user
// in group-defined-in-image).
const (
	passwd = "root:x:0:0:root:/root:/bin/sh\n" +
		"www-data:x:33:33:www-data:/var/www:/bin/false\n" +
		"default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh\n" +
		"nobody:x:65534:65534:nobody:/home:/bin/false\n"
	group = "root:x:0:\n" +
		"www-data:x:33:\n" +
		"default-user:x:1000:\n" +
		"group-defined-in-image:x:50000:default-user\n" +
		"nogroup:x:65534:\n"
)

// standIns are applets of the suite's busybox that Debian's busybox-static
// lacks, as scripts that do what the suite asks of them: pgrep NAME (the
// pids whose name contains NAME; exit 1 if none) and ipcs -m (the shared
// memory segments of the IPC namespace, with their ids).
var standIns = []file{
	{"bin/pgrep", 0o755, `#!/bin/sh
# pgrep NAME: stand-in for busybox's applet (not in Debian's busybox-static)
found=1
for d in /proc/[0-9]*; do
	read -r comm 2>/dev/null <"$d/comm" || continue
	case $comm in *"$1"*) echo "${d#/proc/}"; found=0 ;; esac
done
exit $found
`},
	{"bin/ipcs", 0o755, `#!/bin/sh
# ipcs -m: stand-in for busybox's applet (not in Debian's busybox-static)
echo
echo "------ Shared Memory Segments --------"
echo "key        shmid      owner      perms      bytes      nattch     status"
tail -n +2 /proc/sysvipc/shm | while read -r key id perms size cpid lpid nattch uid rest; do
	printf '0x%08x %-10s %-10s %-10s %-10s %-10s
' "$key" "$id" "$uid" "$perms" "$size" "$nattch"
done
`},
}

// web is the extra layer of an image that serves HTTP on port with
// busybox's httpd, started by a script named name (the suite looks for
// the process by that name: pidof nginx) that writes its pid to pidFile
// and prints line first (the suite looks for it in the log).
func web(name string, port int, pidFile, line string) []file {
	script := fmt.Sprintf("#!/bin/sh\n# %s stand-in: busybox httpd on port %d\necho %q\nhttpd -f -p %d -h /www &\necho $$ >%s\nwait\n",
		name, port, line, port, pidFile)
	return []file{
		{"usr/sbin/" + name, 0o755, script},
		{"www/index.html", 0o644, "<html><body>" + name + " stand-in</body></html>\n"},
		{"var/run/.keep", 0o644, ""},
	}
}

const (
	e2e   = "e2e-test-images/"
	tools = "k8s-staging-cri-tools/"
)

var images = []image{
	{ref: "pause:3.6", pause: true},
	{ref: e2e + "busybox:1.29-2"},
	// The suite waits for "master process" in PID 1's command line (nginx
	// rewrites its argv so); here it is the stand-in's argument.
	{ref: e2e + "nginx:1.14-2", cmd: []string{"nginx", "master process"}, expose: []int{80},
		files: web("nginx", 80, "/var/run/nginx.pid", "nginx: ready")},
	{ref: e2e + "nonewprivs:1.3", entry: []string{"/usr/local/bin/nnp"}, nnp: true},
	{ref: e2e + "httpd:2.4.39-4", cmd: []string{"httpd-foreground"}, expose: []int{80},
		files: web("httpd-foreground", 80, "/var/run/httpd.pid", "Command line: 'httpd -D FOREGROUND'")},
	{ref: tools + "hostnet-nginx-amd64:latest", cmd: []string{"nginx"}, expose: []int{12003},
		files: web("nginx", 12003, "/var/run/nginx.pid", "nginx: ready")},
	{ref: tools + "test-image-user-uid:latest", user: "1002"},
	{ref: tools + "test-image-user-username:latest", user: "www-data"},
	{ref: tools + "test-image-user-uid-group:latest", user: "1003:1004"},
	{ref: tools + "test-image-user-username-group:latest", user: "www-data:1004"},
	{ref: tools + "test-image-predefined-group:latest", user: "1000"},
	{ref: tools + "test-image-latest:latest", files: marker("test-image-latest")},
	{ref: tools + "test-image-digest:latest", files: marker("test-image-digest")},
	{ref: tools + "test-image-1:latest", files: marker("test-image-1")},
	{ref: tools + "test-image-2:latest", files: marker("test-image-2")},
	{ref: tools + "test-image-3:latest", files: marker("test-image-3")},
	{ref: tools + "test-image-tags:1", files: marker("same-image")},
	{ref: tools + "test-image-tags:2", files: marker("same-image")},
	{ref: tools + "test-image-tags:3", files: marker("same-image")},
	{ref: tools + "test-image-tag:test", files: marker("test-image-tag")},
	{ref: tools + "test-image-tag:all", files: marker("test-image-tag")},
}

// marker is the extra layer of the suite's image-test images: an empty
// file named after the image (its Dockerfile's ADD).
func marker(name string) []file { return []file{{name, 0o644, ""}} }

func run(args []string) error {
	fl := flag.NewFlagSet("mkimages", flag.ContinueOnError)
	registry := fl.String("registry", "", "registry host:port to push to (plain HTTP, loopback)")
	pause := fl.String("pause", "", "static pause binary for the pause image")
	nnp := fl.String("nnp", "", "static program that prints its effective uid (installed set-user-ID root)")
	busybox := fl.String("busybox", "/bin/busybox", "busybox binary")
	libs := fl.String("libs", "", "comma-separated host libraries that busybox needs, copied to the same paths")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *registry == "" || *pause == "" || *nnp == "" || fl.NArg() != 0 {
		return errors.New("usage: mkimages -registry HOST:PORT -pause PATH -nnp PATH [-busybox PATH [-libs PATH,...]]")
	}
	tmp, err := os.MkdirTemp("", "mkimages-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	root := filepath.Join(tmp, "rootfs")
	if err := testenv.BuildBusyboxRootfs(root, *busybox, nil); err != nil {
		return err
	}
	for name, content := range map[string]string{"etc/passwd": passwd, "etc/group": group} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("rootfs: %w", err)
		}
	}
	for _, lib := range strings.FieldsFunc(*libs, func(r rune) bool { return r == ',' }) {
		b, err := os.ReadFile(lib)
		if err != nil {
			return err
		}
		dst := filepath.Join(root, lib)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("rootfs: %w", err)
		}
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			return fmt.Errorf("rootfs: %w", err)
		}
	}
	for _, f := range standIns {
		if err := os.WriteFile(filepath.Join(root, f.path), []byte(f.content), fs.FileMode(f.mode)); err != nil {
			return fmt.Errorf("rootfs: %w", err)
		}
	}
	base, err := dirLayer(root, "/bin/busybox")
	if err != nil {
		return err
	}
	pauseLayer, err := binLayer(*pause, "pause", 0o755)
	if err != nil {
		return err
	}
	nnpLayer, err := binLayer(*nnp, "usr/local/bin/nnp", 0o4755)
	if err != nil {
		return err
	}
	r := &pusher{base: "http://" + *registry}
	for _, im := range images {
		var layers []layer
		cfg := config{Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Entrypoint: im.entry, Cmd: im.cmd, User: im.user}
		switch {
		case im.pause:
			layers = []layer{pauseLayer}
			cfg.Entrypoint, cfg.Cmd = []string{"/pause"}, nil
		default:
			layers = []layer{base}
			if im.nnp {
				layers = append(layers, nnpLayer)
			}
			if len(im.files) > 0 {
				l, err := filesLayer(im.files)
				if err != nil {
					return err
				}
				layers = append(layers, l)
			}
			if cfg.Cmd == nil && cfg.Entrypoint == nil {
				cfg.Cmd = []string{"sh"}
			}
		}
		if len(im.expose) > 0 {
			cfg.ExposedPorts = map[string]struct{}{}
			for _, p := range im.expose {
				cfg.ExposedPorts[fmt.Sprintf("%d/tcp", p)] = struct{}{}
			}
		}
		if err := r.push(im.ref, cfg, layers); err != nil {
			return fmt.Errorf("push %s: %w", im.ref, err)
		}
		fmt.Printf("pushed %s/%s\n", *registry, im.ref)
	}
	return nil
}

// layer is a gzipped tar and the digest of its uncompressed content.
type layer struct {
	gz     []byte
	diffID string
}

// epoch is the time of every file and image: the builds are reproducible.
var epoch = time.Unix(0, 0).UTC()

// binLayer makes a layer of the one file at host path src, installed at
// path with mode.
func binLayer(src, path string, mode int64) (layer, error) {
	b, err := os.ReadFile(src)
	if err != nil {
		return layer{}, err
	}
	return filesLayer([]file{{path, mode, string(b)}})
}

// dirLayer makes a layer of the tree at dir, owned by root. Symbolic
// links to linkTarget (the busybox binary, as an absolute path inside the
// tree) become hard links to it, as in the busybox image: a path masked
// by a bind mount is then that applet alone, not busybox itself.
func dirLayer(dir, linkTarget string) (layer, error) {
	return makeLayer(func(tw *tar.Writer) error { return testenv.WriteTar(tw, dir, linkTarget) })
}

// filesLayer makes a layer of files, with their parent directories.
func filesLayer(files []file) (layer, error) {
	return makeLayer(func(tw *tar.Writer) error {
		dirs := map[string]bool{}
		for _, f := range files {
			var parents []string
			for d := filepath.Dir(f.path); d != "."; d = filepath.Dir(d) {
				parents = append(parents, d)
			}
			slices.Reverse(parents)
			for _, d := range parents {
				if dirs[d] {
					continue
				}
				dirs[d] = true
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: epoch}); err != nil {
					return err
				}
			}
			h := &tar.Header{Typeflag: tar.TypeReg, Name: f.path, Mode: f.mode, Size: int64(len(f.content)), ModTime: epoch}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if _, err := io.WriteString(tw, f.content); err != nil {
				return err
			}
		}
		return nil
	})
}

func makeLayer(write func(*tar.Writer) error) (layer, error) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	sum := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(zw, sum))
	if err := write(tw); err != nil {
		return layer{}, fmt.Errorf("layer: %w", err)
	}
	if err := tw.Close(); err != nil {
		return layer{}, fmt.Errorf("layer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return layer{}, fmt.Errorf("layer: %w", err)
	}
	return layer{gz: gz.Bytes(), diffID: fmt.Sprintf("sha256:%x", sum.Sum(nil))}, nil
}

// config is the image config's "config" object (Docker's field names).
type config struct {
	User         string              `json:"User,omitempty"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
}

type descriptor struct {
	MediaType string `json:"mediaType"`
	Size      int    `json:"size"`
	Digest    string `json:"digest"`
}

const (
	mediaManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaConfig   = "application/vnd.docker.container.image.v1+json"
	mediaLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
)

func digest(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

// pusher speaks the registry API v2 to base.
type pusher struct{ base string }

// push uploads the layers and the config of an image and puts its
// manifest under ref (repository:tag).
func (r *pusher) push(ref string, cfg config, layers []layer) error {
	repo, tag, ok := cut(ref)
	if !ok {
		return fmt.Errorf("reference %q has no tag", ref)
	}
	type rootfs struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	}
	img := struct {
		Created      time.Time `json:"created"`
		Architecture string    `json:"architecture"`
		OS           string    `json:"os"`
		Config       config    `json:"config"`
		RootFS       rootfs    `json:"rootfs"`
	}{Created: epoch, Architecture: "amd64", OS: "linux", Config: cfg, RootFS: rootfs{Type: "layers"}}
	man := struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Config        descriptor   `json:"config"`
		Layers        []descriptor `json:"layers"`
	}{SchemaVersion: 2, MediaType: mediaManifest}
	for _, l := range layers {
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, l.diffID)
		d, err := r.blob(repo, mediaLayer, l.gz)
		if err != nil {
			return err
		}
		man.Layers = append(man.Layers, d)
	}
	cb, err := json.Marshal(img)
	if err != nil {
		return err
	}
	if man.Config, err = r.blob(repo, mediaConfig, cb); err != nil {
		return err
	}
	mb, err := json.Marshal(man)
	if err != nil {
		return err
	}
	_, err = r.do(http.MethodPut, r.base+"/v2/"+repo+"/manifests/"+tag, mediaManifest, mb, http.StatusCreated)
	return err
}

// cut splits repository:tag at the last colon.
func cut(ref string) (repo, tag string, ok bool) {
	i := bytes.LastIndexByte([]byte(ref), ':')
	if i < 0 {
		return "", "", false
	}
	return ref[:i], ref[i+1:], true
}

// blob uploads b to repo unless the registry has it there already.
func (r *pusher) blob(repo, mediaType string, b []byte) (descriptor, error) {
	d := descriptor{MediaType: mediaType, Size: len(b), Digest: digest(b)}
	if _, err := r.do(http.MethodHead, r.base+"/v2/"+repo+"/blobs/"+d.Digest, "", nil, http.StatusOK); err == nil {
		return d, nil
	}
	resp, err := r.do(http.MethodPost, r.base+"/v2/"+repo+"/blobs/uploads/", "", nil, http.StatusAccepted)
	if err != nil {
		return d, err
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return d, fmt.Errorf("upload location: %w", err)
	}
	loc = (&url.URL{Scheme: "http", Host: r.base[len("http://"):]}).ResolveReference(loc)
	q := loc.Query()
	q.Set("digest", d.Digest)
	loc.RawQuery = q.Encode()
	_, err = r.do(http.MethodPut, loc.String(), "application/octet-stream", b, http.StatusCreated)
	return d, err
}

func (r *pusher) do(method, u, contentType string, body []byte, want int) (*http.Response, error) {
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, bytes.TrimSpace(msg))
	}
	return resp, nil
}
