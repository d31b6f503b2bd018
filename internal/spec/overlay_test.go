package spec

import (
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/minimal-docker/minimal-docker/internal/handshake"
)

// TestRootOverlayAnnotation: WithRootOverlay and RootOverlay round-trip,
// and a bad annotation is refused, naming what is wrong.
func TestRootOverlayAnnotation(t *testing.T) {
	want := handshake.Overlay{Lower: []string{"/l/2", "/l/1"}, Upper: "/c/upper", Work: "/c/work", Volatile: true}
	s := &specs.Spec{}
	if err := WithRootOverlay(want)(s); err != nil {
		t.Fatal(err)
	}
	got, err := RootOverlay(s)
	if err != nil || got == nil || !reflect.DeepEqual(*got, want) {
		t.Fatalf("RootOverlay = %+v, %v; want %+v", got, err, want)
	}
	if o, err := RootOverlay(&specs.Spec{}); o != nil || err != nil {
		t.Errorf("no annotation: RootOverlay = %+v, %v; want nil, nil", o, err)
	}
	for _, c := range []struct{ value, errSub string }{
		{`{`, "unexpected end"},
		{`{"upper":"/u","work":"/w"}`, "no lower directory"},
		{`{"lower":["rel"],"upper":"/u","work":"/w"}`, `"rel"`},
		{`{"lower":["/l"],"upper":"/u/../x","work":"/w"}`, `"/u/../x"`},
		{`{"lower":["/l"],"upper":"/u"}`, `""`},
	} {
		s := &specs.Spec{Annotations: map[string]string{AnnotationRootOverlay: c.value}}
		if _, err := RootOverlay(s); err == nil || !strings.Contains(err.Error(), c.errSub) || !strings.Contains(err.Error(), AnnotationRootOverlay) {
			t.Errorf("%s: err = %v, want one naming the annotation and %q", c.value, err, c.errSub)
		}
	}
}
