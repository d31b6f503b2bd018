package integration

import (
	"bytes"
	_ "embed"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The runtime spec's own schema of the state JSON (copied unchanged from
// runtime-spec v1.3.0; embedded, so that the test binary carries it into
// the cgroup v2 guest).
var (
	//go:embed testdata/runtime-spec/state-schema.json
	stateSchema []byte
	//go:embed testdata/runtime-spec/defs.json
	defsSchema []byte
)

func compileStateSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	for name, data := range map[string][]byte{"state-schema.json": stateSchema, "defs.json": defsSchema} {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := c.AddResource("file:///schema/"+name, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("file:///schema/state-schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRuncStateSchema: `state` prints JSON that the spec's schema accepts,
// in every status the schema knows (created, running, stopped). (Paused
// is printed as runc prints it, "paused", which the schema's enum lacks.)
func TestRuncStateSchema(t *testing.T) {
	schema := compileStateSchema(t)
	b := newBundle(t, "sleep", "1000")
	b.edit(t, func(s *specs.Spec) { s.Annotations = map[string]string{"org.example.key": "value"} })
	id := uniqueName("schema")
	validate := func(want specs.ContainerState) {
		t.Helper()
		r := runc(t, b, "state", id)
		r.wantExit(t, 0)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(r.stdout)))
		if err != nil {
			t.Fatalf("state is not JSON: %v\n%s", err, r)
		}
		if err := schema.Validate(doc); err != nil {
			t.Errorf("state (%s) does not validate against the runtime spec's schema: %v\n%s", want, err, r)
		}
		if st := b.state(t, id); st.Status != want || st.Annotations["org.example.key"] != "value" {
			t.Errorf("state = %+v, want status %s with the annotation", st, want)
		}
	}
	runc(t, b, "create", "--bundle", b.dir, id).wantExit(t, 0)
	validate(specs.StateCreated)
	runc(t, b, "start", id).wantExit(t, 0)
	validate(specs.StateRunning)
	runc(t, b, "kill", id, "KILL").wantExit(t, 0)
	b.waitStatus(t, id, specs.StateStopped)
	validate(specs.StateStopped)
	runc(t, b, "delete", id).wantExit(t, 0)
}
