package spec

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
)

// ParseMemory parses Docker's memory size syntax: a whole number with an
// optional b, k, m or g suffix (case-insensitive; "kb", "mb", "gb" too).
// "0" and "-1" mean unlimited and return 0.
func ParseMemory(v string) (int64, error) {
	bad := fmt.Errorf("invalid --memory %q: want a number with an optional unit b, k, m or g (e.g. 256m), or 0/-1 for unlimited", v)
	s := strings.ToLower(strings.TrimSpace(v))
	if s == "0" || s == "-1" {
		return 0, nil
	}
	mult := int64(1)
	s = strings.TrimSuffix(s, "b")
	if s != "" {
		switch s[len(s)-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		}
		if mult != 1 {
			s = s[:len(s)-1]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, bad
	}
	if n*mult < 6<<20 {
		return 0, fmt.Errorf("invalid --memory %q: the minimum is 6m", v)
	}
	return n * mult, nil
}

// ParsePids parses --pids-limit: a whole number; 0 or -1 means unlimited.
func ParsePids(v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < -1 {
		return 0, fmt.Errorf("invalid --pids-limit %q: want a whole number, or -1 for unlimited", v)
	}
	if n == -1 {
		return 0, nil
	}
	return n, nil
}

// ParseCPUs parses --cpus: a decimal number of CPUs, at most the CPUs this
// process may run on (as Docker); 0 means unlimited.
func ParseCPUs(v string) (float64, error) {
	return parseCPUs(v, runtime.NumCPU())
}

func parseCPUs(v string, ncpu int) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 || f > 1e6 || f != f {
		return 0, fmt.Errorf("invalid --cpus %q: want a decimal number of CPUs >= 0 (e.g. 0.5), 0 for unlimited", v)
	}
	if f > float64(ncpu) {
		return 0, fmt.Errorf("invalid --cpus %q: range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", v, ncpu, ncpu)
	}
	return f, nil
}

// FormatMiB renders a byte count as Docker-ish MiB text, e.g. "256MiB".
func FormatMiB(b int64) string {
	if b%(1<<20) == 0 {
		return fmt.Sprintf("%dMiB", b>>20)
	}
	return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20))
}
