package docker

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/spec"
	"github.com/minimal-docker/minimal-docker/internal/store"
	"github.com/minimal-docker/minimal-docker/internal/volume"
)

// run's -v and --mount, parsed with Docker's syntax before anything is
// made. A volume is a spec mount like any other: its target is resolved
// inside the container's root by the init (the plan's mount op), so a symlink in
// the root cannot send it to the host.

// Kinds of mount -v and --mount make.
const (
	kindBind   = "bind"
	kindVolume = "volume"
	kindTmpfs  = "tmpfs"
)

// volumeMount is one -v or --mount, parsed.
type volumeMount struct {
	kind     string // kindBind, kindVolume or kindTmpfs
	source   string // bind: the host path; volume: the name ("" anonymous)
	target   string // absolute path in the container
	readonly bool
	tmpfs    []string // tmpfs options (size=, mode=)
	// createSource: a missing bind source is created (-v), not refused
	// (--mount), as Docker's.
	createSource bool
	// copyUp: the image's VOLUME, whose new volume gets what the image
	// has there (copyUp).
	copyUp bool
}

// checkVolumeName refuses a name Docker's local driver refuses.
func checkVolumeName(name string) error {
	if !store.ValidName(name) {
		return fmt.Errorf("%q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path", name)
	}
	return nil
}

// checkTarget refuses a container path that is not absolute, or is /.
func checkTarget(target string) error {
	switch {
	case target == "":
		return fmt.Errorf("the container path is empty")
	case !strings.HasPrefix(target, "/"):
		return fmt.Errorf("invalid mount path: %q mount path must be absolute", target)
	case filepath.Clean(target) == "/":
		return fmt.Errorf("destination can't be '/'")
	}
	return nil
}

// parseVolumeFlag parses -v [SOURCE:]TARGET[:MODE]: SOURCE an absolute host
// path (a bind mount, the directory made when missing) or a volume name;
// no SOURCE is an anonymous volume; MODE ro or rw.
func parseVolumeFlag(arg string) (volumeMount, error) {
	bad := func(err error) (volumeMount, error) {
		return volumeMount{}, fmt.Errorf("invalid -v %q: %w", arg, err)
	}
	parts := strings.Split(arg, ":")
	var m volumeMount
	mode := ""
	switch len(parts) {
	case 1:
		m.target = parts[0]
	case 2:
		if validMode(parts[1]) && !strings.HasPrefix(parts[1], "/") {
			m.target, mode = parts[0], parts[1]
		} else {
			m.source, m.target = parts[0], parts[1]
		}
	case 3:
		m.source, m.target, mode = parts[0], parts[1], parts[2]
	default:
		return bad(fmt.Errorf("too many colons (want [SOURCE:]TARGET[:ro|rw])"))
	}
	if err := checkTarget(m.target); err != nil {
		return bad(err)
	}
	switch mode {
	case "", "rw":
	case "ro":
		m.readonly = true
	default:
		return bad(fmt.Errorf("invalid mode %q (want ro or rw)", mode))
	}
	switch {
	case m.source == "" && len(parts) == 3:
		return bad(fmt.Errorf("the source is empty"))
	case m.source == "":
		m.kind = kindVolume
	case strings.HasPrefix(m.source, "/"):
		m.kind, m.source, m.createSource = kindBind, filepath.Clean(m.source), true
	default:
		if err := checkVolumeName(m.source); err != nil {
			return bad(err)
		}
		m.kind = kindVolume
	}
	return m, nil
}

func validMode(s string) bool { return s == "ro" || s == "rw" }

// parseMountFlag parses --mount KEY=VALUE,... with Docker's keys: type
// (bind, volume (the default), tmpfs), source|src, target|destination|dst,
// readonly|ro[=true|false], tmpfs-size, tmpfs-mode.
func parseMountFlag(arg string) (volumeMount, error) {
	bad := func(err error) (volumeMount, error) {
		return volumeMount{}, fmt.Errorf("invalid --mount %q: %w", arg, err)
	}
	fields, err := csv.NewReader(strings.NewReader(arg)).Read()
	if err != nil {
		return bad(err)
	}
	m := volumeMount{kind: kindVolume}
	for _, field := range fields {
		key, val, hasVal := strings.Cut(field, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		switch key {
		case "readonly", "ro":
			m.readonly = true
			if hasVal {
				b, err := strconv.ParseBool(val)
				if err != nil {
					return bad(fmt.Errorf("invalid value for %s: %q (want true or false)", key, val))
				}
				m.readonly = b
			}
			continue
		}
		if !hasVal {
			return bad(fmt.Errorf("invalid field %q: must be a key=value pair", field))
		}
		switch key {
		case "type":
			switch val {
			case kindBind, kindVolume, kindTmpfs:
				m.kind = val
			default:
				return bad(fmt.Errorf("invalid type %q (want bind, volume or tmpfs)", val))
			}
		case "source", "src":
			m.source = val
		case "target", "destination", "dst":
			m.target = val
		case "tmpfs-size":
			if err := spec.CheckTmpfsFlag("/:size=" + val); err != nil {
				return bad(fmt.Errorf("invalid tmpfs-size %q", val))
			}
			m.tmpfs = append(m.tmpfs, "size="+val)
		case "tmpfs-mode":
			n, err := strconv.ParseUint(val, 8, 32)
			if err != nil || n > 0o7777 {
				return bad(fmt.Errorf("invalid tmpfs-mode %q (want an octal mode)", val))
			}
			m.tmpfs = append(m.tmpfs, fmt.Sprintf("mode=%o", n))
		default:
			return bad(fmt.Errorf("unexpected key %q in %q", key, field))
		}
	}
	if m.target == "" {
		return bad(fmt.Errorf("target is required"))
	}
	if err := checkTarget(m.target); err != nil {
		return bad(err)
	}
	if len(m.tmpfs) > 0 && m.kind != kindTmpfs {
		return bad(fmt.Errorf("tmpfs options are only for type=tmpfs"))
	}
	switch m.kind {
	case kindBind:
		if m.source == "" {
			return bad(fmt.Errorf("source is required when type is bind"))
		}
		if !strings.HasPrefix(m.source, "/") {
			return bad(fmt.Errorf("invalid source %q: a bind source must be an absolute path", m.source))
		}
		m.source = filepath.Clean(m.source)
	case kindVolume:
		if m.source != "" {
			if err := checkVolumeName(m.source); err != nil {
				return bad(err)
			}
		}
	case kindTmpfs:
		if m.source != "" {
			return bad(fmt.Errorf("source is not allowed for type=tmpfs"))
		}
	}
	return m, nil
}

// parseMounts parses every -v and --mount, and refuses two mounts on one
// target (Docker's "Duplicate mount point").
func parseMounts(volumes, mounts []string) ([]volumeMount, error) {
	var out []volumeMount
	seen := map[string]string{}
	add := func(m volumeMount, flag, arg string) error {
		t := filepath.Clean(m.target)
		if prev, ok := seen[t]; ok {
			return fmt.Errorf("invalid %s %q: duplicate mount point %s (also %s)", flag, arg, t, prev)
		}
		seen[t] = flag + " " + arg
		out = append(out, m)
		return nil
	}
	for _, v := range volumes {
		m, err := parseVolumeFlag(v)
		if err != nil {
			return nil, err
		}
		if err := add(m, "-v", v); err != nil {
			return nil, err
		}
	}
	for _, v := range mounts {
		m, err := parseMountFlag(v)
		if err != nil {
			return nil, err
		}
		if err := add(m, "--mount", v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// withImageVolumes adds an anonymous volume for each of the image's
// VOLUME paths that no -v, --mount or --tmpfs mounts already (Docker's
// rule: the user's mount wins), in path order.
func withImageVolumes(mounts []volumeMount, volumes map[string]struct{}, tmpfs []string) []volumeMount {
	taken := map[string]bool{}
	for _, m := range mounts {
		taken[filepath.Clean(m.target)] = true
	}
	for _, t := range tmpfs {
		dst, _, _ := strings.Cut(t, ":")
		taken[filepath.Clean(dst)] = true
	}
	var targets []string
	for v := range volumes {
		if checkTarget(v) == nil && !taken[filepath.Clean(v)] {
			targets = append(targets, filepath.Clean(v))
			taken[filepath.Clean(v)] = true
		}
	}
	slices.Sort(targets)
	for _, t := range targets {
		mounts = append(mounts, volumeMount{kind: kindVolume, target: t, copyUp: true})
	}
	return mounts
}

// volumeLeases are the volumes a run holds in use. A foreground run's
// release lets them go and removes the anonymous ones (its container is
// removed when it ends, as Docker's with --rm, which removes its anonymous
// volumes). A detached container's volumes are attached to it (owner, its
// ID) for as long as it has a record: keep drops the locks once the record
// is written; release, on a failed create, detaches them and removes the
// anonymous ones.
type volumeLeases struct {
	store  *volume.Store
	owner  string // the detached container's ID; "" for a foreground run
	leases []*volume.Lease
}

func (l *volumeLeases) release() {
	for _, lease := range l.leases {
		lease.Release()
		switch {
		case l.owner != "":
			_ = l.store.Detach(lease.Volume.Name, l.owner, true)
		case lease.Volume.Anonymous:
			l.store.Remove(lease.Volume.Name)
		}
	}
	l.leases = nil
}

// keep lets the container's record keep its volumes (detached).
func (l *volumeLeases) keep() {
	for _, lease := range l.leases {
		lease.Release()
	}
	l.leases = nil
}

// volumeOf returns the volume mounted from source, nil when none (a bind
// mount, a tmpfs).
func (l *volumeLeases) volumeOf(source string) *volume.Volume {
	for _, lease := range l.leases {
		if lease.Volume.Mountpoint == source {
			return lease.Volume
		}
	}
	return nil
}

// detachVolumes ends container c's use of its volumes once its record is
// gone (rm, prune, a failed run -d); with removeAnonymous the ones made
// for it go too, unless another container uses them (rm -v, run --rm).
func detachVolumes(g *globals, c *store.Container, removeAnonymous bool) error {
	vols := g.volumes()
	var errs []error
	for _, m := range c.Mounts {
		if m.Type == kindVolume {
			errs = append(errs, vols.Detach(m.Name, c.ID, removeAnonymous))
		}
	}
	return errors.Join(errs...)
}

// specMounts makes what the mounts need (a missing -v bind source, a named
// volume on first use, an anonymous volume) and returns them as spec
// mounts, with the volumes held in use until release (owner: the
// detached container they are attached to, "" for a foreground run). On
// error nothing made for a run is left held.
func specMounts(store *volume.Store, mounts []volumeMount, owner string) ([]specs.Mount, *volumeLeases, error) {
	held := &volumeLeases{store: store, owner: owner}
	var out []specs.Mount
	for _, m := range mounts {
		sm := specs.Mount{Destination: m.target}
		switch m.kind {
		case kindTmpfs:
			sm.Type, sm.Source = "tmpfs", "tmpfs"
			sm.Options = append([]string{"nosuid", "nodev", "noexec"}, m.tmpfs...)
		case kindBind:
			if err := bindSource(m); err != nil {
				held.release()
				return nil, nil, err
			}
			sm.Type, sm.Source, sm.Options = "bind", m.source, []string{"rbind", "rprivate"}
		case kindVolume:
			name, anonymous := m.source, m.source == ""
			if anonymous {
				var err error
				if name, err = randomVolumeName(); err != nil {
					held.release()
					return nil, nil, err
				}
			}
			var lease *volume.Lease
			var err error
			if owner != "" {
				lease, err = store.Attach(name, owner, anonymous)
			} else {
				lease, err = store.Use(name, anonymous)
			}
			if err != nil {
				held.release()
				return nil, nil, err
			}
			held.leases = append(held.leases, lease)
			sm.Type, sm.Source, sm.Options = "bind", lease.Volume.Mountpoint, []string{"rbind", "rprivate"}
		}
		if m.readonly {
			sm.Options = append(sm.Options, "ro")
		}
		out = append(out, sm)
	}
	return out, held, nil
}

// bindSource checks a bind mount's host path: -v makes a missing one a
// directory (Docker's behaviour), --mount refuses it.
func bindSource(m volumeMount) error {
	_, err := os.Stat(m.source)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("bind source %s: %w", m.source, err)
	case !m.createSource:
		return fmt.Errorf("invalid --mount: bind source path does not exist: %s", m.source)
	}
	if err := os.MkdirAll(m.source, 0o755); err != nil {
		return fmt.Errorf("-v: create the bind source: %w", err)
	}
	return nil
}
