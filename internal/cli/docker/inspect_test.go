package docker

import (
	"bytes"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/store"
)

func TestPrintTemplate(t *testing.T) {
	c := &store.Container{ID: "abc", Name: "/web", Config: store.Config{Cmd: []string{"sleep", "1000"}}}
	c.State.SetRunning(store.Process{Pid: 12345678}, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	for format, want := range map[string]string{
		"{{.State.Pid}} {{.Name}}":                "12345678 /web",
		"{{.State.StartedAt}}":                    "2026-01-02T03:04:05Z",
		`{{join .Config.Cmd "+"}}`:                "sleep+1000",
		"{{json .Config.Cmd}}":                    `["sleep","1000"]`,
		`{{upper .State.Status}} {{title "a b"}}`: "RUNNING A B",
		`{{truncate .Id 2}}|{{pad "x" 1 2}}|`:     "ab| x  |",
	} {
		var b bytes.Buffer
		tmpl := template.Must(template.New("").Funcs(templateFuncs()).Parse(format))
		if err := printTemplate(&b, tmpl, c); err != nil || b.String() != want+"\n" {
			t.Errorf("%s: %q %v, want %q", format, b.String(), err, want)
		}
	}
	tmpl := template.Must(template.New("").Funcs(templateFuncs()).Parse("{{.Nope}}"))
	if err := printTemplate(&bytes.Buffer{}, tmpl, c); err == nil || !strings.Contains(err.Error(), "template parsing error") {
		t.Errorf("a missing field: %v, want a template error", err)
	}
}
