package testenv

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// RegistryBinEnv names another registry binary than Debian's
// docker-registry (one that takes `serve CONFIG`, as tests/registry does).
const RegistryBinEnv = "MD_REGISTRY"

// RegistryBin is the registry binary to start: $MD_REGISTRY, or Debian's
// docker-registry (make deps installs it). It fails if that is missing.
func RegistryBin() (string, error) {
	bin := os.Getenv(RegistryBinEnv)
	if bin == "" {
		bin = "/usr/bin/docker-registry"
	}
	if _, err := os.Stat(bin); err != nil {
		return "", err
	}
	return bin, nil
}

// Registry is a registry serving plain HTTP on 127.0.0.1, storing under a
// directory of its own.
type Registry struct {
	Addr string // host:port
	bg   *Background
}

// StartRegistry starts bin (RegistryBin) with a config that stores blobs
// under dir/data, logs to dir/registry.log and listens on a free port of
// 127.0.0.1, and waits (at most timeout) until it answers /v2/. The
// caller stops it with Stop and removes dir.
func StartRegistry(bin, dir string, timeout time.Duration) (*Registry, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	config := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n",
		filepath.Join(dir, "data"), addr)
	cfgPath, logPath := filepath.Join(dir, "config.yml"), filepath.Join(dir, "registry.log")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	bg, err := StartBackground(cmd)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	r := &Registry{Addr: addr, bg: bg}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r, nil
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) || bg.Exited() {
			r.Stop()
			log, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("registry on %s not up after %v (last error %v); its log:\n%s", addr, timeout, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the registry by its PID and waits for it.
func (r *Registry) Stop() {
	r.bg.Cmd.Process.Kill()
	<-r.bg.Done
}
