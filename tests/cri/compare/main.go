// Command compare reads the ginkgo JSON reports of two critest runs, the
// control (runc) and the runtime under test, prints each one's totals and
// the tests the runtime under test fails (or does not run) that the
// control passes, and exits 1 if there are any:
//
//	go run ./tests/cri/compare CONTROL.json UNDER-TEST.json
package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: compare CONTROL.json UNDER-TEST.json")
		os.Exit(2)
	}
	control, err := load(os.Args[1])
	if err == nil {
		var test map[string]string
		if test, err = load(os.Args[2]); err == nil {
			os.Exit(report(name(os.Args[1]), control, name(os.Args[2]), test))
		}
	}
	fmt.Fprintln(os.Stderr, "compare:", err)
	os.Exit(2)
}

func name(path string) string { return strings.TrimSuffix(filepath.Base(path), ".json") }

// load returns each spec's state ("passed", "failed", "skipped", ...) by
// its full text.
func load(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var reports []struct {
		SpecReports []struct {
			ContainerHierarchyTexts []string
			LeafNodeText            string
			LeafNodeType            string
			State                   string
		}
	}
	if err := json.Unmarshal(b, &reports); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	states := map[string]string{}
	for _, r := range reports {
		for _, s := range r.SpecReports {
			if s.LeafNodeType != "It" {
				continue
			}
			states[strings.Join(append(s.ContainerHierarchyTexts, s.LeafNodeText), " ")] = s.State
		}
	}
	if len(states) == 0 {
		return nil, fmt.Errorf("%s: no specs in the report", path)
	}
	return states, nil
}

// totals counts the states.
func totals(states map[string]string) string {
	n := map[string]int{}
	for _, s := range states {
		n[s]++
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", n[k], k))
	}
	return strings.Join(parts, ", ")
}

func report(cname string, control map[string]string, tname string, test map[string]string) int {
	fmt.Printf("critest with %s: %s\n", cname, totals(control))
	fmt.Printf("critest with %s: %s\n", tname, totals(test))
	var worse, better []string
	for spec, s := range control {
		switch t := test[spec]; {
		case s == "passed" && t != "passed":
			worse = append(worse, fmt.Sprintf("  %s [%s]", spec, or(t, "not run")))
		case s != "passed" && t == "passed":
			better = append(better, fmt.Sprintf("  %s [%s with %s]", spec, s, cname))
		}
	}
	if !slices.Contains(slices.Collect(maps.Values(control)), "passed") {
		fmt.Printf("FAIL: %s passed no test: the lane itself is broken\n", cname)
		return 1
	}
	slices.Sort(worse)
	slices.Sort(better)
	if len(better) > 0 {
		fmt.Printf("passed with %s only:\n%s\n", tname, strings.Join(better, "\n"))
	}
	if len(worse) > 0 {
		fmt.Printf("FAIL: passed with %s, not with %s:\n%s\n", cname, tname, strings.Join(worse, "\n"))
		return 1
	}
	fmt.Printf("ok: %s passes every test %s passes\n", tname, cname)
	return 0
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
