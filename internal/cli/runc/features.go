package runc

import (
	"encoding/json"
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/caps"
	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/hooks"
	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/rootfs"
	"github.com/minimal-docker/minimal-docker/internal/seccomp"
)

// ociVersionMin is the oldest runtime-spec version whose config.json
// minimal-runc reads.
const ociVersionMin = "1.0.0"

// Features describes what minimal-runc implements, as the runtime spec's
// features document. Nil means unknown; what is known not to be
// implemented is said so (false, or an empty list: see featuresJSON).
func Features() features.Features {
	no := false
	yes := true
	return features.Features{
		OCIVersionMin: ociVersionMin,
		OCIVersionMax: specs.Version,
		Hooks:         hookNames(),
		MountOptions:  rootfs.MountOptions(),
		Linux: &features.Linux{
			Namespaces:   supportedNamespaces(),
			Capabilities: caps.Names(),
			Cgroup: &features.Cgroup{
				V1: &yes, V2: &yes,
				Systemd: &no, SystemdUser: &no, Rdma: &no,
			},
			Seccomp:         seccomp.Features(),
			Apparmor:        &features.Apparmor{Enabled: &no},
			Selinux:         &features.Selinux{Enabled: &no},
			IntelRdt:        &features.IntelRdt{Enabled: &no},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &yes}},
			NetDevices:      &features.NetDevices{Enabled: &no},
		},
		Annotations: map[string]string{
			"org.minimal-docker.version": cli.Version,
		},
	}
}

// hookNames lists the kinds of hooks that run (all of the spec's).
func hookNames() []string {
	names := []string{}
	for _, k := range hooks.Kinds {
		names = append(names, string(k))
	}
	return names
}

// supportedNamespaces lists the namespace types that a new container can
// be given: those of the namespaces table that CloneFlags accepts.
func supportedNamespaces() []string {
	var names []string
	for t := range namespaces.Flags {
		if _, err := namespaces.CloneFlags([]specs.LinuxNamespace{{Type: t}}); err == nil {
			names = append(names, string(t))
		}
	}
	slices.Sort(names)
	return names
}

// featuresJSON is Features as indented JSON. The features types omit empty
// lists, which the spec reads as "unknown"; the list of hooks is written
// even if it were empty (known: none).
func featuresJSON() ([]byte, error) {
	f := Features()
	doc := struct {
		features.Features
		Hooks []string `json:"hooks"` // shadows Features.Hooks, without omitempty
	}{f, f.Hooks}
	return json.MarshalIndent(doc, "", "    ")
}

func newFeaturesCmd(st Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "features",
		Short: "Print what this runtime implements, as the OCI runtime spec's features JSON",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			b, err := featuresJSON()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(st.Out, "%s\n", b)
			return err
		},
	}
}
