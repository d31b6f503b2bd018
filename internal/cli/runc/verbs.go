package runc

import (
	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/cli"
)

// verbs are the commands of the tree (cli.AddVerbs builds the one a
// command line names).
func verbs(g *globals, st Streams) []cli.Verb {
	v := func(name string, build func() *cobra.Command) cli.Verb {
		return cli.Verb{Names: []string{name}, Build: build}
	}
	return []cli.Verb{
		v("create", func() *cobra.Command { return newCreateCmd(g, st) }),
		v("start", func() *cobra.Command { return newStartCmd(g) }),
		v("state", func() *cobra.Command { return newStateCmd(g, st) }),
		v("kill", func() *cobra.Command { return newKillCmd(g) }),
		v("delete", func() *cobra.Command { return newDeleteCmd(g) }),
		v("run", func() *cobra.Command { return newRunCmd(g, st) }),
		v("list", func() *cobra.Command { return newListCmd(g, st) }),
		v("spec", func() *cobra.Command { return newSpecCmd(st) }),
		v("exec", func() *cobra.Command { return newExecCmd(g, st) }),
		v("pause", func() *cobra.Command { return newPauseCmd(g) }),
		v("resume", func() *cobra.Command { return newResumeCmd(g) }),
		v("update", func() *cobra.Command { return newUpdateCmd(g, st) }),
		v("ps", func() *cobra.Command { return newPsCmd(g, st) }),
		v("features", func() *cobra.Command { return newFeaturesCmd(st) }),
	}
}
