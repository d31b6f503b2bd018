//go:build cgo

package seccomp

import "testing"

// BenchmarkCompile compiles Docker's default profile with libseccomp (what
// a run without the cache pays).
func BenchmarkCompile(b *testing.B) {
	p := DefaultProfile(dockerCaps)
	for b.Loop() {
		if _, err := Compile(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCached gets the same filter from a warm cache: check, key
// (JSON + SHA-256), read and verify the file.
func BenchmarkCached(b *testing.B) {
	p := DefaultProfile(dockerCaps)
	c := NewCache(b.TempDir())
	if _, err := c.Filter(p); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r, err := c.Filter(p)
		if err != nil || !r.Cached {
			b.Fatal(err, r.Cached)
		}
	}
}

// BenchmarkDefaultProfile resolves Docker's profile for a capability set
// (what the Docker-like front door does on every run).
func BenchmarkDefaultProfile(b *testing.B) {
	for b.Loop() {
		DefaultProfile(dockerCaps)
	}
}

// BenchmarkKey is the cache key of Docker's profile (canonical form and
// SHA-256), paid on every run.
func BenchmarkKey(b *testing.B) {
	p := DefaultProfile(dockerCaps)
	c := NewCache(b.TempDir())
	for b.Loop() {
		c.Key(p)
	}
}
