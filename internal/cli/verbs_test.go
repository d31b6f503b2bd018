package cli

import (
	"slices"
	"testing"

	"github.com/spf13/cobra"
)

func testRoot() *cobra.Command {
	root := &cobra.Command{Use: "root"}
	root.PersistentFlags().String("root", "", "")
	root.PersistentFlags().StringP("log", "l", "", "")
	root.PersistentFlags().BoolP("debug", "d", false, "")
	return root
}

func TestVerbOf(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"run", "x"}, "run"},
		{[]string{"--root", "/r", "run"}, "run"},
		{[]string{"--root=/r", "state", "id"}, "state"},
		{[]string{"--debug", "run"}, "run"},
		{[]string{"--debug=true", "run"}, "run"},
		{[]string{"-d", "run"}, "run"},
		{[]string{"-l", "f", "run"}, "run"},
		{[]string{"--root", "run"}, ""}, // run is --root's value
		{[]string{"--help"}, ""},
		{[]string{"-h", "run"}, ""},
		{[]string{"--unknown", "run"}, ""},
		{[]string{"-dl", "f", "run"}, ""},
		{[]string{"--", "run"}, ""},
		{[]string{"help", "run"}, "help"},
	} {
		if got := VerbOf(testRoot(), tt.args); got != tt.want {
			t.Errorf("VerbOf(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestAddVerbs(t *testing.T) {
	built := map[string]int{}
	verb := func(name string, aliases ...string) Verb {
		return Verb{Names: append([]string{name}, aliases...), Build: func() *cobra.Command {
			built[name]++
			return &cobra.Command{Use: name, Aliases: aliases}
		}}
	}
	verbs := []Verb{verb("run"), verb("ls", "list"), verb("rm")}
	names := func(c *cobra.Command) []string {
		var n []string
		for _, s := range c.Commands() {
			n = append(n, s.Name())
		}
		return n
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--root", "/r", "run", "x"}, []string{"run"}},
		{[]string{"list"}, []string{"ls"}},
		{[]string{"nope"}, []string{"ls", "rm", "run"}},
		{[]string{"--help"}, []string{"ls", "rm", "run"}},
		{nil, []string{"ls", "rm", "run"}},
	} {
		clear(built)
		root := testRoot()
		AddVerbs(root, tt.args, verbs)
		if got := names(root); !slices.Equal(got, tt.want) {
			t.Errorf("AddVerbs(%q): commands %q, want %q", tt.args, got, tt.want)
		}
		if len(built) != len(tt.want) {
			t.Errorf("AddVerbs(%q): built %v, want only %q", tt.args, built, tt.want)
		}
	}
}

func TestCheckVerbs(t *testing.T) {
	v := func(names ...string) Verb {
		return Verb{Names: names, Build: func() *cobra.Command { return &cobra.Command{Use: names[0], Aliases: names[1:]} }}
	}
	full := testRoot()
	full.AddCommand(&cobra.Command{Use: "run"}, &cobra.Command{Use: "ls", Aliases: []string{"list"}})
	if err := CheckVerbs(full, []Verb{v("ls", "list"), v("run")}); err != nil {
		t.Errorf("same verbs: %v", err)
	}
	if err := CheckVerbs(full, []Verb{v("run")}); err == nil {
		t.Errorf("a missing verb: no error")
	}
	bad := Verb{Names: []string{"ls"}, Build: func() *cobra.Command { return &cobra.Command{Use: "rm"} }}
	if err := CheckVerbs(full, []Verb{bad, v("run")}); err == nil {
		t.Errorf("a verb building another command: no error")
	}
}
