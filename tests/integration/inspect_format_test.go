package integration

// inspect -f: Go templates over inspect's JSON, for containers and images,
// with Docker's functions; a bad template is an error (exit 1).

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

func TestInspectFormat(t *testing.T) {
	root := t.TempDir()
	imageID := importBusybox(t, root, "test/fmt")
	detached(t, root, "--name", "fmt1", env.rootfs, "sleep", "1000")
	pid := inspectContainer(t, root, "fmt1").State.Pid

	r := mdi(t, root, "inspect", "-f", "{{.State.Status}} {{.State.Pid}} {{.Name}} {{.State.Running}}", "fmt1")
	r.wantExit(t, 0)
	if want := "running " + strconv.Itoa(pid) + " /fmt1 true\n"; r.stdout != want {
		t.Errorf("inspect -f: %q, want %q", r.stdout, want)
	}
	r = mdi(t, root, "container", "inspect", "--format", "{{json .Config}}", "fmt1")
	r.wantExit(t, 0)
	var cfg struct{ Cmd []string }
	if err := json.Unmarshal([]byte(r.stdout), &cfg); err != nil || strings.Join(cfg.Cmd, " ") != "1000" && strings.Join(cfg.Cmd, " ") != "sleep 1000" {
		t.Errorf("{{json .Config}}: %v\n%s", err, r)
	}
	r = mdi(t, root, "inspect", "-f", "{{.Id}} {{join .RepoTags \",\"}} {{upper .Os}}", "test/fmt")
	r.wantExit(t, 0)
	if want := imageID + " test/fmt:latest LINUX\n"; r.stdout != want {
		t.Errorf("inspect -f of an image: %q, want %q", r.stdout, want)
	}
	r = mdi(t, root, "image", "inspect", "-f", "{{.Id}}", "test/fmt")
	if r.code != 0 || r.stdout != imageID+"\n" {
		t.Errorf("image inspect -f: want %s\n%s", imageID, r)
	}
	// A line per object, in order.
	r = mdi(t, root, "inspect", "-f", "{{.Name}}", "fmt1", "fmt1")
	if r.code != 0 || r.stdout != "/fmt1\n/fmt1\n" {
		t.Errorf("inspect -f of two: want two lines\n%s", r)
	}
	for _, bad := range []string{"{{.State.Status", "{{.NoSuchField}}"} {
		r = mdi(t, root, "inspect", "-f", bad, "fmt1")
		r.wantExit(t, 1)
		r.wantStderr(t, "template parsing error")
	}
}
