//go:build cgo

package nsenter

// Importing "C" compiles nsenter_linux.c, the constructor, into the binary.

import "C"

// Available reports whether the constructor is linked in: the binary was
// built with cgo.
const Available = true
