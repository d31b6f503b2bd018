package docker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// execute runs the CLI with args, stdin holding input, in a store under a
// temporary root; it returns the exit status and stdout.
func execute(t *testing.T, root, input string, args ...string) (int, string) {
	t.Helper()
	t.Setenv(EnvRoot, root)
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.WriteFile(in, []byte(input), 0o600); err != nil {
		t.Fatal(err)
	}
	stdin, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	code := Execute(args, Streams{In: stdin, Out: stdout, Err: stdout})
	out, err := os.ReadFile(stdout.Name())
	if err != nil {
		t.Fatal(err)
	}
	return code, string(out)
}

// TestPrune: prune asks as Docker does unless --force, removes what a
// killed run left (here a record without a state), and says so in
// Docker's words.
func TestPrune(t *testing.T) {
	root := filepath.Join(t.TempDir(), "containers")
	left := filepath.Join(root, "abc123")
	if err := os.MkdirAll(left, 0o711); err != nil {
		t.Fatal(err)
	}

	images := t.TempDir() // --root: no detached containers there
	code, out := execute(t, root, "n\n", "--root", images, "prune")
	if code != 0 || out != pruneWarning {
		t.Fatalf("prune answered n: exit %d, output %q; want 0 and only the question", code, out)
	}
	if _, err := os.Stat(left); err != nil {
		t.Fatalf("prune answered n removed the container: %v", err)
	}

	code, out = execute(t, root, "y\n", "--root", images, "prune")
	want := pruneWarning + "Deleted Containers:\nabc123\n\nTotal reclaimed space: 0B\n"
	if code != 0 || out != want {
		t.Fatalf("prune answered y: exit %d, output\n%q\nwant\n%q", code, out, want)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Fatalf("the container is left after prune: %v", err)
	}

	code, out = execute(t, root, "", "--root", images, "prune", "--force")
	if code != 0 || out != "Total reclaimed space: 0B\n" || strings.Contains(out, "WARNING") {
		t.Fatalf("prune --force of nothing: exit %d, output %q", code, out)
	}
	// A store that is not there is not made by prune (the suites prune
	// with the default --root, /var/lib/minimal-docker).
	if entries, _ := os.ReadDir(images); len(entries) != 0 {
		t.Errorf("prune made %s/%s", images, entries[0].Name())
	}
}
