package rootless

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// The files of subordinate ids (shadow's subuid(5), subgid(5)): lines
// NAME:START:COUNT, NAME a user name or a numeric uid.
const (
	SubUIDFile = "/etc/subuid"
	SubGIDFile = "/etc/subgid"
)

// Range is a range of subordinate ids: Count ids from Start.
type Range struct {
	Start, Count uint32
}

// ParseSubIDs returns the ranges that the lines of r give the user
// (named name, or given as its id), in the file's order. Comments (#),
// blank lines and other users' lines are passed over; a line of the user
// that does not parse is an error naming its number.
func ParseSubIDs(r io.Reader, name string, id int) ([]Range, error) {
	var out []Range
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 3 || (f[0] != name && f[0] != strconv.Itoa(id)) {
			continue
		}
		start, err1 := strconv.ParseUint(f[1], 10, 32)
		count, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || count == 0 || start+count > 1<<32 {
			return nil, fmt.Errorf("line %d %q: want %s:START:COUNT with COUNT > 0", n, line, f[0])
		}
		out = append(out, Range{Start: uint32(start), Count: uint32(count)})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ReadSubIDs reads the user's ranges in the file path; a missing file
// gives none.
func ReadSubIDs(path, name string, id int) ([]Range, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rs, err := ParseSubIDs(f, name, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rs, nil
}

// IDMap is one line of a uid_map or gid_map: Count ids from Inside in
// the namespace are Outside and on in its parent.
type IDMap struct {
	Inside, Outside, Count uint32
}

// Maps returns the maps of a rootless namespace: the user's subordinate
// ranges from 0 on, one after another, so that root inside is the user's
// first subordinate id on the host (nobody there), and the user's own id
// after them (id N, N the number of subordinate ids), so that the runtime,
// uid 0 inside, may still reach the user's files (a capability inside
// covers only files whose owner is mapped). A user without ranges is
// mapped alone, as 0.
func Maps(own uint32, ranges []Range) []IDMap {
	var m []IDMap
	next := uint32(0)
	for _, r := range ranges {
		m = append(m, IDMap{Inside: next, Outside: r.Start, Count: r.Count})
		next += r.Count
	}
	return append(m, IDMap{Inside: next, Outside: own, Count: 1})
}

// args renders maps as newuidmap's and newgidmap's arguments after the
// pid: INSIDE OUTSIDE COUNT, for each.
func args(maps []IDMap) []string {
	var a []string
	for _, m := range maps {
		a = append(a, strconv.FormatUint(uint64(m.Inside), 10), strconv.FormatUint(uint64(m.Outside), 10), strconv.FormatUint(uint64(m.Count), 10))
	}
	return a
}
