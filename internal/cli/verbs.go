package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// Verb is one command of a tree, by its names (its Use's first word and
// its aliases) and its constructor.
type Verb struct {
	Names []string
	Build func() *cobra.Command
}

// AddVerbs adds to root the verb that args name, alone: building every
// command and its flags costs each command a fraction of a millisecond,
// a third of a start-up's Go initialisers. When args name no verb of verbs
// (none at all, help, completion, an unknown one, a flag root does not
// know), every verb is added, so that help lists them all and an unknown
// verb is refused with cobra's suggestions. root's persistent flags must
// be defined: they may come before the verb, and those that take a value
// are skipped with it.
func AddVerbs(root *cobra.Command, args []string, verbs []Verb) {
	if v := find(verbs, VerbOf(root, args)); v != nil {
		root.AddCommand(v.Build())
		return
	}
	for _, v := range verbs {
		root.AddCommand(v.Build())
	}
}

func find(verbs []Verb, name string) *Verb {
	if name == "" {
		return nil
	}
	for i := range verbs {
		for _, n := range verbs[i].Names {
			if n == name {
				return &verbs[i]
			}
		}
	}
	return nil
}

// VerbOf is the first word of args that is not one of root's persistent
// flags or its value ("" when there is none, or a flag root does not
// define comes first).
func VerbOf(root *cobra.Command, args []string) string {
	fs := root.PersistentFlags()
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--" || a == "-" || a == "":
			return ""
		case !strings.HasPrefix(a, "-"):
			return a
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			f := fs.Lookup(name)
			if f == nil {
				return ""
			}
			if !hasValue && f.NoOptDefVal == "" {
				i++ // its value is the next word
			}
		default: // -x, -xVALUE, -x VALUE; several booleans in one word: leave it to cobra
			if len(a) != 2 {
				return ""
			}
			f := fs.ShorthandLookup(a[1:])
			if f == nil {
				return ""
			}
			if f.NoOptDefVal == "" {
				i++
			}
		}
	}
	return ""
}

// CheckVerbs is what the trees' tests check of their verbs: that they name
// each command of full (the tree with every verb) by its name and aliases,
// and that each Build makes the command of its names.
func CheckVerbs(full *cobra.Command, verbs []Verb) error {
	var want, got [][]string
	for _, c := range full.Commands() {
		want = append(want, append([]string{c.Name()}, c.Aliases...))
	}
	for _, v := range verbs {
		got = append(got, v.Names)
		c := v.Build()
		if n := append([]string{c.Name()}, c.Aliases...); !slices.Equal(n, v.Names) {
			return fmt.Errorf("verb %q builds the command %q", v.Names, n)
		}
	}
	slices.SortFunc(want, slices.Compare)
	slices.SortFunc(got, slices.Compare)
	if !slices.EqualFunc(want, got, slices.Equal) {
		return fmt.Errorf("verbs %q, the tree's commands %q", got, want)
	}
	return nil
}
