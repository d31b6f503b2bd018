package store

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchmarkList100: what `ps -a` reads with 100 containers, each recorded
// as running as this process (alive, checked against the real kernel:
// /proc/PID/stat and the boot id). Issue 15's goal is `ps -a` under 50 ms
// with 100 containers; this is the store's part of it.
func BenchmarkList100(b *testing.B) {
	s, err := Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	self, err := ProcessOf(os.Getpid())
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		c := &Container{Name: "c" + strconv.Itoa(i), Path: "sleep", Config: Config{Image: "busybox"}}
		if err := s.Create(c); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Update(c.ID, func(c *Container) error {
			c.State.SetRunning(self, time.Now())
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		list, err := s.List()
		if err != nil || len(list) != 100 {
			b.Fatalf("List: %d, %v", len(list), err)
		}
	}
}
