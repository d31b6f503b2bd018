package v2

import "github.com/minimal-docker/minimal-docker/internal/cgroups/cgfs"

// pidsMax: the pids controller is cgfs's (the same in v1 and v2).
const pidsMax = cgfs.PidsMax
