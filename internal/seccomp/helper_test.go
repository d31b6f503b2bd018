package seccomp

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCompileInHelper: the helper gets the profile on its standard input
// and its standard output is the program; when it fails, the error names
// it and carries what it said, without its name prefix.
func TestCompileInHelper(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Echoes its input back: the program must be what it wrote.
	echo := script("echo-helper", `[ "$1" = seccomp-compile ] || exit 9; exec cat`+"\n")
	got, unknown, err := compileInHelper(echo, smallProfile())
	if err != nil || unknown != nil {
		t.Fatalf("unknown %q, err %v; want none", unknown, err)
	}
	if !bytes.Contains(got, []byte(`"defaultAction"`)) {
		t.Errorf("program = %q, want the helper's output (the profile as JSON)", got)
	}
	fail := script("failing-helper", "echo 'minimal-docker-helper: libseccomp said no' >&2; exit 1\n")
	_, _, err = compileInHelper(fail, smallProfile())
	if err == nil || !strings.Contains(err.Error(), fail+" seccomp-compile: libseccomp said no") {
		t.Errorf("error = %v, want it to name %s and carry its message", err, fail)
	}
	// Names what libseccomp did not know on its standard error.
	names := script("names-helper", "printf 'ABCDEFGH'; echo 'unknown syscalls: a_call b_call' >&2\n")
	got, unknown, err = compileInHelper(names, smallProfile())
	if err != nil || string(got) != "ABCDEFGH" || !slices.Equal(unknown, []string{"a_call", "b_call"}) {
		t.Errorf("program %q, unknown %q, err %v; want ABCDEFGH, [a_call b_call]", got, unknown, err)
	}
}
