package cgfs

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Write is one planned write of a control file: the drivers plan every
// write of a controller (and check what they can) before the first is made.
type Write struct {
	Name, Value string
	// Field names the spec field the value comes from, with the value as
	// given ("linux.resources.cpu.cpus \"0-3\""), for the error of a write
	// the kernel refuses; "" leaves the error as WriteFile's.
	Field string
	// Again: the kernel may refuse this write (EINVAL) until the writes
	// after it are made, and it is then made once more after them (v1's
	// CFS period, when the quota in force over the new period exceeds a
	// parent's limit).
	Again bool
}

// Do writes w in dir.
func (w Write) Do(dir string) error {
	err := WriteFile(dir, w.Name, w.Value)
	if err != nil && w.Field != "" {
		return fmt.Errorf("%s: %w", w.Field, err)
	}
	return err
}

// WriteAll makes the writes in dir, in order, and stops at the first that
// fails; a write marked Again that the kernel refuses with EINVAL is made
// once more after the others instead.
func WriteAll(dir string, writes []Write) error {
	var again []Write
	for _, w := range writes {
		err := w.Do(dir)
		if err != nil && w.Again && errors.Is(err, unix.EINVAL) {
			again = append(again, w)
			continue
		}
		if err != nil {
			return err
		}
	}
	for _, w := range again {
		if err := w.Do(dir); err != nil {
			return err
		}
	}
	return nil
}
