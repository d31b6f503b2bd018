// Package userns gives each container of minimal-docker --userns=auto a
// range of host ids of its own (Podman's --userns=auto, Kubernetes'
// user-namespace pods): Size ids, from a block of the host's ids that no
// user normally has, so that root in one container is nobody on the host
// and in every other container.
//
// The allocations are files under a directory (--root's userns/), one
// per range, named by the range's first host id and holding its owner
// (the container's ID): made with O_EXCL, so that two runs at once never
// get the same range without any lock; removed when the container goes
// (Free). A range whose owner is gone (InUse says no: a run killed before
// its end) is taken back by the next Allocate, once older than Grace.
package userns

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The block the ranges are cut from by default: Count ranges of Size ids
// from First (1<<30 to 1<<31: above the subordinate ranges that useradd
// hands out from 100000, below the ids the kernel reserves).
const (
	First = 1 << 30
	Size  = 65536
	Count = (1 << 30) / Size
)

// Block is a block of host ids that ranges are cut from: Count ids from
// Start.
type Block struct {
	Start, Count uint32
}

// Allocator hands out the ranges recorded in Dir.
type Allocator struct {
	Dir string
	// InUse says whether the owner of a range is still there (a
	// container's record or state); nil: every owner is.
	InUse func(owner string) bool
	// Blocks are the host ids to cut ranges of Size from, in order
	// (Podman's: the user "containers"' lines in /etc/subuid); none: the
	// block of Count ranges from First.
	Blocks []Block
}

// blocks are a's blocks, or the default one.
func (a *Allocator) blocks() []Block {
	if len(a.Blocks) > 0 {
		return a.Blocks
	}
	return []Block{{Start: First, Count: Count * Size}}
}

// Allocate records a free range for owner and returns its first host id.
func (a *Allocator) Allocate(owner string) (uint32, error) {
	if owner == "" || strings.ContainsAny(owner, "/\n") {
		return 0, fmt.Errorf("userns: bad owner %q", owner)
	}
	if err := os.MkdirAll(a.Dir, 0o700); err != nil {
		return 0, fmt.Errorf("userns: %w", err)
	}
	var desc []string
	for _, b := range a.blocks() {
		n := b.Count / Size
		desc = append(desc, fmt.Sprintf("%d from %d", n, b.Start))
		for i := uint32(0); i < n; i++ {
			start := b.Start + i*Size
			path := a.path(start)
			err := writeExcl(path, owner)
			if err == nil {
				return start, nil
			}
			if !errors.Is(err, fs.ErrExist) {
				return 0, fmt.Errorf("userns: record range %d: %w", start, err)
			}
			if a.stale(path) && os.Remove(path) == nil && writeExcl(path, owner) == nil {
				return start, nil
			}
		}
	}
	return 0, fmt.Errorf("userns: every range of %d ids is in use (%s)", Size, strings.Join(desc, ", "))
}

// Free removes owner's range (none is no error).
func (a *Allocator) Free(owner string) error {
	ents, err := os.ReadDir(a.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("userns: %w", err)
	}
	for _, e := range ents {
		path := filepath.Join(a.Dir, e.Name())
		if b, err := os.ReadFile(path); err == nil && string(b) == owner {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("userns: free the range of %s: %w", owner, err)
			}
		}
	}
	return nil
}

// Owner is the owner of the range that starts at start, "" when free.
func (a *Allocator) Owner(start uint32) string {
	b, err := os.ReadFile(a.path(start))
	if err != nil {
		return ""
	}
	return string(b)
}

func (a *Allocator) path(start uint32) string {
	return filepath.Join(a.Dir, strconv.FormatUint(uint64(start), 10))
}

// Grace is how old an allocation must be before its owner's absence
// makes it stale: a run records its range before its container's record
// or state exists.
var Grace = 10 * time.Minute

// stale: the range's owner is gone, and the range is older than Grace.
// A file still empty is being written (writeExcl): not stale.
func (a *Allocator) stale(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || time.Since(fi.ModTime()) < Grace {
		return false
	}
	b, err := os.ReadFile(path)
	return err == nil && len(b) > 0 && a.InUse != nil && !a.InUse(string(b))
}

// writeExcl makes path holding owner; fs.ErrExist when it is there.
func writeExcl(path, owner string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(owner)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}
