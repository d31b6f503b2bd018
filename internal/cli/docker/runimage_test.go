package docker

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minimal-docker/minimal-docker/internal/image"
)

// TestImageCommand: Docker's rules for an image's Entrypoint and Cmd.
func TestImageCommand(t *testing.T) {
	str := func(s string) *string { return &s }
	full := image.RunConfig{Entrypoint: []string{"/ep", "a"}, Cmd: []string{"c1", "c2"}}
	for _, tc := range []struct {
		name       string
		cfg        image.RunConfig
		entrypoint *string
		args       []string
		want       []string
		errSub     string
	}{
		{"entrypoint and cmd", full, nil, nil, []string{"/ep", "a", "c1", "c2"}, ""},
		{"arguments replace cmd", full, nil, []string{"x"}, []string{"/ep", "a", "x"}, ""},
		{"cmd alone", image.RunConfig{Cmd: []string{"sh"}}, nil, nil, []string{"sh"}, ""},
		{"arguments alone", image.RunConfig{}, nil, []string{"true"}, []string{"true"}, ""},
		{"--entrypoint drops cmd", full, str("/other"), nil, []string{"/other"}, ""},
		{"--entrypoint with arguments", full, str("/other"), []string{"x"}, []string{"/other", "x"}, ""},
		{`--entrypoint "" clears it`, full, str(""), []string{"x"}, []string{"x"}, ""},
		{"nothing to run", image.RunConfig{}, nil, nil, nil, "no command specified"},
		{`--entrypoint "" and no arguments`, full, str(""), nil, nil, "no command specified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := (&imageRun{config: tc.cfg}).command(tc.entrypoint, tc.args)
			if tc.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSub) {
					t.Fatalf("err = %v, want %q", err, tc.errSub)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("command = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestSweepRunDirs: a sweep removes a killed run's directory and lock,
// and a free lock whose directory is gone, and keeps what a live run
// holds, with or without its directory yet.
func TestSweepRunDirs(t *testing.T) {
	base := filepath.Join(t.TempDir(), runDirs)
	if err := os.Mkdir(base, 0o700); err != nil {
		t.Fatal(err)
	}
	p := func(name string) string { return filepath.Join(base, name) }
	for _, d := range []string{"killed", "live"} {
		if err := os.Mkdir(p(d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []string{"killed.lock", "orphan.lock"} {
		if err := os.WriteFile(p(l), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	held := []*os.File{}
	for _, l := range []string{"live", "born"} {
		f, err := lockRunDir(p(l))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, f)
	}
	defer func() {
		for _, f := range held {
			f.Close()
		}
	}()

	sweepRunDirs(base)

	for name, want := range map[string]bool{
		"killed": false, "killed.lock": false, "orphan.lock": false,
		"live": true, "live.lock": true, "born.lock": true,
	} {
		_, err := os.Lstat(p(name))
		if got := err == nil; got != want {
			t.Errorf("after the sweep, %s exists: %v, want %v (%v)", name, got, want, err)
		}
	}
}
