package docker

import (
	"github.com/minimal-docker/minimal-docker/internal/image"
	"os"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cli"
)

// TestVerbs: Execute builds only the verb the command line names, from the
// table verbs; the table must be the tree's commands.
func TestVerbs(t *testing.T) {
	st := Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
	if err := cli.CheckVerbs(NewRoot(st), verbs(&globals{}, st)); err != nil {
		t.Fatal(err)
	}
	root := newRoot(st, []string{"--root", "/tmp/x", "run", "--rm", "busybox"})
	if cs := root.Commands(); len(cs) != 1 || cs[0].Name() != "run" {
		t.Fatalf("run's tree has %d commands", len(cs))
	}
}

// TestDefaultImageRootEnv: $MINIMAL_DOCKER_DATA_ROOT is --root's default
// (the suites' own store); unset, the host's (as root).
func TestDefaultImageRootEnv(t *testing.T) {
	t.Setenv(EnvDataRoot, "/tmp/md-data-root")
	if got := defaultImageRoot(); got != "/tmp/md-data-root" {
		t.Errorf("with %s set: %q", EnvDataRoot, got)
	}
	t.Setenv(EnvDataRoot, "")
	if got := defaultImageRoot(); os.Geteuid() == 0 && got != image.DefaultRoot {
		t.Errorf("unset, as root: %q, want %q", got, image.DefaultRoot)
	}
}
