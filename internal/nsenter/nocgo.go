//go:build !cgo

package nsenter

// Available reports whether the constructor is linked in: the binary was
// built with cgo. Without it, nothing can join a mount namespace.
const Available = false
