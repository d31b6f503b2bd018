//go:build tools

// Package tools pins the runtime-tools packages that tests/oci builds:
// the in-container checker (cmd/runtimetest) and the validation programs
// (validation/*, all built on validation/util).
package tools

import (
	_ "github.com/opencontainers/runtime-tools/cmd/runtimetest"
	_ "github.com/opencontainers/runtime-tools/validation/util"
)
