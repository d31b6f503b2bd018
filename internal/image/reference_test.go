package image

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

var sha = "sha256:" + strings.Repeat("a", 64)

// TestParseReference: Docker's normalisation, and the references Docker
// refuses refused with the part that is wrong named.
func TestParseReference(t *testing.T) {
	for in, want := range map[string]string{
		"busybox":                          "docker.io/library/busybox:latest",
		"busybox:1.36":                     "docker.io/library/busybox:1.36",
		"docker.io/library/busybox":        "docker.io/library/busybox:latest",
		"index.docker.io/library/busybox":  "docker.io/library/busybox:latest",
		"docker.io/busybox":                "docker.io/library/busybox:latest",
		"user/app":                         "docker.io/user/app:latest",
		"user/app:v1.2-rc_3":               "docker.io/user/app:v1.2-rc_3",
		"127.0.0.1:5000/app:v1":            "127.0.0.1:5000/app:v1",
		"localhost/app":                    "localhost/app:latest",
		"localhost:5000/a/b/c":             "localhost:5000/a/b/c:latest",
		"Registry/app":                     "Registry/app:latest",
		"[::1]:5000/app":                   "[::1]:5000/app:latest",
		"my-registry.example.com/x__y.z-w": "my-registry.example.com/x__y.z-w:latest",
		"a--b/c":                           "docker.io/a--b/c:latest",
		"quay.io/a/b@" + sha:               "quay.io/a/b@" + sha,
		"busybox:1.36@" + sha:              "docker.io/library/busybox@" + sha,
	} {
		r, err := ParseReference(in)
		if err != nil {
			t.Errorf("ParseReference(%q): %v", in, err)
			continue
		}
		if got := r.String(); got != want {
			t.Errorf("ParseReference(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"Bad:Ref:x":                              "lowercase",
		"Busybox":                                "lowercase",
		"":                                       "empty component",
		"busybox:":                               "bad tag",
		"busybox:-x":                             "bad tag",
		"busybox:" + strings.Repeat("x", 129):    "bad tag",
		"busybox@sha256:abc":                     "bad digest",
		"busybox@md5:" + strings.Repeat("a", 32): "bad digest",
		"a//b":                                   "empty component",
		"a/b/":                                   "empty component",
		"-a/b":                                   "between letters or digits",
		"a_/b":                                   "between letters or digits",
		"a___b":                                  "between letters or digits",
		"a/b$c":                                  "not allowed",
		"exa mple.com/a":                         "in a host name",
		"-bad.com/a":                             "bad host name",
		"bad_host.com/a":                         "in a host name",
		"host.com:/a":                            "a port after",
		"host.com:50x/a":                         "bad port",
		"https://quay.io/a":                      "URL scheme",
		strings.Repeat("a", 256):                 "at most 255",
	} {
		_, err := ParseReference(in)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "invalid reference") {
			t.Errorf("ParseReference(%q) = %v, want an error saying %q", in, err, want)
		}
	}
	if _, err := ParseTag("a@" + sha); err == nil || !strings.Contains(err.Error(), "a tag, not a digest") {
		t.Errorf("ParseTag of a digest = %v", err)
	}
}

// TestParseReferenceAsGoContainerregistry: where go-containerregistry's
// name package (which pulls with the reference) accepts a reference that
// ParseReference accepts, both name the same image.
func TestParseReferenceAsGoContainerregistry(t *testing.T) {
	for _, in := range []string{"busybox", "busybox:1.36", "user/app", "docker.io/busybox", "index.docker.io/x/y:z",
		"127.0.0.1:5000/app:v1", "localhost:5000/a/b/c", "quay.io/a/b@" + sha, "ghcr.io/o/r:1.0-alpine_2"} {
		ours, err := ParseReference(in)
		if err != nil {
			t.Fatalf("ParseReference(%q): %v", in, err)
		}
		theirs, err := name.ParseReference(ours.String())
		if err != nil {
			t.Fatalf("name.ParseReference(%q): %v", ours.String(), err)
		}
		orig, err := name.ParseReference(in)
		if err != nil {
			t.Fatalf("name.ParseReference(%q): %v", in, err)
		}
		if theirs.Name() != orig.Name() {
			t.Errorf("%q: ours %q is %q for go-containerregistry, which reads %q as %q", in, ours, theirs.Name(), in, orig.Name())
		}
	}
}
