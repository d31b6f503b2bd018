package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// The busybox image every engine loads, under these names.
const (
	imageTag     = "busybox:interop"                   // docker-archive's RepoTags
	imageFullRef = "docker.io/library/busybox:interop" // as containerd and Podman name it
)

var image struct {
	once    sync.Once
	archive string // docker-archive tarball
	rootfs  string // the busybox rootfs it was made of
	err     error
}

// imageArchive returns the docker-archive of the busybox image, building it
// on first use: a rootfs from busybox-static (testenv.BuildBusyboxRootfs),
// one layer in an OCI layout made with umoci, copied to a docker-archive
// with skopeo. Nothing is pulled. A failure is returned to every caller.
func imageArchive(t *testing.T) (string, error) {
	t.Helper()
	image.once.Do(func() {
		dir := filepath.Join(env.tmp, "image")
		image.rootfs = filepath.Join(dir, "rootfs")
		image.archive, image.err = buildImage(dir)
		if image.err != nil {
			image.err = fmt.Errorf("building the busybox image: %w", image.err)
		}
	})
	return image.archive, image.err
}

func buildImage(dir string) (string, error) {
	rootfs := filepath.Join(dir, "rootfs")
	layout := filepath.Join(dir, "oci")
	ref := layout + ":interop"
	archive := filepath.Join(dir, "busybox.tar")
	tmp := filepath.Join(dir, "tmp")
	policy := filepath.Join(dir, "policy.json")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	if err := testenv.BuildBusyboxRootfs(rootfs, env.busybox, nil); err != nil {
		return "", err
	}
	// skopeo checks signatures against a policy: accept the local layout
	// without reading the host's /etc/containers/policy.json.
	if err := os.WriteFile(policy, []byte(`{"default":[{"type":"insecureAcceptAnything"}]}`+"\n"), 0o644); err != nil {
		return "", err
	}
	cmdEnv := cleanEnv("TMPDIR=" + tmp)
	steps := [][]string{
		{tool("umoci"), "init", "--layout", layout},
		{tool("umoci"), "new", "--image", ref},
		{tool("umoci"), "insert", "--image", ref, rootfs, "/"},
		{tool("umoci"), "config", "--image", ref, "--config.cmd", "sh",
			"--config.env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		{tool("skopeo"), "--policy", policy, "copy", "--quiet",
			"oci:" + ref, "docker-archive:" + archive + ":" + imageTag},
	}
	for _, argv := range steps {
		if r := runCmd(cmdEnv, argv...); r.Code != 0 {
			return "", r.Failure()
		}
	}
	return archive, nil
}
