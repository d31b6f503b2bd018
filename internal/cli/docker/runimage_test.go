package docker

import (
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestImageCommand: Docker's rules for an image's Entrypoint and Cmd.
func TestImageCommand(t *testing.T) {
	str := func(s string) *string { return &s }
	full := v1.Config{Entrypoint: []string{"/ep", "a"}, Cmd: []string{"c1", "c2"}}
	for _, tc := range []struct {
		name       string
		cfg        v1.Config
		entrypoint *string
		args       []string
		want       []string
		errSub     string
	}{
		{"entrypoint and cmd", full, nil, nil, []string{"/ep", "a", "c1", "c2"}, ""},
		{"arguments replace cmd", full, nil, []string{"x"}, []string{"/ep", "a", "x"}, ""},
		{"cmd alone", v1.Config{Cmd: []string{"sh"}}, nil, nil, []string{"sh"}, ""},
		{"arguments alone", v1.Config{}, nil, []string{"true"}, []string{"true"}, ""},
		{"--entrypoint drops cmd", full, str("/other"), nil, []string{"/other"}, ""},
		{"--entrypoint with arguments", full, str("/other"), []string{"x"}, []string{"/other", "x"}, ""},
		{`--entrypoint "" clears it`, full, str(""), []string{"x"}, []string{"x"}, ""},
		{"nothing to run", v1.Config{}, nil, nil, nil, "no command specified"},
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
