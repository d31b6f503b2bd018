// Command registry stands in for Debian's docker-registry where that
// can't run: in the pure cgroup v2 guest (tests/cgroupv2), which has no
// libc. It takes docker-registry's command line as the image tests give it
// (`registry serve CONFIG`), reads the listening address from the
// config's http.addr line, and serves go-containerregistry's in-memory
// registry (pkg/registry: the registry API, blobs and manifests kept in
// memory) there until it is killed.
package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	if len(os.Args) != 3 || os.Args[1] != "serve" {
		fmt.Fprintln(os.Stderr, "usage: registry serve CONFIG")
		os.Exit(2)
	}
	addr, err := listenAddr(os.Args[2])
	if err == nil {
		err = http.ListenAndServe(addr, registry.New())
	}
	fmt.Fprintln(os.Stderr, "registry:", err)
	os.Exit(1)
}

// listenAddr returns the value of the config's "addr:" line (http.addr:
// the only addr key of the tests' configs).
func listenAddr(config string) (string, error) {
	f, err := os.Open(config)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "addr:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s: no addr line", config)
}
