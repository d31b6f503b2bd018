package testenv

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ProcTable maps each PID on the host to its parent PID.
func ProcTable() map[int]int {
	entries, _ := os.ReadDir("/proc")
	ppids := map[int]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		if f := strings.Fields(s[i+1:]); len(f) >= 2 {
			if ppid, err := strconv.Atoi(f[1]); err == nil {
				ppids[pid] = ppid
			}
		}
	}
	return ppids
}

// RemoveTemp removes a suite's temporary directory unless something is
// still mounted beneath it: removing through a leaked bind mount could
// delete files of the host. Problems are reported on stderr, named after
// the suite.
func RemoveTemp(suite, tmp string) {
	mounted, err := MountedUnder(tmp)
	if err == nil && len(mounted) > 0 {
		err = errors.New(mounted[0] + " is still mounted")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: leaving %s in place: %v\n", suite, tmp, err)
		return
	}
	if err := os.RemoveAll(tmp); err != nil {
		fmt.Fprintln(os.Stderr, suite+":", err)
	}
}
