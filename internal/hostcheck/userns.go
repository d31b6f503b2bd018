package hostcheck

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// usernsSettings are the sysctls that forbid user namespaces to users
// without privileges, with the value that forbids, what it is, and the fix
// (the sysctl file and a line for /etc/sysctl.d to keep it).
var usernsSettings = []struct {
	file    string // beneath /proc/sys
	sysctl  string
	forbids func(v int) bool
	what    string
	fix     string
}{
	{"user/max_user_namespaces", "user.max_user_namespaces", func(v int) bool { return v == 0 },
		"the kernel's limit of user namespaces is 0: none may be made (by root either)",
		"sysctl -w user.max_user_namespaces=15000 (and the line user.max_user_namespaces=15000 in /etc/sysctl.d/userns.conf to keep it)"},
	{"kernel/unprivileged_userns_clone", "kernel.unprivileged_userns_clone", func(v int) bool { return v == 0 },
		"Debian's setting forbids user namespaces to users without CAP_SYS_ADMIN",
		"sysctl -w kernel.unprivileged_userns_clone=1 (and the line kernel.unprivileged_userns_clone=1 in /etc/sysctl.d/userns.conf to keep it)"},
	{"kernel/apparmor_restrict_unprivileged_userns", "kernel.apparmor_restrict_unprivileged_userns", func(v int) bool { return v != 0 },
		"Ubuntu's AppArmor restriction: a user namespace made without privileges gets no capabilities unless the program's AppArmor profile says `userns,`",
		"an AppArmor profile for minimal-docker with `userns,` (as Ubuntu ships for podman in /etc/apparmor.d), or sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"},
}

// checkUserNS says whether users without privileges may make user
// namespaces, and which setting forbids it; for a rootless caller, a
// probe (a child in a new user namespace) has the last word.
func checkUserNS(h *Host) []Finding {
	f := Finding{Name: "unprivileged user namespaces"}
	var forbid []int // indexes in usernsSettings
	var seen []string
	for i, s := range usernsSettings {
		txt, err := h.read("/proc/sys/" + s.file)
		if err != nil {
			continue // the kernel has no such setting
		}
		v, err := strconv.Atoi(txt)
		if err != nil {
			continue
		}
		seen = append(seen, fmt.Sprintf("%s=%d", s.sysctl, v))
		if s.forbids(v) {
			forbid = append(forbid, i)
		}
	}
	f.Found = "allowed (" + strings.Join(seen, ", ") + ")"
	if len(forbid) > 0 {
		s := usernsSettings[forbid[0]]
		f.Found = "forbidden by " + s.sysctl
		f.Means, f.Fix = s.what, s.fix
		for _, i := range forbid[1:] {
			f.Found += ", " + usernsSettings[i].sysctl
			f.Fix += "; " + usernsSettings[i].fix
		}
	}
	if !h.Rootless() {
		// Root makes its user namespaces whatever the two distributions'
		// settings say; only the limit binds it.
		if len(forbid) > 0 {
			f.Status = Note
			f.Means += " (root's containers need none unless they ask for a user namespace; rootless users' do)"
		}
		return []Finding{f}
	}
	err := h.probe(ProbeUserNS)
	switch {
	case err == nil:
		f.Status, f.Found, f.Means, f.Fix = OK, "allowed: a user namespace was made ("+strings.Join(seen, ", ")+")", "", ""
	case errors.Is(err, errNotProbed):
		if len(forbid) > 0 {
			f.Status = Missing
		}
	default:
		f.Status = Missing
		if len(forbid) == 0 {
			f.Found = "refused: " + err.Error()
			f.Means = "the kernel refused a new user namespace, and no known setting forbids it: a seccomp filter or security module of the environment (a container?) may"
			f.Fix = "run on a host that allows user namespaces, or as root"
		} else {
			f.Found += " (a new user namespace was refused: " + err.Error() + ")"
		}
		f.Means = "a rootless container runs in a user namespace of its own: " + f.Means
	}
	return []Finding{f}
}

// idRange is a subordinate range of /etc/subuid or /etc/subgid.
type idRange struct{ start, count uint64 }

// subIDs reads the ranges of the user (by name or uid) from the text of
// /etc/subuid or /etc/subgid ("NAME_OR_ID:START:COUNT" lines).
func subIDs(text, name string, id int) ([]idRange, error) {
	var out []idRange
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, ":")
		if len(parts) != 3 {
			return nil, fmt.Errorf("line %d: %q: want NAME:START:COUNT", n, line)
		}
		if parts[0] != name && parts[0] != strconv.Itoa(id) {
			continue
		}
		start, err1 := strconv.ParseUint(parts[1], 10, 32)
		count, err2 := strconv.ParseUint(parts[2], 10, 32)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("line %d: %q: START and COUNT must be numbers", n, line)
		}
		out = append(out, idRange{start, count})
	}
	return out, sc.Err()
}

// minSubIDs is the count of subordinate ids images expect: ids 0-65535
// (Podman's and Docker's userns-remap default).
const minSubIDs = 65536

// checkSubIDs reads the user's ranges in /etc/subuid and /etc/subgid.
func checkSubIDs(h *Host) []Finding {
	var out []Finding
	for _, kind := range []string{"uid", "gid"} {
		file := "/etc/sub" + kind
		id := h.UID
		if kind == "gid" {
			id = h.GID
		}
		f := Finding{Name: file}
		if !h.Rootless() {
			f.Status, f.Found = NotNeeded, "not needed as root"
			out = append(out, f)
			continue
		}
		who := h.User
		if who == "" {
			who = strconv.Itoa(h.UID)
		}
		fix := fmt.Sprintf("as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s (a range no other user's overlaps)", who)
		text, err := h.read(file)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			f.Status, f.Found = Missing, err.Error()
			f.Means = "the ranges can't be read"
			out = append(out, f)
			continue
		}
		ranges, err := subIDs(text, h.User, id)
		if err != nil {
			f.Status, f.Found = Missing, fmt.Sprintf("%s: %v", file, err)
			f.Means = "newuidmap refuses a malformed file"
			f.Fix = "correct " + file
			out = append(out, f)
			continue
		}
		var total uint64
		var list []string
		for _, r := range ranges {
			total += r.count
			list = append(list, fmt.Sprintf("%d-%d", r.start, r.start+r.count-1))
		}
		switch {
		case total == 0:
			f.Status, f.Found = Note, "no range for "+who
			f.Means = fmt.Sprintf("only your own %s is mapped (to root in the container): an image's files of other owners, and programs that switch to another user, fail", kind)
			f.Fix = fix
		case total < minSubIDs-1:
			f.Status, f.Found = Note, fmt.Sprintf("%s (%d ids)", strings.Join(list, ", "), total)
			f.Means = fmt.Sprintf("fewer than %d: files of images owned by ids above %d fail to unpack", minSubIDs-1, total)
			f.Fix = fix
		default:
			// Where the user's containers' root is on the host
			// (rootless.Maps: the ranges from 0 on).
			f.Found = fmt.Sprintf("%s (%d ids; a container's root is %s %d on the host)", strings.Join(list, ", "), total, kind, ranges[0].start)
		}
		out = append(out, f)
	}
	return out
}

// hasSubIDs says whether the user has a range in /etc/subuid (kind
// "uid") or /etc/subgid ("gid").
func (h *Host) hasSubIDs(kind string) bool {
	id := h.UID
	if kind == "gid" {
		id = h.GID
	}
	text, err := h.read("/etc/sub" + kind)
	if err != nil {
		return false
	}
	ranges, err := subIDs(text, h.User, id)
	return err == nil && len(ranges) > 0
}

// checkIDMapTools finds newuidmap and newgidmap (Debian's uidmap), which
// write a rootless user's subordinate ranges into its user namespace;
// they must be setuid root (or hold CAP_SETUID/CAP_SETGID as a file
// capability).
func checkIDMapTools(h *Host) []Finding {
	// Without subordinate ranges there is nothing for them to map: the
	// user's own id alone needs no helper.
	needed := h.Rootless() && (h.hasSubIDs("uid") || h.hasSubIDs("gid"))
	var out []Finding
	for _, tool := range []string{"newuidmap", "newgidmap"} {
		f := Finding{Name: tool}
		path, err := h.LookPath(tool)
		if err != nil {
			f.Found = "not found in PATH"
			f.Means = "the subordinate ranges can't be mapped: only your own id is"
			f.Fix = "apt-get install uidmap"
			f.Status = Note
			if !h.Rootless() {
				f.Status, f.Means, f.Fix = NotNeeded, "", ""
				f.Found += " (needed by rootless users only)"
			}
			out = append(out, f)
			continue
		}
		var st unix.Stat_t
		if err := unix.Stat(h.path(path), &st); err != nil {
			f.Status, f.Found = Missing, err.Error()
			out = append(out, f)
			continue
		}
		setuid := st.Mode&unix.S_ISUID != 0 && st.Uid == 0
		_, capErr := unix.Getxattr(h.path(path), "security.capability", nil)
		switch {
		case setuid:
			f.Found = path + " (setuid root)"
		case capErr == nil:
			f.Found = path + " (file capabilities)"
		default:
			f.Found = fmt.Sprintf("%s: not setuid root (mode %04o, owner %d)", path, st.Mode&0o7777, st.Uid)
			f.Status = Missing
			f.Means = "it can't write another user's ranges into a user namespace: rootless containers fail to start"
			f.Fix = fmt.Sprintf("as root: chown root %s && chmod u+s %s (or apt-get install --reinstall uidmap)", path, path)
			if !needed {
				f.Status = Note
				f.Means = "rootless users with subordinate ranges can't use them (you have none, or are root)"
			}
		}
		out = append(out, f)
	}
	return out
}
