package bpf

import "testing"

// TestInstallRejectsBadProgram: an empty program, one that is not whole
// instructions, or one longer than the kernel takes is refused before the
// system call (the calling thread gets no filter).
func TestInstallRejectsBadProgram(t *testing.T) {
	for _, prog := range [][]byte{nil, make([]byte, 7), make([]byte, SockFilterSize*(MaxInsns+1))} {
		if err := (&Filter{Program: prog}).Install(0); err == nil {
			t.Errorf("Install of %d bytes succeeded", len(prog))
		}
	}
}
