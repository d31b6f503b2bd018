package integration

import (
	"strings"
	"testing"
)

// TestDomainname: --domainname sets the container's NIS domain name
// (its UTS namespace's), inspect shows it (Config.Domainname), and on a
// network the hosts file's own line names HOSTNAME.DOMAINNAME and then
// HOSTNAME, as Docker's; a hostname with a dot gets its short name too.
// One of more than 64 characters is refused before anything is made.
func TestDomainname(t *testing.T) {
	ns := newTestNetns(t)
	root := netRoot(t)
	createNetwork(t, ns, root, "--subnet", "10.90.0.0/24", "dom")

	r := mdn(t, ns, root, "run", "--rm", "--network", "none", "--domainname", "example.com", env.rootfs, "cat", "/proc/sys/kernel/domainname")
	if r.wantExit(t, 0); strings.TrimSpace(r.stdout) != "example.com" {
		t.Errorf("run --domainname example.com: the kernel's domainname is %q", r.stdout)
	}

	detachedIn(t, ns, root, "--name", "web", "--network", "dom", "--ip", "10.90.0.10", "--hostname", "web", "--domainname", "example.com", env.rootfs, "sleep", "1000")
	for file, want := range map[string]string{
		"/etc/hosts":                  "10.90.0.10\tweb.example.com web\n",
		"/etc/hostname":               "web\n",
		"/proc/sys/kernel/domainname": "example.com\n",
	} {
		r := mdn(t, ns, root, "exec", "web", "cat", file)
		if r.wantExit(t, 0); !strings.Contains(r.stdout, want) {
			t.Errorf("web's %s: %q, want it to have %q", file, r.stdout, want)
		}
	}
	if c := inspectIn(t, ns, root, "web"); c.Config.Domainname != "example.com" || c.Config.Hostname != "web" {
		t.Errorf("inspect web: Config.Hostname %q, Domainname %q; want web, example.com", c.Config.Hostname, c.Config.Domainname)
	}

	r = mdn(t, ns, root, "run", "--rm", "--network", "dom", "--ip", "10.90.0.11", "--hostname", "db.local", env.rootfs, "cat", "/etc/hosts")
	if r.wantExit(t, 0); !strings.Contains(r.stdout, "10.90.0.11\tdb.local db\n") {
		t.Errorf("run --hostname db.local: hosts %q, want the line 10.90.0.11 db.local db", r.stdout)
	}

	r = mdn(t, ns, root, "run", "-d", "--network", "dom", "--domainname", strings.Repeat("d", 65), env.rootfs, "sleep", "1000")
	r.wantExit(t, 125)
	r.wantStderr(t, "invalid --domainname", "at most 64 characters")
	if r := mdn(t, ns, root, "ps", "-a", "-q"); len(r.lines()) != 1 {
		t.Errorf("ps -a after the refused run: %q, want web only", r.lines())
	}

	mdn(t, ns, root, "rm", "-f", "web").wantExit(t, 0)
	wantNoAttachments(t, root)
}
