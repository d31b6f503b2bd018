// Package jsonlog reads a container's log in Docker's json-file format, as
// the monitor (cmd/minimal-docker-monitor) writes it: one JSON object per
// line, {"log": TEXT, "stream": "stdout"|"stderr", "time": RFC3339Nano},
// TEXT ending in "\n" unless the line was split (longer than 16 KiB, or
// the last words of a process that ended without a newline). The monitor
// rotates by renaming: LOG becomes LOG.1, LOG.1 becomes LOG.2, ... up to
// LOG.N-1 (max-file N), and a new LOG is opened; so the files, oldest
// first, are LOG.N-1 ... LOG.1, LOG.
package jsonlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Entry is one record of the log.
type Entry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// maxRotated bounds the search for rotated files (LOG.1, LOG.2, ...).
const maxRotated = 1000

// open opens the log's files, oldest first: the rotated ones that exist,
// then LOG itself (which may not exist yet). All are opened before any is
// read, so that a rotation meanwhile changes no file under the reader.
func open(path string) ([]*os.File, error) {
	var files []*os.File
	for i := maxRotated; i >= 1; i-- {
		f, err := os.Open(path + "." + strconv.Itoa(i))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			closeAll(files)
			return nil, fmt.Errorf("open log: %w", err)
		}
		files = append(files, f)
	}
	f, err := os.Open(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		closeAll(files)
		return nil, fmt.Errorf("open log: %w", err)
	}
	if err == nil {
		files = append(files, f)
	}
	return files, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// A Reader reads a log from its oldest record on, and then, if asked,
// follows it across rotations.
type Reader struct {
	path      string
	files     []*os.File // not yet read, oldest first; the last is the live one
	cur       *bufio.Reader
	off       int64  // bytes of files[0] read
	partial   []byte // the start of a record whose newline is not written yet
	Malformed int    // records that were not JSON, skipped
}

// Open opens the log at path for reading.
func Open(path string) (*Reader, error) {
	files, err := open(path)
	if err != nil {
		return nil, err
	}
	r := &Reader{path: path, files: files}
	if len(files) > 0 {
		r.cur = bufio.NewReaderSize(files[0], 64<<10)
	}
	return r, nil
}

// Close closes the files the reader holds.
func (r *Reader) Close() error {
	closeAll(r.files)
	r.files = nil
	return nil
}

// Next returns the next record written so far, or io.EOF when there is
// none (yet: Follow waits for more).
func (r *Reader) Next() (Entry, error) {
	for r.cur != nil {
		line, err := r.cur.ReadBytes('\n')
		r.off += int64(len(line))
		if err == nil {
			line = append(r.partial, line...)
			r.partial = nil
			var e Entry
			if json.Unmarshal(bytes.TrimSpace(line), &e) != nil {
				r.Malformed++
				continue
			}
			return e, nil
		}
		if err != io.EOF {
			return Entry{}, fmt.Errorf("read log: %w", err)
		}
		// A record without its newline: being written (keep it for
		// later), or the end of a file the monitor has rotated away
		// (never completed: drop it with the file).
		r.partial = append(r.partial, line...)
		if len(r.files) == 1 {
			return Entry{}, io.EOF
		}
		if len(r.partial) > 0 {
			r.Malformed++
			r.partial = nil
		}
		r.files[0].Close()
		r.files = r.files[1:]
		r.cur, r.off = bufio.NewReaderSize(r.files[0], 64<<10), 0
	}
	return Entry{}, io.EOF
}

// truncated reports whether the live file was truncated under the reader
// (the monitor's rotation with max-file 1, as Docker's), and then reads
// it again from its start.
func (r *Reader) truncated() (bool, error) {
	if len(r.files) != 1 {
		return false, nil
	}
	st, err := r.files[0].Stat()
	if err != nil || st.Size() >= r.off {
		return false, nil
	}
	if _, err := r.files[0].Seek(0, io.SeekStart); err != nil {
		return false, fmt.Errorf("read log: %w", err)
	}
	r.cur.Reset(r.files[0])
	r.off, r.partial = 0, nil
	return true, nil
}

// rotated reports whether LOG is no longer the file the reader reads
// last: the monitor rotated it (maybe more than once since the last
// look), or made it since Open. It then queues what was written since, in
// order: the rotated files newer than the one the reader holds (found by
// its inode among LOG.1, LOG.2, ...; all of them if it was rotated away),
// then the new LOG.
func (r *Reader) rotated() (bool, error) {
	live, err := os.Open(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open log: %w", err)
	}
	var last *os.File
	if len(r.files) > 0 {
		last = r.files[len(r.files)-1]
		if sameFile(live, last) {
			live.Close()
			return false, nil
		}
	}
	// LOG.1, LOG.2, ... newest first, up to the one the reader holds. A
	// rotation under way moves files up by one while they are looked at:
	// a scan is trusted when the next one sees the same files.
	var newer []*os.File
	for try := 0; ; try++ {
		again, err := r.scanNewer(last, live)
		if err != nil {
			closeAll(append(newer, live))
			return false, err
		}
		same := len(again) == len(newer) && try > 0
		for i := 0; same && i < len(again); i++ {
			same = sameFile(again[i], newer[i])
		}
		closeAll(newer)
		newer = again
		if same || try == 10 {
			break
		}
	}
	slices.Reverse(newer)
	r.files = append(append(r.files, newer...), live)
	if r.cur == nil {
		r.cur = bufio.NewReaderSize(r.files[0], 64<<10)
	}
	return true, nil
}

// scanNewer opens the rotated files newer than last (nil: all of them),
// newest first, leaving out live.
func (r *Reader) scanNewer(last, live *os.File) ([]*os.File, error) {
	top := highestRotated(r.path) + 2 // a gap may be a file moving up
	var newer []*os.File
	for i := 1; i <= top; i++ {
		f, err := os.Open(r.path + "." + strconv.Itoa(i))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			closeAll(newer)
			return nil, fmt.Errorf("open log: %w", err)
		}
		if last != nil && sameFile(f, last) {
			f.Close()
			break
		}
		if sameFile(f, live) {
			// live was rotated away meanwhile: what was found before it
			// is newer than live, for the next look to find after it.
			f.Close()
			closeAll(newer)
			newer = nil
			continue
		}
		if slices.ContainsFunc(newer, func(g *os.File) bool { return sameFile(f, g) }) {
			f.Close()
			continue
		}
		newer = append(newer, f)
	}
	return newer, nil
}

// highestRotated returns the highest N of the files LOG.N there are.
func highestRotated(path string) int {
	entries, _ := os.ReadDir(filepath.Dir(path))
	top, prefix := 0, filepath.Base(path)+"."
	for _, e := range entries {
		if n, err := strconv.Atoi(strings.TrimPrefix(e.Name(), prefix)); err == nil && strings.HasPrefix(e.Name(), prefix) && n <= maxRotated {
			top = max(top, n)
		}
	}
	return top
}

func sameFile(a, b *os.File) bool {
	sa, errA := a.Stat()
	sb, errB := b.Stat()
	if errA != nil || errB != nil {
		return false
	}
	x, okA := sa.Sys().(*syscall.Stat_t)
	y, okB := sb.Sys().(*syscall.Stat_t)
	return okA && okB && x.Dev == y.Dev && x.Ino == y.Ino
}

// Follow calls fn with every record written from the reader's position
// on, across rotations, until done says the writer is gone (checked every
// poll) and what it wrote has been read; fn's error stops it.
func (r *Reader) Follow(poll time.Duration, done func() bool, fn func(Entry) error) error {
	for {
		e, err := r.Next()
		if err == nil {
			if err := fn(e); err != nil {
				return err
			}
			continue
		}
		if err != io.EOF {
			return err
		}
		// Read to the end of what is there: a rotation shows as a new
		// LOG, read once the old one is drained (Next moves on to it).
		if moved, err := r.rotated(); err != nil {
			return err
		} else if moved {
			continue
		}
		if again, err := r.truncated(); err != nil {
			return err
		} else if again {
			continue
		}
		finished := done()
		if finished {
			// The writer is gone: one last look, for what it wrote
			// between the read above and done.
			if e, err := r.Next(); err == nil {
				if err := fn(e); err != nil {
					return err
				}
				continue
			}
			if moved, _ := r.rotated(); moved {
				continue
			}
			return nil
		}
		time.Sleep(poll)
	}
}
