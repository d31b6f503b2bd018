package docker

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/network"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

// psFlags are `ps`'s flags (Docker's).
type psFlags struct {
	all, quiet, latest, noTrunc, size bool
	last                              int
	filters                           []string
	format                            string
}

func newPsCmd(g *globals, st Streams) *cobra.Command {
	var f psFlags
	c := &cobra.Command{
		Use:   "ps [OPTIONS]",
		Short: "List containers",
		Long: "List the containers recorded in the store (--root/containers): the running\n" +
			"ones, or all with -a, newest first, with Docker's columns. Each record is\n" +
			"checked against the kernel: a container whose process is gone shows as\n" +
			"Exited. Filters: status=, name= (a regular expression), label=KEY[=VALUE],\n" +
			"id= (a regular expression), exited=CODE, ancestor=IMAGE (its containers),\n" +
			"before=CONTAINER and since=CONTAINER (created before or after it); the\n" +
			"same key twice is either, two keys both.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return dockerError(ps(g, st, f))
		},
	}
	c.Flags().BoolVarP(&f.all, "all", "a", false, "show all containers (default shows just running)")
	c.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "only display container IDs")
	c.Flags().IntVarP(&f.last, "last", "n", -1, "show n last created containers (includes all states)")
	c.Flags().BoolVarP(&f.latest, "latest", "l", false, "show the latest created container (includes all states)")
	c.Flags().BoolVar(&f.noTrunc, "no-trunc", false, "don't truncate output")
	c.Flags().BoolVarP(&f.size, "size", "s", false, "display total file sizes (an image container's writable layer, and with its image as virtual)")
	c.Flags().StringArrayVarP(&f.filters, "filter", "f", nil, "filter output based on conditions provided (status=, name=, label=, id=, exited=, ancestor=, before=, since=)")
	c.Flags().StringVar(&f.format, "format", "", "format output using a Go template ({{.ID}}, {{.Image}}, {{.Command}}, {{.CreatedAt}}, {{.RunningFor}}, {{.Ports}}, {{.Status}}, {{.State}}, {{.Names}}, {{.Labels}}, {{.Label \"KEY\"}}, {{.Mounts}}, {{.Networks}}, {{.Size}}), \"table TEMPLATE\" for a table with headers, or \"json\"")
	return c
}

// dockerError gives a verb's failures the Docker CLI's exit status, 1
// (ps, logs, exec, the verbs of detached containers).
func dockerError(err error) error {
	if err == nil || errors.As(err, new(*cli.Status)) {
		return err
	}
	return &cli.Status{Code: 1, Err: err}
}

func ps(g *globals, st Streams, f psFlags) error {
	filter, err := parsePsFilters(f.filters)
	if err != nil {
		return err
	}
	s, err := g.containers()
	if err != nil {
		return err
	}
	if err := filter.resolve(g, s); err != nil {
		return err
	}
	recs, err := s.List()
	if err != nil {
		return err
	}
	now := time.Now()
	var rows []psRow
	sizes := f.size || strings.Contains(f.format, ".Size")
	for _, c := range selectContainers(recs, f, filter) {
		if psNeedsSettings(c) {
			c.NetworkSettings = networkSettings(g, c)
		}
		r := newPsRow(c, !f.noTrunc, now)
		if sizes && !f.quiet {
			r.Size = containerSize(g, c)
		}
		rows = append(rows, r)
	}
	return writePs(st.Out, rows, f)
}

// containerSize is ps -s's SIZE of an image's container, as Docker's:
// the size of its writable layer (the files and links it wrote, each
// hard link once) and, as "virtual", that and its image's. A container
// on a rootfs directory writes into the directory itself: N/A.
func containerSize(g *globals, c *store.Container) string {
	if c.Driver != "overlay" {
		return "N/A"
	}
	rw, err := treeSize(filepath.Join(g.imageRoot, runDirs, c.ID, "upper"))
	if err != nil {
		return "N/A"
	}
	virtual := rw
	if imgs, err := g.images(); err == nil {
		if img, err := imgs.Lookup(c.Image); err == nil {
			virtual += img.Size()
		}
	}
	return humanSize(rw) + " (virtual " + humanSize(virtual) + ")"
}

// treeSize adds up the sizes of what is under dir but directories (each
// inode once).
func treeSize(dir string) (int64, error) {
	var total int64
	seen := map[uint64]bool{}
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
		}
		total += fi.Size()
		return nil
	})
	return total, err
}

// selectContainers picks the records ps shows, as Docker does: the
// running ones, or all with -a, -n, -l or a status filter; those the
// filters keep; the -n (or -l: 1) newest of them. recs are newest first.
func selectContainers(recs []*store.Container, f psFlags, filter psFilter) []*store.Container {
	limit := f.last
	if f.latest {
		limit = 1
	}
	all := f.all || limit > 0 || len(filter["status"]) > 0
	before, since := filter.last("before"), filter.last("since")
	var out []*store.Container
	for _, c := range recs {
		if before != "" { // the newer ones, and before itself, are left out
			if c.ID == before {
				before = ""
			}
			continue
		}
		if c.ID == since { // it and the older ones are left out
			break
		}
		if limit > 0 && len(out) == limit {
			break
		}
		if (all || c.State.Running) && filter.keeps(c) {
			out = append(out, c)
		}
	}
	return out
}

// psFilter is ps's --filter values by key.
type psFilter = filters

// parsePsFilters parses ps's --filter KEY=VALUE flags.
func parsePsFilters(flags []string) (psFilter, error) {
	return parseFilters(flags, func(key, value string) error {
		switch key {
		case "status":
			if !slices.Contains(store.Statuses, store.Status(value)) {
				return fmt.Errorf("invalid filter 'status=%s'", value)
			}
		case "exited":
			if _, err := strconv.Atoi(value); err != nil {
				return fmt.Errorf("invalid filter 'exited=%s': want an exit code", value)
			}
		case "publish", "expose":
			if _, err := parsePortFilter(value); err != nil {
				return fmt.Errorf("invalid filter '%s=%s': %w", key, value, err)
			}
		case "name", "id", "label", "ancestor", "before", "since", "network", "volume":
		default:
			return fmt.Errorf("invalid filter '%s' (minimal-docker's ps filters on %s)", key, strings.Join(psFilterKeys, ", "))
		}
		return nil
	})
}

// psFilterKeys are the filters ps knows (Docker's names).
var psFilterKeys = []string{"status", "name", "label", "id", "exited", "ancestor", "before", "since", "network", "publish", "expose", "volume"}

// portFilter is a publish= or expose= filter's ports: FIRST to LAST of
// protocol proto.
type portFilter struct {
	first, last int
	proto       string
}

// parsePortFilter reads PORT[/PROTO] or FIRST-LAST[/PROTO] (tcp by
// default), Docker's.
func parsePortFilter(v string) (portFilter, error) {
	ports, proto, ok := strings.Cut(v, "/")
	if !ok {
		proto = "tcp"
	}
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return portFilter{}, fmt.Errorf("unknown protocol %q: want tcp, udp or sctp", proto)
	}
	a, b, isRange := strings.Cut(ports, "-")
	first, err1 := strconv.Atoi(a)
	last, err2 := first, error(nil)
	if isRange {
		last, err2 = strconv.Atoi(b)
	}
	if err1 != nil || err2 != nil || first < 1 || last > 65535 || first > last {
		return portFilter{}, fmt.Errorf("want PORT[/PROTO] or FIRST-LAST[/PROTO], ports 1 to 65535")
	}
	return portFilter{first, last, proto}, nil
}

// matchesPorts reports whether one of ports' keys ("80/tcp") is in the
// filter's value v.
func matchesPorts[V any](v string, ports map[string]V) bool {
	f, err := parsePortFilter(v)
	if err != nil {
		return false
	}
	for key := range ports {
		num, proto, _ := strings.Cut(key, "/")
		if n, err := strconv.Atoi(num); err == nil && n >= f.first && n <= f.last && proto == f.proto {
			return true
		}
	}
	return false
}

// psNetworks are the networks container c is on, sorted, as ps's
// NETWORKS column and its network= filter see them (Docker's
// NetworkSettings.Networks): host or none for those modes, the networks
// it joins on a bridge (none once all are disconnected), none for
// container:NAME (it has another's).
func psNetworks(c *store.Container) []string {
	switch m := c.HostConfig.NetworkMode; {
	case m == "host", m == "none", userMode(m):
		return []string{m}
	}
	var names []string
	for _, e := range endpointsOf(c) {
		names = append(names, e.Network)
	}
	slices.Sort(names)
	return names
}

// resolve turns the references of the filters into ids, as Docker does:
// before= and since= name a container (the last one given counts; an
// unknown one is an error), ancestor= an image (one that is not there
// matches nothing).
func (filter psFilter) resolve(g *globals, s *store.Store) error {
	for _, key := range []string{"before", "since"} {
		if ref := filter.last(key); ref != "" {
			id, err := s.Lookup(ref)
			if err != nil {
				return err
			}
			filter[key] = []string{id}
		}
	}
	if err := filter.resolveNetworks(g); err != nil {
		return err
	}
	refs, ok := filter["ancestor"]
	if !ok {
		return nil
	}
	imgs, err := g.images()
	if err != nil {
		return err
	}
	ids := []string{}
	for _, ref := range refs {
		if img, err := imgs.Lookup(ref); err == nil {
			ids = append(ids, img.ID.String())
		}
	}
	filter["ancestor"] = ids
	return nil
}

// resolveNetworks turns network= values into the names of the
// networks they name, Docker's way: a network's name, or the start of
// its ID (one that names none matches nothing).
func (filter psFilter) resolveNetworks(g *globals) error {
	values, ok := filter["network"]
	if !ok {
		return nil
	}
	nets, err := g.networks().List()
	if err != nil {
		return err
	}
	ids := map[string]string{} // ID: name
	for _, n := range nets {
		ids[n.ID] = n.Name
	}
	for _, p := range network.Predefined {
		if p.Name != network.DefaultName {
			ids[network.PredefinedID(p.Name)] = p.Name
		}
	}
	names := []string{}
	for _, v := range values {
		for id, name := range ids {
			if name == v || v != "" && strings.HasPrefix(id, v) {
				names = append(names, name)
			}
		}
		if v == network.DefaultName { // before the default bridge is made
			names = append(names, v)
		}
	}
	filter["network"] = names
	return nil
}

// last is the last value given for key ("" for none).
func (filter psFilter) last(key string) string {
	if v := filter[key]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// keeps reports whether c passes the filter (filters.match).
func (filter psFilter) keeps(c *store.Container) bool {
	name := strings.TrimPrefix(c.Name, "/")
	match := map[string]func(string) bool{
		"status": func(v string) bool { return string(c.State.Status) == v },
		"name":   func(v string) bool { return matches(v, c.Name) || matches(v, name) },
		"id":     func(v string) bool { return matches(v, c.ID) },
		// An exit code: of a container that ran and ended.
		"exited": func(v string) bool {
			code, err := strconv.Atoi(v)
			return err == nil && !c.State.Running && !c.State.StartedAt.IsZero() && c.State.ExitCode == code
		},
		// An image id (resolve): the container's image.
		"ancestor": func(v string) bool { return c.Image == v },
		// Positional (selectContainers).
		"before": func(string) bool { return true },
		"since":  func(string) bool { return true },
		"label":  func(v string) bool { return labelMatches(c.Config.Labels, v) },
		// A network's name (resolveNetworks).
		"network": func(v string) bool { return slices.Contains(psNetworks(c), v) },
		// A container port -p publishes, or that the container exposes
		// (the image's, --expose's, -p's).
		"publish": func(v string) bool { return matchesPorts(v, c.HostConfig.PortBindings) },
		"expose":  func(v string) bool { return matchesPorts(v, c.Config.ExposedPorts) },
		// A mount's volume name (a bind's source) or its destination.
		"volume": func(v string) bool {
			return slices.ContainsFunc(c.Mounts, func(m store.MountPoint) bool {
				return m.Destination == v || m.Name == v || m.Name == "" && m.Source == v
			})
		},
	}
	return filter.match(match)
}

// filters are a list verb's --filter KEY=VALUE flags by key (ps,
// network ls).
type filters map[string][]string

// parseFilters parses --filter KEY=VALUE flags; check refuses a key or
// value the verb does not know (the key lowercased).
func parseFilters(flags []string, check func(key, value string) error) (filters, error) {
	f := filters{}
	for _, fl := range flags {
		key, value, ok := strings.Cut(fl, "=")
		if !ok {
			return nil, errors.New("bad format of filter (expected name=value)")
		}
		key = strings.ToLower(strings.TrimSpace(key))
		if err := check(key, value); err != nil {
			return nil, err
		}
		f[key] = append(f[key], value)
	}
	return f, nil
}

// match reports whether what the filters are applied to passes them,
// Docker's way: for each key, one of its values matches (match[key]);
// the same key ORs, different keys AND.
func (f filters) match(match map[string]func(string) bool) bool {
	for key, values := range f {
		if !slices.ContainsFunc(values, match[key]) {
			return false
		}
	}
	return true
}

// labelMatches is a label= filter's value v on labels: KEY (present)
// or KEY=VALUE.
func labelMatches(labels map[string]string, v string) bool {
	k, want, hasValue := strings.Cut(v, "=")
	got, ok := labels[k]
	return ok && (!hasValue || got == want)
}

// matches is Docker's match of a name or id filter: a regular expression
// found in s (a value that is not one matches nothing).
func matches(expr, s string) bool {
	re, err := regexp.Compile(expr)
	return err == nil && re.MatchString(s)
}

// psRow is one row of ps: the fields a --format template sees, by
// Docker's names. The fields are in alphabetical order so that "json"
// prints them in Docker's order.
type psRow struct {
	Command      string
	CreatedAt    string
	ID           string
	Image        string
	Labels       string
	LocalVolumes string
	Mounts       string
	Names        string
	Networks     string
	Ports        string
	RunningFor   string
	Size         string
	State        string
	Status       string

	labels map[string]string
}

// Label is {{.Label "KEY"}}: the value of one label.
func (r psRow) Label(key string) string { return r.labels[key] }

// listHeader is a list's (ps, network ls) header line's data: each
// field's header by its name.
type listHeader map[string]string

// Label is the header of a {{.Label "KEY"}} column: the key's last
// dot-separated part, '-' and '_' made spaces (Docker's).
func (listHeader) Label(key string) string {
	parts := strings.Split(key, ".")
	return strings.NewReplacer("-", " ", "_", " ").Replace(parts[len(parts)-1])
}

var psHeaders = listHeader{
	"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
	"RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS",
	"Names": "NAMES", "Labels": "LABELS", "Mounts": "MOUNTS", "LocalVolumes": "LOCAL VOLUMES",
	"Networks": "NETWORKS", "Size": "SIZE",
}

// newPsRow is c's row; trunc is Docker's default (no --no-trunc).
func newPsRow(c *store.Container, trunc bool, now time.Time) psRow {
	r := psRow{
		ID:         c.ID,
		Image:      psImage(c.Config.Image, trunc),
		Command:    strconv.Quote(psCommand(c, trunc)),
		CreatedAt:  time.Unix(c.Created.Unix(), 0).String(),
		RunningFor: humanDuration(now.Sub(c.Created)) + " ago",
		Status:     psStatus(&c.State, now),
		State:      string(c.State.Status),
		Names:      strings.TrimPrefix(c.Name, "/"),
		Networks:   strings.Join(psNetworks(c), ","),
		Ports:      psPorts(c),
		// Computed on demand (ps -s, or a --format with .Size:
		// containerSize), as Docker's: else said so rather than a
		// made-up 0B.
		Size:   "N/A",
		labels: c.Config.Labels,
	}
	if trunc {
		r.ID = shortID(c.ID)
	}
	var mounts []string
	r.Labels = labelList(c.Config.Labels)
	volumes := 0
	for _, m := range c.Mounts {
		name := m.Name
		if name == "" {
			name = m.Source
		}
		if trunc {
			name = ellipsis(name, 15)
		}
		mounts = append(mounts, name)
		if m.Driver == "local" {
			volumes++
		}
	}
	r.Mounts = strings.Join(mounts, ",")
	r.LocalVolumes = strconv.Itoa(volumes)
	return r
}

// psImage is the IMAGE column: the reference the user gave; an image id
// shortened to 12 digits, a digest left out (the tag kept), unless
// --no-trunc.
func psImage(ref string, trunc bool) string {
	if ref == "" {
		return "<no image>"
	}
	if !trunc {
		return ref
	}
	if hex, ok := strings.CutPrefix(ref, "sha256:"); ok {
		return shortID(hex)
	}
	if name, _, ok := strings.Cut(ref, "@"); ok {
		return name
	}
	return ref
}

// psCommand is the COMMAND column before quoting: the path and the
// arguments, those with a space in single quotes (Docker's), cut at 20
// characters with "…" unless --no-trunc.
func psCommand(c *store.Container, trunc bool) string {
	words := []string{c.Path}
	for _, a := range c.Args {
		if strings.Contains(a, " ") {
			a = "'" + a + "'"
		}
		words = append(words, a)
	}
	cmd := strings.Join(words, " ")
	if trunc {
		cmd = ellipsis(cmd, 20)
	}
	return cmd
}

// ellipsis cuts s to max characters, the last one "…" (Docker's, which
// also counts East Asian wide characters as two; here each counts one).
func ellipsis(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max-1]) + "…"
}

// psStatus is the STATUS column, Docker's words: "Up 5 minutes", "Up 5
// minutes (Paused)", "Restarting (1) 3 seconds ago", "Exited (0) 2 seconds
// ago", "Created", "Dead", "Removal In Progress".
func psStatus(st *store.State, now time.Time) string {
	switch st.Status {
	case store.Running:
		return "Up " + humanDuration(now.Sub(st.StartedAt))
	case store.Paused:
		return "Up " + humanDuration(now.Sub(st.StartedAt)) + " (Paused)"
	case store.Restarting:
		return fmt.Sprintf("Restarting (%d) %s ago", st.ExitCode, humanDuration(now.Sub(st.FinishedAt)))
	case store.Removing:
		return "Removal In Progress"
	case store.Dead:
		return "Dead"
	case store.Created:
		return "Created"
	}
	if st.FinishedAt.IsZero() {
		return ""
	}
	return fmt.Sprintf("Exited (%d) %s ago", st.ExitCode, humanDuration(now.Sub(st.FinishedAt)))
}

// writePs prints rows as f asks: Docker's table, IDs only (-q, which wins
// over --format, as Docker's), a template, "table TEMPLATE" or "json".
func writePs(w io.Writer, rows []psRow, f psFlags) error {
	format := f.format
	switch {
	case f.quiet:
		format = "{{.ID}}"
	case format == "" || format == "table":
		format = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
		if f.size {
			format += "\t{{.Size}}"
		}
	}
	return writeList(w, format, f.format, psHeaders, rows)
}
