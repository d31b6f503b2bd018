package rootfs

import ()

// devNode is one standard device node.
type devNode struct {
	Name         string
	Major, Minor uint32
}

// DevNodes are the nodes every container's /dev holds (character devices,
// mode 0666, owned by root).
var DevNodes = []devNode{
	{"null", 1, 3},
	{"zero", 1, 5},
	{"full", 1, 7},
	{"random", 1, 8},
	{"urandom", 1, 9},
	{"tty", 5, 0},
}

// DevLinks are the symlinks every container's /dev holds: name -> target.
var DevLinks = [][2]string{
	{"fd", "/proc/self/fd"},
	{"stdin", "/proc/self/fd/0"},
	{"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"},
	{"ptmx", "pts/ptmx"},
}
