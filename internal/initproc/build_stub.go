package initproc

import (
	"errors"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/plan"
)

// A stub until the plan's compiler is merged (the lead deletes this file
// then): without it every start through the plan fails, and
// MINIMAL_DOCKER_INIT=go runs the Go init instead.

var errNoCompiler = errors.New("the plan's compiler (initproc.Build) is not in this build: set MINIMAL_DOCKER_INIT=go to run the Go init")

// Build compiles the container's setup into a plan (run, create).
func Build(cfg *handshake.Config) (*plan.Plan, error) { return nil, errNoCompiler }

// BuildExec compiles the setup of a process exec'd into a container.
func BuildExec(cfg *handshake.Config) (*plan.Plan, error) { return nil, errNoCompiler }
