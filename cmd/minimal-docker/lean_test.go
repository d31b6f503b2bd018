package main

import (
	"os/exec"
	"strings"
	"testing"
)

// heavy are the packages a lean minimal-docker (the build tag lean, as
// make build builds it) must not link: each start would run their
// initialisers (internal/cli/docker's transfer_lean.go).
var heavy = []string{
	"github.com/google/go-containerregistry/pkg/v1/remote",
	"github.com/google/go-containerregistry/pkg/name",
	"github.com/google/go-containerregistry/pkg/v1/tarball",
	"github.com/opencontainers/go-digest",
	"github.com/klauspost/compress/zstd",
	"net/http",
	"crypto/tls",
}

func deps(t *testing.T, tags ...string) map[string]bool {
	t.Helper()
	args := append([]string{"list", "-deps"}, tags...)
	out, err := exec.Command("go", append(args, ".")...).Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	m := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		m[p] = true
	}
	return m
}

// TestLeanLinksNoTransfer: the lean build links none of them; the whole
// build (minimal-docker-image) does, so the list names real imports.
func TestLeanLinksNoTransfer(t *testing.T) {
	lean, whole := deps(t, "-tags", "lean"), deps(t)
	for _, p := range heavy {
		if lean[p] {
			t.Errorf("the lean minimal-docker links %s", p)
		}
		if !whole[p] {
			t.Errorf("minimal-docker built whole does not link %s: the list above is stale", p)
		}
	}
}
