package container

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
	"github.com/minimal-docker/minimal-docker/internal/hooks"
	"github.com/minimal-docker/minimal-docker/internal/proc"
)

// The runtime's part of the hooks (package hooks runs them and says where
// each kind runs):
//
//	prestart, createRuntime  launch (child.runtimeHooks), while the init
//	                         waits after its mounts, before pivot_root; a
//	                         failure fails the create, which undoes all
//	createContainer,         the init (package initproc); a failure fails
//	startContainer           the create, or the start
//	poststart                Start, and a foreground run once the process
//	                         exec'd; failures are warnings
//	poststop                 Delete once the container is destroyed, the
//	                         end of a foreground run, and a create that
//	                         failed after the init started (as runc's
//	                         destroy); failures are warnings
//
// A foreground run's network (Options.Network, network.go) is attached
// and detached by the parent itself, beside these: ADD from the
// createRuntime hooks' point on, DEL before the poststop hooks.
//
// The hooks of a created container come from the copy of its config taken
// at create (State.Config), so that later edits of the bundle change
// nothing. While create runs, the container's state is locked: a
// createRuntime hook that asks the runtime about this container waits for
// create, that is for itself, until its timeout. The state is unlocked
// while poststart and poststop hooks run.

// configName is the copy of the config in the container's directory.
const configName = "config.json"

// hookState is the container's state as a hook gets it on its stdin,
// before the container has a State.
func hookState(id, bundle string, s *specs.Spec, pid int, status specs.ContainerState) *specs.State {
	return &specs.State{
		Version:     specs.Version,
		ID:          id,
		Status:      status,
		Pid:         pid,
		Bundle:      bundle,
		Annotations: s.Annotations,
	}
}

// runtimeHooks waits until the init stops before pivot_root, runs the
// prestart and then the createRuntime hooks, and lets the init go on.
// Without such hooks the init does not stop.
func (c *child) runtimeHooks(cfg *handshake.Config, dl debugLog) error {
	s := cfg.Spec
	if !hooks.Has(s.Hooks, hooks.Prestart, hooks.CreateRuntime) {
		return nil
	}
	if err := c.conn.WaitHooks(); err != nil {
		return err
	}
	t0 := time.Now()
	st := specs.State{Version: specs.Version}
	if cfg.State != nil {
		st = *cfg.State
	}
	st.Pid = c.proc.Pid
	if err := hooks.Run(s.Hooks, hooks.Prestart, &st); err != nil {
		return err
	}
	if err := hooks.Run(s.Hooks, hooks.CreateRuntime, &st); err != nil {
		return err
	}
	c.x.Parent(time.Since(t0), "ran the prestart and createRuntime hooks, in the runtime's namespaces, while the init waited before pivot_root")
	dl.step("runtime-hooks (part of the init step that follows)", t0)
	return c.conn.SendResume()
}

// warnHooks runs every hook of kind k (poststart, poststop) and writes each
// failure to w as a warning: it does not fail the operation.
func warnHooks(w io.Writer, s *specs.Spec, k hooks.Kind, st *specs.State) {
	err := hooks.RunAll(s.Hooks, k, st)
	if err == nil || w == nil {
		return
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		warnf(w, "%v", e)
	}
}

// poststop runs the poststop hooks of a container that is gone.
func poststop(w io.Writer, id, bundle string, s *specs.Spec) {
	warnHooks(w, s, hooks.Poststop, hookState(id, bundle, s, 0, specs.StateStopped))
}

// saveConfig writes the copy of the config into the container's directory
// and returns its path.
func saveConfig(h *Handle, s *specs.Spec) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("save config of %s: %w", h.ID(), err)
	}
	p := filepath.Join(h.Dir(), configName)
	if err := writeAtomic(p, b); err != nil {
		return "", fmt.Errorf("save config of %s: %w", h.ID(), err)
	}
	return p, nil
}

// loadHooks reads the hooks and annotations of the container's config
// (readConfig), what the poststart and poststop hooks need. Only those are
// decoded: the first decode of all of specs.Spec costs a process ~2 ms,
// which start and delete would pay for nothing.
func loadHooks(st *State) (*specs.Spec, error) {
	var s struct {
		Hooks       *specs.Hooks      `json:"hooks,omitempty"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	if err := readConfig(st, &s); err != nil {
		return nil, err
	}
	return &specs.Spec{Hooks: s.Hooks, Annotations: s.Annotations}, nil
}

// readConfig decodes the container's config into v: the copy taken at
// create, or, for a container created without one, the bundle's
// config.json.
func readConfig(st *State, v any) error {
	p := st.Config
	if p == "" {
		p = filepath.Join(st.Bundle, "config.json")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("config of %s: %w", st.ID, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("config of %s: %s: %w", st.ID, p, err)
	}
	return nil
}

// poststart runs the poststart hooks of a container that has started.
func poststart(w io.Writer, st *State) {
	s, err := loadHooks(st)
	if err != nil {
		warnf(w, "poststart hooks: %v", err)
		return
	}
	oci := st.OCI()
	warnHooks(w, s, hooks.Poststart, &oci)
}

func warnf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, "%s: warning: %s\n", proc.Name(), fmt.Sprintf(format, args...))
	}
}
