package testenv

import (
	"fmt"
	"os"
	"path/filepath"
)

// containerdConfig: root, state, sockets and opt directory private to one
// containerd; the CRI plugin disabled (no Kubernetes: tests/cri has its
// own configuration).
const containerdConfig = `version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %[3]q

[ttrpc]
  address = %[4]q

[debug]
  address = ""%[6]s

[plugins."io.containerd.internal.v1.opt"]
  path = %[5]q
`

// WriteContainerdConfig writes DIR/config.toml for a containerd of its own
// (the interop lane's, the pull bench's): root, state and opt under dir,
// its socket at sock (and sock.ttrpc); debug logs at level debug. It
// returns the file's path.
func WriteContainerdConfig(dir, sock string, debug bool) (string, error) {
	level := ""
	if debug {
		level = "\n  level = \"debug\""
	}
	cfg := filepath.Join(dir, "config.toml")
	text := fmt.Sprintf(containerdConfig, filepath.Join(dir, "root"), filepath.Join(dir, "state"),
		sock, sock+".ttrpc", filepath.Join(dir, "opt"), level)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		return "", fmt.Errorf("containerd config: %w", err)
	}
	return cfg, nil
}
