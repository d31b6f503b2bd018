package cgroups

import (
	"maps"
	"strings"
	"testing"
)

// hybridMountinfo is /proc/self/mountinfo of the machine this was written
// on: v1 controllers under /sys/fs/cgroup/NAME, cgroup2 at .../unified.
const hybridMountinfo = `21 26 0:20 / /proc rw,relatime - proc proc rw
26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

// v1Mountinfo is a systemd v1 host (Debian 9, CentOS 7): co-mounted
// cpu,cpuacct and net_cls,net_prio, and no cgroup2.
const v1Mountinfo = `25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct
30 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,net_cls,net_prio
31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory
32 25 0:29 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,pids
33 25 0:30 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,cpuset,clone_children
`

// v2Mountinfo is a unified host (Debian 12, Fedora), with a bind mount of
// a sub-tree later on that must not win.
const v2Mountinfo = `22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
90 1 0:23 /system.slice /mnt/sub rw,relatime - cgroup2 cgroup2 rw,nsdelegate
`

// nestedMountinfo is inside a container without a cgroup namespace: each
// hierarchy shows the container's own cgroup at its mount point.
const nestedMountinfo = `700 690 0:31 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory
701 690 0:35 /docker/abc /sys/fs/cgroup/pids ro,nosuid - cgroup cgroup rw,pids
`

func TestParseMountinfo(t *testing.T) {
	tests := []struct {
		name        string
		text        string
		wantMode    Mode
		wantUnified string
		wantV1      map[string]string
		wantRoots   map[string]string
	}{
		{
			name: "hybrid", text: hybridMountinfo, wantMode: Hybrid, wantUnified: "/sys/fs/cgroup/unified",
			wantV1: map[string]string{
				"cpu": "/sys/fs/cgroup/cpu", "cpuacct": "/sys/fs/cgroup/cpuacct", "cpuset": "/sys/fs/cgroup/cpuset",
				"memory": "/sys/fs/cgroup/memory", "devices": "/sys/fs/cgroup/devices", "freezer": "/sys/fs/cgroup/freezer",
				"blkio": "/sys/fs/cgroup/blkio", "pids": "/sys/fs/cgroup/pids", "name=systemd": "/sys/fs/cgroup/systemd",
			},
		},
		{
			name: "v1", text: v1Mountinfo, wantMode: V1,
			wantV1: map[string]string{
				"name=systemd": "/sys/fs/cgroup/systemd",
				"cpu":          "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct",
				"net_cls": "/sys/fs/cgroup/net_cls,net_prio", "net_prio": "/sys/fs/cgroup/net_cls,net_prio",
				"memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/pids", "cpuset": "/sys/fs/cgroup/cpuset",
			},
		},
		{
			name: "v2", text: v2Mountinfo, wantMode: V2, wantUnified: "/sys/fs/cgroup",
			wantV1: map[string]string{}, wantRoots: map[string]string{"": "/"},
		},
		{
			name: "v2 with a named v1 hierarchy", wantMode: V2, wantUnified: "/sys/fs/cgroup",
			text:   v2Mountinfo + "50 26 0:40 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n",
			wantV1: map[string]string{"name=systemd": "/sys/fs/cgroup/systemd"},
		},
		{
			name: "nested", text: nestedMountinfo, wantMode: V1,
			wantV1:    map[string]string{"memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/pids"},
			wantRoots: map[string]string{"memory": "/docker/abc", "pids": "/docker/abc"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseMountinfo(strings.NewReader(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			if h.Mode != tt.wantMode || h.Unified != tt.wantUnified {
				t.Errorf("Mode, Unified = %v, %q, want %v, %q", h.Mode, h.Unified, tt.wantMode, tt.wantUnified)
			}
			if !maps.Equal(h.V1, tt.wantV1) {
				t.Errorf("V1 = %v\nwant %v", h.V1, tt.wantV1)
			}
			if tt.wantRoots != nil && !maps.Equal(h.Roots, tt.wantRoots) {
				t.Errorf("Roots = %v, want %v", h.Roots, tt.wantRoots)
			}
		})
	}
}

func TestParseMountinfoNoCgroups(t *testing.T) {
	text := "21 26 0:20 / /proc rw,relatime - proc proc rw\n"
	if _, err := ParseMountinfo(strings.NewReader(text)); err == nil {
		t.Fatal("ParseMountinfo without cgroup mounts succeeded")
	}
}

func TestParseProcCgroup(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    map[string]string
		wantErr bool
	}{
		{
			name: "hybrid",
			text: "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/c6a1ee84\n2:cpuacct:/\n1:cpu:/\n0::/\n",
			want: map[string]string{"name=systemd": "/", "pids": "/", "memory": "/process_api/c6a1ee84",
				"cpuacct": "/", "cpu": "/", "": "/"},
		},
		{
			name: "v1 co-mounted",
			text: "4:cpu,cpuacct:/user.slice\n3:memory:/user.slice/session-1.scope\n1:name=systemd:/user.slice/session-1.scope\n",
			want: map[string]string{"cpu": "/user.slice", "cpuacct": "/user.slice",
				"memory": "/user.slice/session-1.scope", "name=systemd": "/user.slice/session-1.scope"},
		},
		{
			name: "v2",
			text: "0::/user.slice/user-1000.slice/session-2.scope\n",
			want: map[string]string{"": "/user.slice/user-1000.slice/session-2.scope"},
		},
		{
			name: "colon in path",
			text: "0::/test.slice:cri-containerd:abc\n",
			want: map[string]string{"": "/test.slice:cri-containerd:abc"},
		},
		{name: "bad line", text: "0:/\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProcCgroup(strings.NewReader(tt.text))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseProcCgroup: %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && !maps.Equal(got, tt.want) {
				t.Errorf("ParseProcCgroup = %v\nwant %v", got, tt.want)
			}
		})
	}
}

// TestDetectHere reads this machine's /proc, which must show some layout.
func TestDetectHere(t *testing.T) {
	mode, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	self, err := SelfPaths()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mode %v, own cgroups %v", mode, self)
}
