package docker

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/store"
)

// psRecords are three containers as the store gives them, newest first:
// one running nginx (Docker's familiar row), one exited, one created.
func psRecords(now time.Time) []*store.Container {
	web := &store.Container{
		ID: "4c01db0b339c" + strings.Repeat("a", 52), Name: "/web", Created: now.Add(-5 * time.Minute),
		Path: "/docker-entrypoint.sh", Args: []string{"nginx", "-g", "daemon off;"},
		Config:     store.Config{Image: "nginx", Labels: map[string]string{"app": "web", "com.example.tier": "front"}},
		HostConfig: store.HostConfig{NetworkMode: "bridge"},
		Mounts:     []store.MountPoint{{Type: "volume", Name: "html-data-volume", Driver: "local"}},
	}
	web.State.SetRunning(store.Process{Pid: 42}, now.Add(-5*time.Minute))
	done := &store.Container{
		ID: "9f1e2d3c4b5a" + strings.Repeat("b", 52), Name: "/done", Created: now.Add(-10 * time.Minute),
		Path: "sh", Args: []string{"-c", "exit 3"}, Config: store.Config{Image: "busybox"},
	}
	done.State.SetRunning(store.Process{Pid: 43}, now.Add(-10*time.Minute))
	done.State.SetStopped(3, now.Add(-2*time.Second))
	fresh := &store.Container{
		ID: "0123456789ab" + strings.Repeat("c", 52), Name: "/fresh", Created: now.Add(-3 * time.Hour),
		Path: "sleep", Args: []string{"100"}, Config: store.Config{Image: "busybox"},
	}
	fresh.State.Status = store.Created
	return []*store.Container{web, done, fresh}
}

func psOutput(t *testing.T, recs []*store.Container, f psFlags, now time.Time) string {
	t.Helper()
	filter, err := parsePsFilters(f.filters)
	if err != nil {
		t.Fatal(err)
	}
	var rows []psRow
	for _, c := range selectContainers(recs, f, filter) {
		rows = append(rows, newPsRow(c, !f.noTrunc, now))
	}
	var b bytes.Buffer
	if err := writePs(&b, rows, f); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestPsFormats: ps prints Docker's exact strings.
func TestPsFormats(t *testing.T) {
	now := time.Now()
	recs := psRecords(now)
	for _, tc := range []struct {
		name string
		f    psFlags
		want string
	}{
		{"default: running only", psFlags{},
			"CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS         PORTS     NAMES\n" +
				"4c01db0b339c   nginx     \"/docker-entrypoint.…\"   5 minutes ago   Up 5 minutes             web\n"},
		{"-a", psFlags{all: true},
			"CONTAINER ID   IMAGE     COMMAND                  CREATED          STATUS                     PORTS     NAMES\n" +
				"4c01db0b339c   nginx     \"/docker-entrypoint.…\"   5 minutes ago    Up 5 minutes                         web\n" +
				"9f1e2d3c4b5a   busybox   \"sh -c 'exit 3'\"         10 minutes ago   Exited (3) 2 seconds ago             done\n" +
				"0123456789ab   busybox   \"sleep 100\"              3 hours ago      Created                              fresh\n"},
		{"-q", psFlags{quiet: true, all: true},
			"4c01db0b339c\n9f1e2d3c4b5a\n0123456789ab\n"},
		{"-q --no-trunc wins over --format", psFlags{quiet: true, noTrunc: true, format: "{{.Names}}"},
			recs[0].ID + "\n"},
		{"pasted template", psFlags{all: true, format: `{{.ID}}\t{{.Names}}`},
			"4c01db0b339c\tweb\n9f1e2d3c4b5a\tdone\n0123456789ab\tfresh\n"},
		{"table template with a label", psFlags{format: `table {{.Names}}\t{{.Label "com.example.tier"}}\t{{.State}}`},
			"NAMES     tier      STATE\nweb       front     running\n"},
		{"--no-trunc", psFlags{noTrunc: true, format: "{{.ID}} {{.Command}} {{.Mounts}}"},
			recs[0].ID + ` "/docker-entrypoint.sh nginx -g 'daemon off;'" html-data-volume` + "\n"},
		{"labels, mounts cut", psFlags{format: "{{.Labels}} {{.Mounts}} {{.LocalVolumes}} {{.Networks}}"},
			"app=web,com.example.tier=front html-data-volu… 1 bridge\n"},
		{"-n 2", psFlags{last: 2, format: "{{.Names}}"}, "web\ndone\n"},
		{"-l", psFlags{latest: true, format: "{{.Names}}"}, "web\n"},
		{"status filter implies -a", psFlags{filters: []string{"status=exited"}, format: "{{.Names}}"}, "done\n"},
		{"same key ORs", psFlags{filters: []string{"status=exited", "status=created"}, format: "{{.Names}}"}, "done\nfresh\n"},
		{"keys AND", psFlags{all: true, filters: []string{"status=exited", "name=fresh"}, format: "{{.Names}}"}, ""},
		{"name is a regexp", psFlags{all: true, filters: []string{"name=^/?f"}, format: "{{.Names}}"}, "fresh\n"},
		{"label key", psFlags{all: true, filters: []string{"label=app"}, format: "{{.Names}}"}, "web\n"},
		{"label key=value", psFlags{all: true, filters: []string{"label=app=db"}, format: "{{.Names}}"}, ""},
		{"id prefix", psFlags{all: true, filters: []string{"id=9f1e"}, format: "{{.Names}}"}, "done\n"},
		{"empty table", psFlags{filters: []string{"name=nothing"}},
			"CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := psOutput(t, recs, tc.f, now); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestPsJSON: "json" prints an object per line with Docker's fields, in
// Docker's order.
func TestPsJSON(t *testing.T) {
	now := time.Now()
	got := psOutput(t, psRecords(now)[:1], psFlags{format: "json"}, now)
	created := time.Unix(now.Add(-5*time.Minute).Unix(), 0).String()
	want := `{"Command":"\"/docker-entrypoint.…\"","CreatedAt":"` + created + `","ID":"4c01db0b339c","Image":"nginx",` +
		`"Labels":"app=web,com.example.tier=front","LocalVolumes":"1","Mounts":"html-data-volu…","Names":"web",` +
		`"Networks":"bridge","Ports":"","RunningFor":"5 minutes ago","Size":"N/A","State":"running","Status":"Up 5 minutes"}` + "\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// The template users paste gives the same line.
	if got := psOutput(t, psRecords(now)[:1], psFlags{format: "{{json .}}"}, now); got != want {
		t.Errorf("{{json .}}: got\n%s\nwant\n%s", got, want)
	}
}

func TestPsStatus(t *testing.T) {
	now := time.Now()
	var st store.State
	st.Status = store.Created
	check := func(want string) {
		t.Helper()
		if got := psStatus(&st, now); got != want {
			t.Errorf("status %q: got %q, want %q", st.Status, got, want)
		}
	}
	check("Created")
	st.SetRunning(store.Process{Pid: 1}, now.Add(-500*time.Millisecond))
	check("Up Less than a second")
	st.SetPaused(true)
	check("Up Less than a second (Paused)")
	st.SetRestarting(1, now.Add(-3*time.Second))
	check("Restarting (1) 3 seconds ago")
	st.SetStopped(137, now.Add(-90*time.Second))
	check("Exited (137) About a minute ago")
	st.SetDead()
	check("Dead")
}

func TestPsBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ps", "--filter", "status"}, "bad format of filter (expected name=value)"},
		{[]string{"ps", "--filter", "status=sleeping"}, "invalid filter 'status=sleeping'"},
		{[]string{"ps", "--filter", "health=healthy"}, "invalid filter 'health'"},
		{[]string{"ps", "--filter", "exited=x"}, "invalid filter 'exited=x'"},
		{[]string{"ps", "--filter", "before=nosuch"}, "No such container: nosuch"},
		{[]string{"ps", "--format", "{{.Nope"}, `invalid --format "{{.Nope"`},
		{[]string{"ps", "-a", "--format", "table {{.Nope}}"}, `--format "table {{.Nope}}"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			root := t.TempDir()
			code, out := execute(t, root, "", append([]string{"--root", root}, tc.args...)...)
			if code != 1 || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, output %q; want 1 and %q", code, out, tc.want)
			}
		})
	}
}

// TestPsCommand: `ps` lists the store under --root, newest first; a
// record whose process is gone shows as Exited (255).
func TestPsCommand(t *testing.T) {
	root := t.TempDir()
	s, err := store.Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"first", "second"} {
		if err := s.Create(&store.Container{Name: name, Path: "sleep", Args: []string{"1"}, Config: store.Config{Image: "busybox"}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // distinct creation times
	}
	// "second" recorded running as a process that has exited.
	gone, err := os.FindProcess(exitedPid(t))
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Lookup("second")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(id, func(c *store.Container) error {
		c.State.SetRunning(store.Process{Pid: gone.Pid, StartTime: 1}, time.Now())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	code, out := execute(t, root, "", "--root", root, "ps", "-a", "--format", "{{.Names}} {{.State}} {{.Status}}")
	want := "second exited Exited (255) Less than a second ago\nfirst created Created\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d, output\n%s\nwant\n%s", code, out, want)
	}
	code, out = execute(t, root, "", "--root", root, "ps", "-q")
	if code != 0 || out != "" {
		t.Fatalf("ps -q: exit %d, %q; want nothing running", code, out)
	}
}

// exitedPid returns the pid of a process that was started and reaped.
func exitedPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	return cmd.Process.Pid
}

// TestPsFilterExtras: exited=, before=, since=, ancestor= (given
// resolved: full ids), network= (given resolved: names), publish=,
// expose= and volume= pick Docker's containers.
func TestPsFilterExtras(t *testing.T) {
	now := time.Now()
	recs := psRecords(now) // web (running), done (exited 3), fresh (created)
	recs[0].Image, recs[1].Image = "sha256:nginx", "sha256:busybox"
	recs[0].HostConfig.PortBindings = map[string][]store.PortBinding{"80/tcp": {{HostPort: "8080"}}}
	recs[0].Config.ExposedPorts = map[string]struct{}{"80/tcp": {}, "443/tcp": {}}
	recs[1].Config.ExposedPorts = map[string]struct{}{"53/udp": {}}
	recs[0].Mounts[0].Destination = "/usr/share/nginx/html"
	recs[1].Mounts = []store.MountPoint{{Type: "bind", Source: "/srv/data", Destination: "/data"}}
	recs[1].HostConfig.NetworkMode = "front"
	recs[1].Endpoints = []store.Endpoint{{Network: "front"}, {Network: "back"}}
	recs[2].HostConfig.NetworkMode = "host"
	names := func(filters []string, all bool) string {
		filter, err := parsePsFilters(filters)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range selectContainers(recs, psFlags{all: all, last: -1}, filter) {
			out = append(out, c.Name)
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		filters []string
		all     bool
		want    string
	}{
		{[]string{"exited=3"}, true, "/done"},
		{[]string{"exited=0"}, true, ""}, // created and running ones have no exit
		{[]string{"exited=3"}, false, ""},
		{[]string{"before=" + recs[0].ID}, true, "/done /fresh"},
		{[]string{"since=" + recs[2].ID}, true, "/web /done"},
		{[]string{"since=" + recs[2].ID, "before=" + recs[0].ID}, true, "/done"},
		{[]string{"before=" + recs[0].ID}, false, ""},
		{[]string{"ancestor=sha256:busybox"}, true, "/done"},
		{[]string{"ancestor=sha256:busybox", "ancestor=sha256:nginx"}, true, "/web /done"},
		{[]string{"network=back"}, true, "/done"},
		{[]string{"network=bridge", "network=host"}, true, "/web /fresh"},
		{[]string{"network=bac"}, true, ""}, // a name matches whole
		{[]string{"publish=80"}, true, "/web"},
		{[]string{"publish=443"}, true, ""}, // exposed, not published
		{[]string{"publish=80/udp"}, true, ""},
		{[]string{"expose=443"}, true, "/web"},
		{[]string{"expose=50-60/udp"}, true, "/done"},
		{[]string{"expose=1-1000", "network=front"}, true, ""}, // tcp
		{[]string{"volume=html-data-volume"}, true, "/web"},
		{[]string{"volume=/data"}, true, "/done"},
		{[]string{"volume=/srv/data"}, true, "/done"},
		{[]string{"volume=/srv"}, true, ""},
	} {
		if got := names(tc.filters, tc.all); got != tc.want {
			t.Errorf("ps (-a %v) %v: %q, want %q", tc.all, tc.filters, got, tc.want)
		}
	}
}

// TestPsNetworksAndBadPortFilters: ps's NETWORKS column is the networks a
// container is on, sorted, joined by commas (Docker's); a publish= or
// expose= that is no port or range is refused, naming it.
func TestPsNetworksAndBadPortFilters(t *testing.T) {
	for _, tc := range []struct {
		c    store.Container
		want string
	}{
		{store.Container{HostConfig: store.HostConfig{NetworkMode: "web"}, Endpoints: []store.Endpoint{{Network: "web"}, {Network: "db"}}}, "db,web"},
		{store.Container{HostConfig: store.HostConfig{NetworkMode: "web"}, Endpoints: []store.Endpoint{}}, ""},
		{store.Container{HostConfig: store.HostConfig{NetworkMode: "bridge"}}, "bridge"},
		{store.Container{HostConfig: store.HostConfig{NetworkMode: "host"}}, "host"},
		{store.Container{HostConfig: store.HostConfig{NetworkMode: "container:web"}}, ""},
	} {
		if got := newPsRow(&tc.c, true, time.Now()).Networks; got != tc.want {
			t.Errorf("NETWORKS of %+v: %q, want %q", tc.c.HostConfig, got, tc.want)
		}
	}
	for _, v := range []string{"publish=http", "publish=0", "expose=80/icmp", "expose=90-80", "publish=1-70000"} {
		if _, err := parsePsFilters([]string{v}); err == nil || !strings.Contains(err.Error(), "invalid filter '"+v+"'") {
			t.Errorf("--filter %s: %v, want it refused naming it", v, err)
		}
	}
}
