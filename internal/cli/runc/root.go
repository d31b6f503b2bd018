// Package runc is the OCI runtime front door: runc's verbs and flags, so
// that containerd, Podman and Docker can call minimal-runc as they call
// runc. One file per verb.
package runc

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/container"
	"github.com/minimal-docker/minimal-docker/internal/exitcode"
	"github.com/minimal-docker/minimal-docker/internal/explain"
	"github.com/minimal-docker/minimal-docker/internal/rootless"
)

// DefaultRoot is where container state lives (runc's --root).
const DefaultRoot = "/run/minimal-docker"

// Streams are the process's standard files.
type Streams struct {
	In       *os.File
	Out, Err *os.File
}

// globals are runc's global flags.
type globals struct {
	root          string
	log           string
	logFormat     string
	debug         bool
	systemdCgroup bool
	rootless      string
	criu          string // accepted, unused: no checkpoint/restore
	explain       bool
}

// explainLog is the --explain log, writing to w; nil without the flag.
func (g *globals) explainLog(w io.Writer) *explain.Log {
	if !g.explain {
		return nil
	}
	return explain.New(w)
}

func (g *globals) store() (*container.Store, error) {
	return container.OpenStore(g.root)
}

func (g *globals) check() error {
	if g.logFormat != "text" && g.logFormat != "json" {
		return fmt.Errorf("invalid --log-format %q: want text or json", g.logFormat)
	}
	if g.systemdCgroup {
		return fmt.Errorf("--systemd-cgroup: systemd cgroup management is not supported (no systemd here); use cgroupfs paths")
	}
	switch g.rootless {
	case "auto", "false", "true":
	default:
		return fmt.Errorf("invalid --rootless %q: want auto, true or false", g.rootless)
	}
	return nil
}

func (g *globals) logLevel() string {
	if g.debug {
		return "debug"
	}
	return "info"
}

// logger is a command's log: warnings to w, and with --debug its steps.
func (g *globals) logger(w io.Writer) container.Logger {
	return container.Logger{W: w, Level: g.logLevel()}
}

// defaultRoot is --root's default: DefaultRoot, or for a rootless runtime
// $XDG_RUNTIME_DIR/minimal-runc (runc's is $XDG_RUNTIME_DIR/runc) when
// that is usable.
func defaultRoot() string {
	if rootless.Active() {
		if d, err := rootless.RuntimeDir("minimal-runc"); err == nil {
			return d
		}
	}
	return DefaultRoot
}

// NewRoot builds the command tree: with the verb args name, or every verb
// (cli.AddVerbs; args nil: every verb).
func NewRoot(st Streams, args []string) (*cobra.Command, *globals) {
	g := &globals{}
	root := &cobra.Command{
		Use:           "minimal-runc",
		Short:         "OCI runtime (runc-compatible command line) of minimal-docker",
		Version:       cli.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(c *cobra.Command, _ []string) error {
			if c.Name() == "init" {
				return nil
			}
			return g.check()
		},
	}
	root.SetIn(st.In)
	root.SetOut(st.Out)
	root.SetErr(st.Err)
	pf := root.PersistentFlags()
	pf.StringVar(&g.root, "root", defaultRoot(), "directory for container state (rootless: $XDG_RUNTIME_DIR/minimal-runc)")
	pf.StringVar(&g.log, "log", "", "also write errors and debug messages to this file")
	pf.StringVar(&g.logFormat, "log-format", "text", "format of --log: text or json (json lines with level, msg, time)")
	pf.BoolVar(&g.debug, "debug", false, "print each setup step and its duration")
	pf.BoolVar(&g.systemdCgroup, "systemd-cgroup", false, "use systemd for cgroups (not supported: a clear error)")
	pf.StringVar(&g.rootless, "rootless", "auto", "rootless mode: auto (when not root, or in a user namespace), true or false; not root and outside a user namespace, minimal-runc enters one of the user's ids (/etc/subuid, /etc/subgid) unless false")
	pf.BoolVar(&g.explain, "explain", false, "print to stderr, as it happens, what run, create and exec do: the parent's steps and each operation of the container's init, with its time")
	pf.StringVar(&g.criu, "criu", "criu", "path to criu: accepted as runc accepts it (containerd passes it when configured); checkpoint and restore are not supported")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nSee '%s --help'.", err, c.CommandPath())
	})
	cli.AddVerbs(root, args, verbs(g, st))
	return root, g
}

// Execute runs the CLI with args and returns the exit status; errors go to
// stderr and, with --log, to the log file in the chosen format.
func Execute(args []string, st Streams) int {
	root, g := NewRoot(st, args)
	root.SetArgs(args)
	err := root.Execute()
	code, print := cli.ExitCode(err)
	if print {
		// runc exits 1 on its own errors; engines only look for non-zero.
		if code == exitcode.Runtime {
			code = 1
		}
		fmt.Fprintf(st.Err, "minimal-runc: %v\n", err)
		if g.log != "" {
			logTo(g.log, g.logFormat, "error", err.Error())
		}
	}
	return code
}

// logTo appends one message to the log file (what containerd's shim reads
// back when a runtime command fails).
func logTo(path, format, level, msg string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	writeLog(f, format, level, msg)
}

func writeLog(w io.Writer, format, level, msg string) {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	if format == "json" {
		b, _ := json.Marshal(map[string]string{"level": level, "msg": msg, "time": now})
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	fmt.Fprintf(w, "time=%q level=%s msg=%q\n", now, level, msg)
}
