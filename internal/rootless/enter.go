// Package rootless is what a runtime run by a user who is not root does
// to run containers all the same (Podman's design): it enters a user
// namespace in which it is uid 0 (Enter), mapping the user's subordinate
// ids (/etc/subuid, /etc/subgid) through newuidmap and newgidmap, or its
// own id alone; there it keeps its files under the user's XDG
// directories (DataDir, RuntimeDir). Active says whether this process is
// such a runtime.
package rootless

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/minimal-docker/minimal-docker/internal/exitcode"
	"github.com/minimal-docker/minimal-docker/internal/namespaces"
	"github.com/minimal-docker/minimal-docker/internal/proc"
	"github.com/minimal-docker/minimal-docker/internal/sealed"
)

// The environment of the helper's middle stage (cmd/minimal-docker-helper,
// userns.c): the pipe it waits on for the maps of a new namespace, or
// the namespace to join; the binary it executes then.
const (
	envSync = "_MINIMAL_DOCKER_USERNS_SYNC"
	envJoin = "_MINIMAL_DOCKER_USERNS_JOIN"
	envExec = "_MINIMAL_DOCKER_USERNS_EXEC"
)

// Active says whether this process is a rootless runtime: one that runs
// in a user namespace other than the host's (entered by Enter, or
// Podman's when it runs minimal-runc rootless), where uid 0 owns
// nothing of the host's.
func Active() bool { return namespaces.InUserNS() }

// Needed says whether this process must enter a user namespace to run
// containers: it is not root, and not in one already.
func Needed() bool { return os.Geteuid() != 0 && !namespaces.InUserNS() }

// Enter runs this program again (with the same arguments, environment
// and standard files) as uid 0 of a new user namespace and mount
// namespace, and returns its exit status once it has exited (128+N when
// killed by signal N, as a shell says): the caller exits with it. The
// signals this process gets are passed on to it. The new namespace maps
// the user's subordinate ranges from 0 on, so that root inside is the
// user's first subordinate id on the host, and the user's own id after
// them (Maps);
// a user without any is mapped alone, which notice is told (once per
// boot, see singleNotice). The chain of executions: this program, the
// helper's stage that waits for the maps (userns.c), this program again.
// Where a container of the user's runs already, the command joins its
// user namespace instead (holders.go).
func Enter(stderr io.Writer) (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("rootless: find the runtime's binary: %w", err)
	}
	helper, err := sealed.Beside(sealed.HelperName)
	if err != nil {
		return 0, fmt.Errorf("rootless: %w", err)
	}
	// The list of holders stays locked until the namespace this command
	// makes is on it (or it joins one). Without a usable
	// $XDG_RUNTIME_DIR there is no list: a namespace of its own.
	l, _ := lockHolders()
	defer l.close()
	if ns := l.liveNS(); ns != nil {
		defer ns.Close()
		l.close()
		return join(ns, helper, self)
	}
	uidMaps, gidMaps, err := userMaps()
	if err != nil {
		return 0, err
	}
	// go-ahead: the runtime tells the stage the maps are written;
	// made: the stage tells the runtime its namespace is made ("1"),
	// then that it can be joined ("2", userns.c).
	goR, goW, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("rootless: pipe: %w", err)
	}
	defer goW.Close()
	madeR, madeW, err := os.Pipe()
	if err != nil {
		goR.Close()
		return 0, fmt.Errorf("rootless: pipe: %w", err)
	}
	defer madeR.Close()
	cmd := &exec.Cmd{
		Path:   helper,
		Args:   os.Args,
		Env:    append(os.Environ(), envSync+"=3,4", envExec+"="+self, EnvEntered+"=1"),
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		// ExtraFiles[i] is fd 3+i in the child.
		ExtraFiles: []*os.File{goR, madeW},
	}
	sigc := make(chan os.Signal, 16)
	signal.Notify(sigc, forwarded...)
	defer signal.Stop(sigc)
	err = cmd.Start()
	goR.Close()
	madeW.Close()
	if err != nil {
		return 0, fmt.Errorf("rootless: start %s to make a user namespace: %w", helper, err)
	}
	pid := cmd.Process.Pid
	if n, _ := madeR.Read(make([]byte, 1)); n != 1 {
		// The stage said why on its standard error, and exited.
		goW.Close()
		return waitForwarding(cmd, sigc)
	}
	if err := writeMaps(pid, uidMaps, gidMaps); err != nil {
		goW.Close() // the stage exits 1 at end of file
		_ = cmd.Wait()
		return 0, err
	}
	if len(uidMaps) == 1 {
		singleNotice(stderr)
	}
	if _, err := goW.Write([]byte("1")); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return 0, fmt.Errorf("rootless: go-ahead: %w", err)
	}
	goW.Close()
	// The stage is listed only once it says another command of the
	// user's can open its namespace: between its change of ids and its
	// prctl(PR_SET_DUMPABLE) it can't, and a command that found it
	// listed then would make a second namespace. Listed, the command
	// itself holds its namespace for the next ones until its containers
	// do (each listed as it starts).
	if n, _ := madeR.Read(make([]byte, 1)); n != 1 {
		return waitForwarding(cmd, sigc) // the stage said why, and exited
	}
	if err := l.add(pid); err != nil {
		fmt.Fprintf(stderr, "%s: rootless: list the user namespace in %s: %v (a command at the same time may make another)\n", proc.Name(), l.path, err)
	}
	l.close()
	return waitForwarding(cmd, sigc)
}

// join runs this program again as uid 0 of the user namespace ns (a
// holder's: holders.go) and a new mount namespace, through the helper's
// stage that joins them (userns.c), and returns its exit status as
// Enter does.
func join(ns *os.File, helper, self string) (int, error) {
	cmd := &exec.Cmd{
		Path:       helper,
		Args:       os.Args,
		Env:        append(os.Environ(), envJoin+"=3", envExec+"="+self, EnvEntered+"=1"),
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		ExtraFiles: []*os.File{ns},
	}
	sigc := make(chan os.Signal, 16)
	signal.Notify(sigc, forwarded...)
	defer signal.Stop(sigc)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("rootless: start %s to join the user namespace: %w", helper, err)
	}
	return waitForwarding(cmd, sigc)
}

// waitForwarding passes the signals of sigc on to cmd's process until
// it exits, and returns its exit status (128+N for signal N).
func waitForwarding(cmd *exec.Cmd, sigc <-chan os.Signal) (int, error) {
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-sigc:
				_ = unix.Kill(cmd.Process.Pid, sig.(syscall.Signal))
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		return 0, fmt.Errorf("rootless: wait: %w", err)
	}
	return exitcode.OfWait(unix.WaitStatus(ws)), nil
}

// forwarded are the signals Enter passes on: those that kill or tell
// (kill, a terminal's hang-up or ^C), not the terminal's job control,
// which reaches the whole foreground process group itself.
var forwarded = []os.Signal{unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1, unix.SIGUSR2, unix.SIGALRM}

// userMaps returns the uid and gid maps for the calling user: its own ids
// as 0 and its subordinate ranges after them; its own ids alone when it
// has no range in either file. A range in one file and none in the other
// is an error (newgidmap would refuse the half that is missing).
func userMaps() (uidMaps, gidMaps []IDMap, err error) {
	uid, gid := os.Getuid(), os.Getgid()
	name := strconv.Itoa(uid)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	subuids, err := ReadSubIDs(SubUIDFile, name, uid)
	if err != nil {
		return nil, nil, fmt.Errorf("rootless: %w", err)
	}
	subgids, err := ReadSubIDs(SubGIDFile, name, uid)
	if err != nil {
		return nil, nil, fmt.Errorf("rootless: %w", err)
	}
	switch {
	case len(subuids) > 0 && len(subgids) == 0:
		return nil, nil, fmt.Errorf("rootless: user %s has subordinate uids in %s but no gids in %s: add a line %s:START:COUNT there (usermod --add-subgids)", name, SubUIDFile, SubGIDFile, name)
	case len(subuids) == 0 && len(subgids) > 0:
		return nil, nil, fmt.Errorf("rootless: user %s has subordinate gids in %s but no uids in %s: add a line %s:START:COUNT there (usermod --add-subuids)", name, SubGIDFile, SubUIDFile, name)
	}
	return Maps(uint32(uid), subuids), Maps(uint32(gid), subgids), nil
}

// writeMaps writes the maps of pid's user namespace: through newuidmap
// and newgidmap (setuid root, package uidmap), which check the ranges
// against /etc/subuid and /etc/subgid, when there are subordinate
// ranges; directly otherwise (a user may map its own ids alone, with
// setgroups denied).
func writeMaps(pid int, uidMaps, gidMaps []IDMap) error {
	if len(uidMaps) == 1 && len(gidMaps) == 1 {
		proc := "/proc/" + strconv.Itoa(pid)
		for _, f := range []struct{ file, text string }{
			{"uid_map", line(uidMaps[0])},
			{"setgroups", "deny"},
			{"gid_map", line(gidMaps[0])},
		} {
			if err := os.WriteFile(filepath.Join(proc, f.file), []byte(f.text), 0); err != nil {
				return fmt.Errorf("rootless: write the user namespace's %s: %w", f.file, err)
			}
		}
		return nil
	}
	for _, m := range []struct {
		tool string
		maps []IDMap
	}{{"newuidmap", uidMaps}, {"newgidmap", gidMaps}} {
		path, err := exec.LookPath(m.tool)
		if err != nil {
			return fmt.Errorf("rootless: %s not found: it writes the subordinate ids' maps (install Debian's uidmap package: apt-get install uidmap): %w", m.tool, err)
		}
		var out bytes.Buffer
		cmd := exec.Command(path, append([]string{strconv.Itoa(pid)}, args(m.maps)...)...)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("rootless: %s %s: %w: %s (is %s setuid root, and do %s and %s list these ranges?)",
				m.tool, strings.Join(cmd.Args[1:], " "), err, strings.TrimSpace(out.String()), path, SubUIDFile, SubGIDFile)
		}
	}
	return nil
}

func line(m IDMap) string { return fmt.Sprintf("%d %d %d\n", m.Inside, m.Outside, m.Count) }

// singleNotice says, once per boot (a mark in $XDG_RUNTIME_DIR; every
// time without one), that the user namespace maps the user's own id
// alone.
func singleNotice(w io.Writer) {
	mark := ""
	if dir, err := RuntimeDir(Name); err == nil {
		mark = filepath.Join(dir, "single-id-noted")
		if _, err := os.Stat(mark); err == nil {
			return
		}
	}
	fmt.Fprintf(w, "%s: rootless: no subordinate ids for uid %d in %s and %s: containers map your own uid and gid alone (root inside is you; no other user or group exists inside). Add a range (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER) for images with other owners. (said once)\n",
		proc.Name(), os.Getuid(), SubUIDFile, SubGIDFile)
	if mark != "" {
		_ = os.WriteFile(mark, nil, 0o600)
	}
}
