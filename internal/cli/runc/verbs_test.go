package runc

import (
	"os"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/cli"
)

// TestVerbs: Execute builds only the verb the command line names, from the
// table verbs; the table must be the tree's commands.
func TestVerbs(t *testing.T) {
	st := Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
	full, _ := NewRoot(st, nil)
	if err := cli.CheckVerbs(full, verbs(&globals{}, st)); err != nil {
		t.Fatal(err)
	}
	root, _ := NewRoot(st, []string{"--root", "/tmp/x", "--debug", "run", "-b", "b", "id"})
	if cs := root.Commands(); len(cs) != 1 || cs[0].Name() != "run" {
		t.Fatalf("run's tree has %d commands", len(cs))
	}
}
