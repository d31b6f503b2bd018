package jsonlog

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// writer writes a json-file log and rotates it as the monitor does
// (LOG -> LOG.1 -> ... -> LOG.N-1, the oldest dropped).
type writer struct {
	path  string
	files int
	f     *os.File
}

func newWriter(t *testing.T, path string, files int) *writer {
	t.Helper()
	w := &writer{path: path, files: files}
	w.open(t)
	t.Cleanup(func() { w.f.Close() })
	return w
}

func (w *writer) open(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	w.f = f
}

func (w *writer) write(t *testing.T, stream, text string) {
	t.Helper()
	b, err := json.Marshal(Entry{Log: text, Stream: stream, Time: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.f.Write(append(b, '\n')); err != nil {
		t.Fatal(err)
	}
}

func (w *writer) rotate(t *testing.T) {
	t.Helper()
	w.f.Close()
	if w.files == 1 {
		if err := os.Truncate(w.path, 0); err != nil {
			t.Fatal(err)
		}
	}
	for i := w.files - 1; i >= 1; i-- {
		from := w.path
		if i > 1 {
			from = w.path + "." + strconv.Itoa(i-1)
		}
		if err := os.Rename(from, w.path+"."+strconv.Itoa(i)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	w.open(t)
}

func readAll(t *testing.T, r *Reader) []string {
	t.Helper()
	var got []string
	for {
		e, err := r.Next()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Stream+":"+e.Log)
	}
}

// follower counts what a test's follower has read: the records "0\n",
// "1\n", ... in order.
type follower struct {
	read     atomic.Int64
	deadline time.Time // a follower stuck past it fails the test, not hangs it
}

func newFollower() *follower { return &follower{deadline: time.Now().Add(time.Minute)} }

// follow follows r until done, wanting the numbered records in order.
func (f *follower) follow(r *Reader, done func() bool) error {
	return r.Follow(time.Millisecond, done, func(e Entry) error {
		if want := strconv.Itoa(int(f.read.Load())) + "\n"; e.Log != want {
			return fmt.Errorf("record %q, want %q", e.Log, want)
		}
		f.read.Add(1)
		return nil
	})
}

// waitRead waits, in the writer, until the follower has read k records;
// false (and the test failed) if it is stuck.
func (f *follower) waitRead(t *testing.T, k int) bool {
	for f.read.Load() < int64(k) && !t.Failed() {
		if time.Now().After(f.deadline) {
			t.Errorf("the follower is stuck at record %d", f.read.Load())
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return !t.Failed()
}

// TestReadRotated: the rotated files are read oldest first, then LOG;
// streams kept apart; a malformed record skipped and counted.
func TestReadRotated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	w := newWriter(t, path, 3)
	w.write(t, "stdout", "1\n")
	w.rotate(t)
	w.write(t, "stderr", "2\n")
	w.rotate(t)
	w.write(t, "stdout", "3\n")
	if _, err := w.f.WriteString("not json\n"); err != nil {
		t.Fatal(err)
	}
	w.write(t, "stdout", "4")
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := readAll(t, r)
	want := []string{"stdout:1\n", "stderr:2\n", "stdout:3\n", "stdout:4"}
	if fmt.Sprint(got) != fmt.Sprint(want) || r.Malformed != 1 {
		t.Errorf("read %q (malformed %d), want %q (malformed 1)", got, r.Malformed, want)
	}
}

// TestFollowAcrossRotation: a follower sees every record once, in order,
// while the writer rotates under it — sometimes twice between two of its
// looks — and stops once the writer is done and everything it wrote was
// read. A record half-written when the follower reads is read whole
// later. (The writer never gets so far ahead that a file it has not read
// is dropped: those records would be gone, for any reader.)
func TestFollowAcrossRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	w := newWriter(t, path, 10)
	w.write(t, "stdout", "0\n")
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const n = 300
	var finished atomic.Bool
	f := newFollower()
	writing := make(chan struct{})
	defer func() { <-writing }() // before the writer's file is closed
	go func() {
		defer close(writing)
		defer finished.Store(true)
		for i := 1; i <= n; i++ {
			if !f.waitRead(t, i-30) {
				return
			}
			b, _ := json.Marshal(Entry{Log: strconv.Itoa(i) + "\n", Stream: "stdout", Time: time.Now()})
			// A record in two writes: the follower may see its first half.
			w.f.Write(b[:len(b)/2])
			w.f.Write(append(b[len(b)/2:], '\n'))
			if i%7 == 0 {
				w.rotate(t)
			}
		}
	}()
	if err := f.follow(r, finished.Load); err != nil {
		t.Error(err)
		return
	}
	if f.read.Load() != n+1 || r.Malformed != 0 {
		t.Errorf("followed %d records (malformed %d), want %d (0)", f.read.Load(), r.Malformed, n+1)
	}
}

// TestOpenMissing: a log not written yet reads as empty, and a follower
// picks it up when it appears.
func TestOpenMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("Next = %v, want io.EOF", err)
	}
	w := newWriter(t, path, 2)
	w.write(t, "stderr", "late\n")
	var got []string
	err = r.Follow(time.Millisecond, func() bool { return true }, func(e Entry) error {
		got = append(got, e.Log)
		return nil
	})
	if err != nil || fmt.Sprint(got) != "[late\n]" {
		t.Errorf("Follow: %q, %v; want the record written after Open", got, err)
	}
}

// TestFollowTruncated: with max-file 1 the log is truncated in place; a
// follower that has read it all reads it again from its start. (Records
// written between its looks past the length it had read can't be told
// from the old ones: in-place truncation loses them for any reader, as
// with Docker's max-file 1.)
func TestFollowTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	w := newWriter(t, path, 1)
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const n = 50
	var finished atomic.Bool
	f := newFollower()
	writing := make(chan struct{})
	defer func() { <-writing }()
	go func() {
		defer close(writing)
		defer finished.Store(true)
		// The follower must have read a file before it is truncated, and
		// see it shorter than what it read (else nobody could tell): a
		// truncation is followed by one record, read before the next.
		for i := 0; i < n; i++ {
			w.write(t, "stdout", strconv.Itoa(i)+"\n")
			if i%7 == 6 {
				if !f.waitRead(t, i+1) {
					return
				}
				w.rotate(t)
				i++
				w.write(t, "stdout", strconv.Itoa(i)+"\n")
				if !f.waitRead(t, i+1) {
					return
				}
			}
		}
	}()
	if err := f.follow(r, finished.Load); err != nil {
		t.Error(err)
		return
	}
	if f.read.Load() != n {
		t.Errorf("followed %d records, want %d", f.read.Load(), n)
	}
}
