package interop

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/testenv"
)

// Image archives between dockerd and minimal-docker (issue 14): an archive
// `docker save` wrote, loaded and run by minimal-docker; one minimal-docker
// saved, of an image dockerd has never seen, loaded by `docker load` and
// run by dockerd with the runtime under test; and a `docker save` of two
// images. The image ids (config digests) must agree on both sides.

// importedTag is the image minimal-docker makes with import and dockerd
// loads from minimal-docker's save.
const importedTag = "mdimg/imported:1"

// mdStores are a minimal-docker image store (--root) and containers'
// records (MINIMAL_DOCKER_ROOT) beneath a dockerd instance's directory.
type mdStores struct {
	s     *suite
	root  string // --root: images, and the containers' writable layers under writable/
	state string // MINIMAL_DOCKER_ROOT
}

// md runs minimal-docker --root ROOT args... to completion.
func (m *mdStores) md(args ...string) cmdResult {
	return m.s.run(labelFor("minimal-docker", args), cleanEnv("MINIMAL_DOCKER_ROOT="+m.state),
		append([]string{env.mdocker, "--root", m.root}, args...)...)
}

// mdImage is what minimal-docker's image inspect says of an image.
type mdImage struct {
	ID       string `json:"Id"`
	RepoTags []string
}

func (m *mdStores) inspect(ref string) (mdImage, error) {
	r := m.md("image", "inspect", ref)
	if r.Code != 0 {
		return mdImage{}, r.Failure()
	}
	var imgs []mdImage
	if err := json.Unmarshal([]byte(r.Stdout), &imgs); err != nil || len(imgs) != 1 {
		return mdImage{}, fmt.Errorf("minimal-docker image inspect %s: want one image (%v)\n%s", ref, err, r)
	}
	return imgs[0], nil
}

// images lists REPOSITORY:TAG ID per image row of `images`.
func (m *mdStores) images() ([]string, error) {
	r := m.md("images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
	if r.Code != 0 {
		return nil, r.Failure()
	}
	return nonEmptyLines(r.Stdout), nil
}

// runEcho runs `run --pull never IMAGE echo hi` and checks that it printed
// hi and that it left no container directory (overlay) and no record.
func (m *mdStores) runEcho(img string) error {
	r := m.md("run", "--pull", "never", img, "echo", "hi")
	if r.Code != 0 {
		return r.Failure()
	}
	if r.Out() != "hi" {
		return fmt.Errorf("minimal-docker run %s echo hi printed %q, want hi\n%s", img, r.Stdout, r)
	}
	for _, d := range []string{filepath.Join(m.root, "writable"), m.state} {
		entries, err := os.ReadDir(d)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if len(names) > 0 {
			return fmt.Errorf("minimal-docker run %s left %v in %s", img, names, d)
		}
	}
	return nil
}

// imageID is the image id dockerd gives ref.
func (k *dockerd) imageID(ref string) (string, error) {
	r := k.docker("image", "inspect", "--format", "{{.Id}}", ref)
	if r.Code != 0 {
		return "", r.Failure()
	}
	return r.Out(), nil
}

// wantLoaded checks that load printed "Loaded image: REF" for each of refs.
func wantLoaded(r cmdResult, refs ...string) error {
	for _, ref := range refs {
		if !slices.Contains(nonEmptyLines(r.Stdout), "Loaded image: "+ref) {
			return fmt.Errorf("%s did not print \"Loaded image: %s\"\n%s", r.Label, ref, r)
		}
	}
	return nil
}

// rootfsTar writes the busybox image's rootfs to a tar file at p.
func rootfsTar(t *testing.T, p string) error {
	if _, err := imageArchive(t); err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	err = testenv.WriteTar(tw, image.rootfs, "")
	if err == nil {
		err = tw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// archiveChecks: Docker's save loaded by minimal-docker, minimal-docker's
// save loaded by Docker, each image then run by the other side; a two-image
// `docker save` loaded by minimal-docker. The minimal-docker stores go at
// the end, with whatever the runs would have left (a leak is a failure
// already).
func archiveChecks(s *suite, k *dockerd) {
	m := &mdStores{s: s, root: filepath.Join(k.dir, "md-root"), state: filepath.Join(k.dir, "md-containers")}
	fresh := &mdStores{s: s, root: filepath.Join(k.dir, "md-root-two"), state: m.state}
	s.T.Cleanup(func() {
		for _, d := range []string{m.root, fresh.root, m.state} {
			if err := os.RemoveAll(d); err != nil {
				s.T.Errorf("removing minimal-docker's store: %v", err)
			}
		}
	})

	s.check("save-to-minimal-docker", []string{"load"}, func(t *testing.T) error {
		saved := filepath.Join(k.dir, "docker-saved.tar")
		if r := k.docker("save", "-o", saved, imageTag); r.Code != 0 {
			return r.Failure()
		}
		want, err := k.imageID(imageTag)
		if err != nil {
			return err
		}
		r := m.md("load", "-i", saved)
		if r.Code != 0 {
			return r.Failure()
		}
		if err := wantLoaded(r, imageTag); err != nil {
			return err
		}
		rows, err := m.images()
		if err != nil {
			return err
		}
		if !slices.Contains(rows, imageTag+" "+want) {
			return fmt.Errorf("minimal-docker images after loading docker's save: %q, want %q", rows, imageTag+" "+want)
		}
		return m.runEcho(imageTag)
	})

	s.check("save-from-minimal-docker", []string{"start"}, func(t *testing.T) error {
		tarball := filepath.Join(k.dir, "rootfs.tar")
		if err := rootfsTar(t, tarball); err != nil {
			return fmt.Errorf("the rootfs tarball to import: %w", err)
		}
		r := m.md("import", "-c", "LABEL made-by=minimal-docker", "-c", `CMD ["sh"]`, tarball, importedTag)
		if r.Code != 0 {
			return r.Failure()
		}
		img, err := m.inspect(importedTag)
		if err != nil {
			return err
		}
		saved := filepath.Join(k.dir, "md-saved.tar")
		if r := m.md("save", "-o", saved, importedTag); r.Code != 0 {
			return r.Failure()
		}
		r = k.docker("load", "-i", saved)
		if r.Code != 0 {
			return k.WithLog(r.Failure())
		}
		if err := wantLoaded(r, importedTag); err != nil {
			return err
		}
		r = k.docker("image", "inspect", "--format", `{{.Id}} {{index .Config.Labels "made-by"}}`, importedTag)
		if r.Code != 0 {
			return r.Failure()
		}
		if want := img.ID + " minimal-docker"; r.Out() != want {
			return fmt.Errorf("docker image inspect %s: %q, want minimal-docker's id and label: %q\n%s", importedTag, r.Out(), want, r)
		}
		r = k.docker(k.runImageArgs(importedTag, "--rm", "echo", "hi")...)
		if r.Code != 0 {
			return k.WithLog(r.Failure())
		}
		if r.Out() != "hi" {
			return fmt.Errorf("docker run %s echo hi printed %q, want hi\n%s", importedTag, r.Stdout, r)
		}
		return nil
	})

	s.check("save-two-to-minimal-docker", []string{"save-to-minimal-docker", "save-from-minimal-docker"}, func(t *testing.T) error {
		saved := filepath.Join(k.dir, "docker-saved-two.tar")
		if r := k.docker("save", "-o", saved, imageTag, importedTag); r.Code != 0 {
			return r.Failure()
		}
		r := fresh.md("load", "-i", saved)
		if r.Code != 0 {
			return r.Failure()
		}
		if err := wantLoaded(r, imageTag, importedTag); err != nil {
			return err
		}
		rows, err := fresh.images()
		if err != nil {
			return err
		}
		var want []string
		for _, ref := range []string{imageTag, importedTag} {
			id, err := k.imageID(ref)
			if err != nil {
				return err
			}
			want = append(want, ref+" "+id)
		}
		slices.Sort(rows)
		if slices.Sort(want); !slices.Equal(rows, want) {
			return fmt.Errorf("minimal-docker images after loading docker's save of two images: %q, want %q", rows, want)
		}
		return fresh.runEcho(importedTag)
	})
}
