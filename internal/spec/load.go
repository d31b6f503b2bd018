package spec

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// linuxSpec is specs.Spec without the other platforms' sections (windows,
// solaris, vm, zos, freebsd), which a Linux runtime ignores. Load decodes
// into it: the first time encoding/json decodes a type it builds codecs
// for every type reachable from it, and every start pays for that.
type linuxSpec struct {
	Version     string            `json:"ociVersion"`
	Process     *specs.Process    `json:"process,omitempty"`
	Root        *specs.Root       `json:"root,omitempty"`
	Hostname    string            `json:"hostname,omitempty"`
	Domainname  string            `json:"domainname,omitempty"`
	Mounts      []specs.Mount     `json:"mounts,omitempty"`
	Hooks       *specs.Hooks      `json:"hooks,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Linux       *specs.Linux      `json:"linux,omitempty"`
}

func (l *linuxSpec) spec() *specs.Spec {
	return &specs.Spec{
		Version: l.Version, Process: l.Process, Root: l.Root,
		Hostname: l.Hostname, Domainname: l.Domainname,
		Mounts: l.Mounts, Hooks: l.Hooks, Annotations: l.Annotations, Linux: l.Linux,
	}
}

func linuxOf(s *specs.Spec) *linuxSpec {
	return &linuxSpec{
		Version: s.Version, Process: s.Process, Root: s.Root,
		Hostname: s.Hostname, Domainname: s.Domainname,
		Mounts: s.Mounts, Hooks: s.Hooks, Annotations: s.Annotations, Linux: s.Linux,
	}
}

// Marshal encodes s's Linux parts (linuxSpec, the fields in specs.Spec's
// order): what Load decodes. The first encoding of a type builds encoders
// for every type it reaches, the other platforms' sections too; for
// specs.Spec that is ~0.9 ms of a command's start-up, for linuxSpec ~0.3.
// A section of another platform in s is not written.
func Marshal(s *specs.Spec) ([]byte, error) { return json.Marshal(linuxOf(s)) }

// MarshalIndent is Marshal indented with tabs, as a bundle's config.json
// is written.
func MarshalIndent(s *specs.Spec) ([]byte, error) { return json.MarshalIndent(linuxOf(s), "", "\t") }

// Load reads bundle/config.json (its Linux parts: linuxSpec); a relative root.path is taken relative to
// the bundle and made absolute.
func Load(bundle string) (*specs.Spec, error) {
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return nil, fmt.Errorf("bundle %q: %w", bundle, err)
	}
	p := filepath.Join(abs, "config.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("load spec: %w", err)
	}
	var l linuxSpec
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("load spec %s: %w", p, err)
	}
	s := l.spec()
	if s.Root == nil {
		return nil, fmt.Errorf("load spec %s: root is missing", p)
	}
	if s.Root.Path == "" {
		// Not the bundle directory: root.path must name the rootfs.
		return nil, fmt.Errorf("load spec %s: root.path is empty", p)
	}
	if !filepath.IsAbs(s.Root.Path) {
		s.Root.Path = filepath.Join(abs, s.Root.Path)
	}
	if s.Linux == nil {
		return nil, fmt.Errorf("load spec %s: linux section is missing", p)
	}
	return s, nil
}

// Bundle returns the spec that `minimal-runc spec` writes: runc's defaults
// (args ["sh"], a terminal, root "rootfs", no resource limits) with the
// same namespaces, mounts and defences as `minimal-docker run` (Docker's
// capabilities, no_new_privs, masked paths, Docker's seccomp profile).
func Bundle() (*specs.Spec, error) {
	s, err := Default("rootfs", []string{"sh"}, WithMemory(0), WithPids(0), WithCPUs(0), WithSeccomp(""))
	if err != nil {
		return nil, err
	}
	s.Root.Path = "rootfs"
	s.Process.Terminal = true
	s.Process.Env = append(s.Process.Env, "TERM=xterm")
	return s, nil
}

// WriteBundle writes Bundle() as dir/config.json; an existing file is
// refused (as runc does).
func WriteBundle(dir string) error {
	p := filepath.Join(dir, "config.json")
	s, err := Bundle()
	if err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	b, err := MarshalIndent(s)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("spec: write %s: %w", p, err)
	}
	return nil
}
