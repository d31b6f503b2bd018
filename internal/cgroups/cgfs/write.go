package cgfs

import "fmt"

// Write is one planned write of a control file: the drivers plan every
// write of a controller (and check what they can) before the first is made.
type Write struct {
	Name, Value string
	// Field names the spec field the value comes from, with the value as
	// given ("linux.resources.cpu.cpus \"0-3\""), for the error of a write
	// the kernel refuses; "" leaves the error as WriteFile's.
	Field string
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
// fails.
func WriteAll(dir string, writes []Write) error {
	for _, w := range writes {
		if err := w.Do(dir); err != nil {
			return err
		}
	}
	return nil
}
