package docker

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// copyUp gives each new volume on one of the image's VOLUME paths what
// the image has there, as Docker does for a new volume: the image's
// overlay is mounted for the copy alone (openOverlayRoot: the host never
// sees it), the path resolved inside it, and its entries copied with
// their owners, modes and times, as cp -a copies (its tar). A volume that
// is not empty is left as it is (it was started before: what the
// container wrote in it stays); a path the image lacks, or that is not a
// directory, gives an empty volume. mounts and made are the same mounts,
// parsed and as specMounts made them.
func copyUp(img *imageRun, mounts []volumeMount, made []specs.Mount) error {
	if img == nil {
		return nil
	}
	var from *fsRoot
	defer func() {
		if from != nil {
			from.close()
		}
	}()
	for i, m := range mounts {
		if !m.copyUp {
			continue
		}
		dst := made[i].Source
		if empty, err := emptyDir(dst); err != nil || !empty {
			if err != nil {
				return fmt.Errorf("VOLUME %s: %w", m.target, err)
			}
			continue
		}
		if from == nil {
			fd, err := openOverlayRoot(img.overlay, img.root)
			if err != nil {
				return fmt.Errorf("VOLUME %s: %w", m.target, err)
			}
			from = &fsRoot{fd: fd, resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
		}
		if err := copyInto(from, m.target, dst); err != nil {
			return fmt.Errorf("VOLUME %s: copy the image's files into the volume: %w", m.target, err)
		}
	}
	return nil
}

// emptyDir reports whether directory p has no entries.
func emptyDir(p string) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return len(names) == 0, err
}

// copyInto copies the entries of directory p of root from into the host
// directory dst, owners kept; nothing when p is missing or not a
// directory.
func copyInto(from *fsRoot, p, dst string) error {
	fd, err := from.open(p, unix.O_PATH|unix.O_DIRECTORY)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return nil
	}
	if err != nil {
		return err
	}
	// The volume's directory takes the image directory's owner and mode,
	// as Docker's.
	var st unix.Stat_t
	err = unix.Fstat(fd, &st)
	unix.Close(fd)
	if err == nil {
		err = os.Lchown(dst, int(st.Uid), int(st.Gid))
	}
	if err == nil {
		err = unix.Chmod(dst, st.Mode&0o7777)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", dst, err)
	}
	s, err := from.source(p+"/.", false)
	if err != nil {
		return err
	}
	defer s.close()
	to, err := hostRoot()
	if err != nil {
		return err
	}
	defer to.close()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := s.writeTar(pw, "")
		pw.CloseWithError(err)
		done <- err
	}()
	err = extractTar(tar.NewReader(pr), to, dst, tarOwner{keep: true})
	pr.CloseWithError(errors.New("copy ended"))
	if werr := <-done; err == nil {
		err = werr
	}
	return err
}
