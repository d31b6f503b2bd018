package testenv

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// WriteTar writes the tree at dir to tw as an image layer would hold it:
// names relative to dir, owned by root, times at the epoch (reproducible).
// Symbolic links to linkTarget (an absolute path inside the tree, such as
// the busybox binary), when it is not empty, become hard links to it,
// written after everything else so that their target comes first. It does
// not close tw.
func WriteTar(tw *tar.Writer, dir, linkTarget string) error {
	var links []*tar.Header
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		h.Name, h.Uid, h.Gid, h.Uname, h.Gname = rel, 0, 0, "", ""
		h.ModTime, h.AccessTime, h.ChangeTime = time.Unix(0, 0), time.Time{}, time.Time{}
		if linkTarget != "" && link == linkTarget {
			h.Typeflag, h.Linkname = tar.TypeLink, strings.TrimPrefix(linkTarget, "/")
			links = append(links, h)
			return nil
		}
		if info.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.Copy(tw, f); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("tar %s: %w", dir, err)
	}
	for _, h := range links {
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("tar %s: %w", dir, err)
		}
	}
	return nil
}
