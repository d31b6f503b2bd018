//go:build !lean

package image

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// changeSetters apply the Dockerfile instructions that `docker import
// --change` accepts to an image's config, each from the text after the
// instruction's name; built at first use (not at init, which every
// command pays).
var changeSetters = sync.OnceValue(func() map[string]func(c *v1.Config, arg string) error {
	return map[string]func(c *v1.Config, arg string) error{
		"CMD": func(c *v1.Config, arg string) (err error) {
			c.Cmd, err = commandForm(arg)
			return err
		},
		"ENTRYPOINT": func(c *v1.Config, arg string) (err error) {
			c.Entrypoint, err = commandForm(arg)
			return err
		},
		"ENV": func(c *v1.Config, arg string) error {
			pairs, err := keyValues(arg)
			for _, kv := range pairs {
				c.Env = setEnv(c.Env, kv)
			}
			return err
		},
		"LABEL": func(c *v1.Config, arg string) error {
			pairs, err := keyValues(arg)
			for _, kv := range pairs {
				if c.Labels == nil {
					c.Labels = map[string]string{}
				}
				k, v, _ := strings.Cut(kv, "=")
				c.Labels[k] = v
			}
			return err
		},
		"EXPOSE": func(c *v1.Config, arg string) error {
			for _, p := range strings.Fields(arg) {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				if c.ExposedPorts == nil {
					c.ExposedPorts = map[string]struct{}{}
				}
				c.ExposedPorts[p] = struct{}{}
			}
			return nil
		},
		"VOLUME": func(c *v1.Config, arg string) error {
			vols, err := listForm(arg)
			for _, v := range vols {
				if c.Volumes == nil {
					c.Volumes = map[string]struct{}{}
				}
				c.Volumes[v] = struct{}{}
			}
			return err
		},
		"USER":       func(c *v1.Config, arg string) error { c.User = arg; return nil },
		"WORKDIR":    func(c *v1.Config, arg string) error { c.WorkingDir = arg; return nil },
		"STOPSIGNAL": func(c *v1.Config, arg string) error { c.StopSignal = arg; return nil },
	}
})

// applyChange applies one --change ("CMD [\"/bin/sh\"]", "ENV A=b") to c.
func applyChange(c *v1.Config, change string) error {
	instr, arg, _ := strings.Cut(strings.TrimSpace(change), " ")
	set, ok := changeSetters()[strings.ToUpper(instr)]
	if !ok {
		return fmt.Errorf("invalid change %q: %s is not a valid change command (want one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)", change, instr)
	}
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return fmt.Errorf("invalid change %q: %s needs an argument", change, instr)
	}
	if err := set(c, arg); err != nil {
		return fmt.Errorf("invalid change %q: %w", change, err)
	}
	return nil
}

// commandForm is CMD's and ENTRYPOINT's argument: a JSON array (exec
// form), else a shell command run by /bin/sh -c.
func commandForm(arg string) ([]string, error) {
	if strings.HasPrefix(arg, "[") {
		var argv []string
		if err := json.Unmarshal([]byte(arg), &argv); err != nil {
			return nil, fmt.Errorf("exec form: %w", err)
		}
		return argv, nil
	}
	return []string{"/bin/sh", "-c", arg}, nil
}

// listForm is VOLUME's argument: a JSON array or words.
func listForm(arg string) ([]string, error) {
	if strings.HasPrefix(arg, "[") {
		var list []string
		if err := json.Unmarshal([]byte(arg), &list); err != nil {
			return nil, err
		}
		return list, nil
	}
	return strings.Fields(arg), nil
}

// keyValues reads ENV's and LABEL's argument: "K=V K2=V2" (a value may be
// in double quotes, without spaces inside) or the legacy "K V W" (K is
// "V W").
func keyValues(arg string) ([]string, error) {
	first, rest, _ := strings.Cut(arg, " ")
	if !strings.Contains(first, "=") {
		return []string{first + "=" + strings.TrimSpace(rest)}, nil
	}
	var out []string
	for _, f := range strings.Fields(arg) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return out, fmt.Errorf("%q: want KEY=VALUE", f)
		}
		out = append(out, k+"="+strings.Trim(v, `"`))
	}
	return out, nil
}

// setEnv sets kv ("K=V") in env, replacing an earlier K.
func setEnv(env []string, kv string) []string {
	k, _, _ := strings.Cut(kv, "=")
	for i, e := range env {
		if strings.HasPrefix(e, k+"=") {
			env[i] = kv
			return env
		}
	}
	return append(env, kv)
}
