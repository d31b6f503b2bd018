// The Go runtime would otherwise keep the cgroup CPU files open (for
// GOMAXPROCS), and "probe fds" would list them as if inherited.
//
//go:debug containermaxprocs=0

// Command probe reports, from inside a container, what busybox can't. It is
// built with CGO_ENABLED=0 and copied into test rootfs as /bin/probe.
//
//	probe mem MIB     allocate and touch MIB MiB, printing progress; exit 0 if it survives
//	probe self        print pid, ppid, hostname and /proc/self/cgroup
//	probe zombies     print the number of processes in state Z
//	probe fds         list this process's open file descriptors
//	probe orphan      make an orphan that exits; print "reaped" or "zombie"
//	probe udp-echo PORT            answer each UDP datagram on PORT with "echo " and it
//	probe udp-ask ADDR:PORT MSG    send MSG over UDP, print the answer (3 tries, 2s each)
//	probe tcp-sink PORT            count what each TCP connection on PORT sends, and
//	                               answer with the count once it closes its side
//	probe tcp-send ADDR:PORT SECS  send to a tcp-sink for SECS seconds; print
//	                               "bytes N seconds S": what the sink counted
//	probe gso IFNAME               print the link's IPv4 GSO and GRO sizes: "gso N gro M"
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var commands = map[string]func(args []string) error{
	"mem":      mem,
	"self":     self,
	"zombies":  zombies,
	"fds":      fds,
	"orphan":   orphan,
	"udp-echo": udpEcho,
	"udp-ask":  udpAsk,
	"tcp-sink": tcpSink,
	"tcp-send": tcpSend,
	"gso":      gso,
}

func main() {
	if len(os.Args) < 2 || commands[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: probe mem MIB | self | zombies | fds | orphan | udp-echo PORT | udp-ask ADDR:PORT MSG | tcp-sink PORT | tcp-send ADDR:PORT SECS")
		os.Exit(2)
	}
	if err := commands[os.Args[1]](os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "probe %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// mem allocates and touches MIB MiB, one MiB at a time.
func mem(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: probe mem MIB")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 0 {
		return fmt.Errorf("bad MIB %q", args[0])
	}
	const mib = 1 << 20
	chunks := make([][]byte, 0, n)
	for i := 1; i <= n; i++ {
		b := make([]byte, mib)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		chunks = append(chunks, b)
		if i%16 == 0 {
			fmt.Printf("allocated %d MiB\n", i)
		}
	}
	time.Sleep(100 * time.Millisecond)
	fmt.Printf("survived %d MiB (%d chunks)\n", n, len(chunks))
	return nil
}

// self prints what the process sees of itself.
func self([]string) error {
	host, err := os.Hostname()
	if err != nil {
		return err
	}
	cg, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return err
	}
	fmt.Printf("pid %d\nppid %d\nhostname %s\n", os.Getpid(), os.Getppid(), host)
	fmt.Print(string(cg))
	return nil
}

// zombies counts the processes in state Z.
func zombies([]string) error {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return err
	}
	n := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if state, err := procState(e.Name()); err == nil && state == "Z" {
			n++
		}
	}
	fmt.Println(n)
	return nil
}

// procState reads the state field of /proc/PID/stat.
func procState(pid string) (string, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return "", err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return "", fmt.Errorf("/proc/%s/stat: unexpected %q", pid, s)
	}
	return strings.Fields(s[i+1:])[0], nil
}

// fds lists the open file descriptors as "FD TARGET" lines. It reads
// /proc/self/fd with raw syscalls so that the Go runtime's poller does not
// add descriptors of its own, and leaves out the descriptor it reads with.
func fds([]string) error {
	dirfd, err := syscall.Open("/proc/self/fd", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /proc/self/fd: %w", err)
	}
	var names []string
	buf := make([]byte, 8192)
	for {
		n, err := syscall.ReadDirent(dirfd, buf)
		if err != nil {
			return fmt.Errorf("read /proc/self/fd: %w", err)
		}
		if n == 0 {
			break
		}
		_, _, names = syscall.ParseDirent(buf[:n], -1, names)
	}
	var lines []string
	for _, name := range names {
		if name == strconv.Itoa(dirfd) {
			continue
		}
		target, err := os.Readlink("/proc/self/fd/" + name)
		if err != nil {
			target = "?" + err.Error()
		}
		lines = append(lines, name+" "+target)
	}
	syscall.Close(dirfd)
	for _, l := range lines {
		fmt.Println(l)
	}
	return nil
}

// orphan starts a shell that backgrounds a short sleep and exits at once, so
// that the sleep is reparented to the namespace's PID 1 (or the nearest
// subreaper). It then watches the sleep: once it has exited, "reaped" means
// someone waited for it, "zombie" that it stayed in state Z for 5 seconds.
func orphan([]string) error {
	cmd := exec.Command("/bin/sh", "-c", "sleep 1 & echo $!")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("sh: %w", err)
	}
	pid := strings.TrimSpace(string(out))
	if _, err := strconv.Atoi(pid); err != nil {
		return fmt.Errorf("sh printed %q, want a pid", out)
	}
	fmt.Printf("orphan %s\n", pid)
	deadline := time.Now().Add(30 * time.Second)
	var zombieSince time.Time
	for time.Now().Before(deadline) {
		state, err := procState(pid)
		// A process reaped between open and read gives ESRCH.
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			fmt.Println("reaped")
			return nil
		}
		if err != nil {
			return err
		}
		if state == "Z" {
			if zombieSince.IsZero() {
				zombieSince = time.Now()
			}
			if time.Since(zombieSince) > 5*time.Second {
				fmt.Println("zombie")
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("orphan %s still running after 30s", pid)
}
