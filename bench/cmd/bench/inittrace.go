package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The runtimes' own start-up: what the Go runtime reports of the package
// initialisers (GODEBUG=inittrace=1) before main runs. Every command pays
// it, whatever the verb: the initialisers run before the command line is
// read, so `--version` measures the same work as `run`.

var (
	initRounds = flag.Int("inittrace", 21, "runs of each Go binary's --version under GODEBUG=inittrace=1 (0 skips)")
	floorBin   = flag.String("floor", "", "a Go program that only writes to stdout (bench/cmd/floor), measured as the floor")
	initOnly   = flag.Bool("inittrace-only", false, "instead: only the package initialisers' times (GODEBUG=inittrace=1)")
)

// initLine is one line of inittrace's output:
// "init PKG @0.51 ms, 0.024 ms clock, 1656 bytes, 14 allocs".
type initLine struct {
	pkg   string
	clock time.Duration
}

// parseInittrace returns the init lines of stderr, in order.
func parseInittrace(stderr string) []initLine {
	var out []initLine
	for _, line := range strings.Split(stderr, "\n") {
		f := strings.Fields(line)
		if len(f) < 7 || f[0] != "init" || f[5] != "ms" || f[6] != "clock," {
			continue
		}
		v, err := strconv.ParseFloat(f[4], 64)
		if err != nil {
			continue
		}
		out = append(out, initLine{pkg: f[1], clock: time.Duration(v * float64(time.Millisecond))})
	}
	return out
}

// initTrace is a binary's inits over several runs.
type initTrace struct {
	name   string
	totals []time.Duration            // per run: every package's init but the runtime's own
	pkgs   map[string][]time.Duration // per package, per run
	err    error
}

// traceInits runs path args rounds times with GODEBUG=inittrace=1.
func traceInits(name, path string, rounds int, args ...string) initTrace {
	t := initTrace{name: name, pkgs: map[string][]time.Duration{}}
	env := append(os.Environ(), "GODEBUG=inittrace=1")
	for range rounds {
		var stderr bytes.Buffer
		cmd := exec.Command(path, args...)
		cmd.Env, cmd.Stderr = env, &stderr
		if err := cmd.Run(); err != nil {
			t.err = fmt.Errorf("%s %s: %w", path, strings.Join(args, " "), err)
			return t
		}
		lines := parseInittrace(stderr.String())
		if len(lines) == 0 {
			t.err = fmt.Errorf("%s: no inittrace output (not a Go binary?)", path)
			return t
		}
		var total time.Duration
		for _, l := range lines {
			t.pkgs[l.pkg] = append(t.pkgs[l.pkg], l.clock)
			if l.pkg != "runtime" {
				total += l.clock
			}
		}
		t.totals = append(t.totals, total)
	}
	return t
}

// top is the n packages whose init took longest at the median.
func (t initTrace) top(n int) []string {
	type pm struct {
		pkg string
		m   time.Duration
	}
	var all []pm
	for p, d := range t.pkgs {
		if p != "runtime" {
			all = append(all, pm{p, median(d)})
		}
	}
	slices.SortFunc(all, func(a, b pm) int { return int(b.m - a.m) })
	var out []string
	for _, x := range all[:min(n, len(all))] {
		out = append(out, fmt.Sprintf("%s %.3f", strings.TrimPrefix(x.pkg, "github.com/"), float64(x.m.Microseconds())/1000))
	}
	return out
}

// initTraceReport measures minimal-runc and minimal-docker (and runc, a Go
// binary too, and the floor program, for reference) and returns the
// report's section.
func (e *env) initTraceReport() string {
	if *initRounds <= 0 {
		return ""
	}
	fmt.Printf("inittrace: %d runs of each --version\n", *initRounds)
	traces := []initTrace{
		traceInits("minimal-runc", e.mruncPath, *initRounds, "--version"),
		traceInits("minimal-docker", e.mdocker, *initRounds, "--version"),
		traceInits("runc (reference)", e.runcPath, *initRounds, "--version"),
	}
	if *floorBin != "" {
		traces = append(traces, traceInits("floor: a Go program importing only os", *floorBin, *initRounds))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### The runtimes' own start-up: package initialisers (GODEBUG=inittrace=1)\n\n"+
		"Sum of the `init` lines' clock time (every package but `runtime`), median of %d runs of `--version` "+
		"(the initialisers run before main, whatever the verb). Goal: under 0.5 ms.\n\n", *initRounds)
	b.WriteString("| binary | inits total (median) | min | packages | slowest inits (median ms) |\n| --- | ---: | ---: | ---: | --- |\n")
	for _, t := range traces {
		if t.err != nil {
			fmt.Fprintf(&b, "| %s | failed: %v | | | |\n", t.name, t.err)
			continue
		}
		fmt.Fprintf(&b, "| %s | %.3f ms | %.3f ms | %d | %s |\n", t.name,
			float64(median(t.totals).Microseconds())/1000, float64(quantile(t.totals, 0).Microseconds())/1000,
			len(t.pkgs)-1, strings.Join(t.top(5), ", "))
	}
	return b.String()
}
