package network

import (
	"fmt"
	"net"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestParsePublish(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []PortMapping
	}{
		{"8080:80", []PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}},
		{"127.0.0.1:53:5353/udp", []PortMapping{{HostIP: "127.0.0.1", HostPort: 53, ContainerPort: 5353, Protocol: "udp"}}},
		{"0.0.0.0:1:2/TCP", []PortMapping{{HostPort: 1, ContainerPort: 2, Protocol: "tcp"}}},
		{"9000-9001:80-81", []PortMapping{{HostPort: 9000, ContainerPort: 80, Protocol: "tcp"}, {HostPort: 9001, ContainerPort: 81, Protocol: "tcp"}}},
		{"80", []PortMapping{{ContainerPort: 80, Protocol: "tcp"}}},
		{":53/udp", []PortMapping{{ContainerPort: 53, Protocol: "udp"}}},
		{"127.0.0.1::80", []PortMapping{{HostIP: "127.0.0.1", ContainerPort: 80, Protocol: "tcp"}}},
		{"7000-7001", []PortMapping{{ContainerPort: 7000, Protocol: "tcp"}, {ContainerPort: 7001, Protocol: "tcp"}}},
		{"9000-9002:80", []PortMapping{{ContainerPort: 80, Protocol: "tcp", HostRange: [2]int{9000, 9002}}}},
		{"127.0.0.1:9000-9001:53/udp", []PortMapping{{HostIP: "127.0.0.1", ContainerPort: 53, Protocol: "udp", HostRange: [2]int{9000, 9001}}}},
		{"9000-9000:80", []PortMapping{{HostPort: 9000, ContainerPort: 80, Protocol: "tcp"}}},
	} {
		got, err := ParsePublish(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParsePublish(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if err == nil && len(got) == 1 {
			again, err := ParsePublish(got[0].String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("ParsePublish(%q), its String read again: %+v, %v", tt.in, again, err)
			}
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"0", "container port"},
		{"1.2.3.4::0", "container port"},
		{"8080:80/sctp", "tcp or udp"},
		{"0:80", `"0" is not a port`},
		{"8080:70000", "container port"},
		{"9000-9002:80-81", "same length"},
		{"9002-9000:80-82", "ends before it starts"},
		{"::1:80:80", "IPv6"},
		{"host:80:80", "want an IPv4 address"},
	} {
		if _, err := ParsePublish(tt.in); err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `invalid -p "`+tt.in+`"`) {
			t.Errorf("ParsePublish(%q) = %v, want an error naming it with %q", tt.in, err, tt.want)
		}
	}
}

func TestParseExpose(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []Port
	}{
		{"80", []Port{{80, "tcp"}}},
		{"53/UDP", []Port{{53, "udp"}}},
		{"7000-7002/tcp", []Port{{7000, "tcp"}, {7001, "tcp"}, {7002, "tcp"}}},
	} {
		got, err := ParseExpose(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseExpose(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "80/sctp", "x", "0", "9-8", "70000"} {
		if _, err := ParseExpose(in); err == nil || !strings.Contains(err.Error(), `invalid --expose "`+in+`"`) {
			t.Errorf("ParseExpose(%q) = %v, want an error naming it", in, err)
		}
	}
}

// TestAssignPorts: a mapping without a host port gets a port of the
// ephemeral range that no other container's mapping (on any address of
// the same protocol) nor another of the same container takes; given
// ports are kept.
func TestAssignPorts(t *testing.T) {
	first, last := ephemeralPorts()
	taken := []PortMapping{{HostPort: first, ContainerPort: 1, Protocol: "tcp"}, {HostIP: "127.0.0.1", HostPort: first + 1, ContainerPort: 1, Protocol: "tcp"}}
	got, err := assignPorts([]PortMapping{
		{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		{ContainerPort: 81, Protocol: "tcp"},
		{ContainerPort: 82, Protocol: "tcp"},
		{ContainerPort: 53, Protocol: "udp"},
	}, taken)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].HostPort != 8080 {
		t.Errorf("a given host port changed: %+v", got[0])
	}
	seen := map[string]bool{}
	for _, m := range got[1:] {
		if m.HostPort < first+2 && m.Protocol == "tcp" || m.HostPort < first || m.HostPort > last {
			t.Errorf("%+v: want a free port of %d-%d past the taken %d and %d", m, first, last, first, first+1)
		}
		if k := m.Protocol + strconv.Itoa(m.HostPort); seen[k] {
			t.Errorf("host port %s given twice: %+v", k, got)
		} else {
			seen[k] = true
		}
	}
}

// TestAssignPortsHostRange: a mapping of -p FIRST-LAST:PORT gets the
// first port of its range that no other mapping takes and that nothing
// of the host holds, and an error naming the range when there is none.
func TestAssignPortsHostRange(t *testing.T) {
	// A port P that the test holds (a listener on all addresses), with
	// P+1 and P+2 free now.
	var p int
	for try := 0; try < 20 && p == 0; try++ {
		l, err := net.Listen("tcp4", "0.0.0.0:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		q := l.Addr().(*net.TCPAddr).Port
		if q+2 <= 65535 && bindable(PortMapping{HostPort: q + 1, Protocol: "tcp"}) && bindable(PortMapping{HostPort: q + 2, Protocol: "tcp"}) {
			p = q
		}
	}
	if p == 0 {
		t.Fatal("no listening port with two free ones after it")
	}
	taken := []PortMapping{{HostPort: p + 1, ContainerPort: 1, Protocol: "tcp"}}
	m := PortMapping{ContainerPort: 80, Protocol: "tcp", HostRange: [2]int{p, p + 2}}
	got, err := assignPorts([]PortMapping{m}, taken)
	if err != nil || got[0].HostPort != p+2 {
		t.Errorf("assignPorts(%s) with %d held and %d taken: %+v, %v; want host port %d", m, p, p+1, got, err, p+2)
	}
	m.HostRange = [2]int{p, p + 1}
	_, err = assignPorts([]PortMapping{m}, taken)
	if want := fmt.Sprintf("no free host port in %d-%d for 80/tcp", p, p+1); err == nil || err.Error() != want {
		t.Errorf("assignPorts(%s) with both held or taken: %v, want %q", m, err, want)
	}
}

func TestPortMappingString(t *testing.T) {
	for _, m := range []PortMapping{
		{ContainerPort: 80, Protocol: "tcp"},
		{HostIP: "127.0.0.1", ContainerPort: 53, Protocol: "udp"},
		{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		{HostIP: "127.0.0.1", ContainerPort: 80, Protocol: "tcp", HostRange: [2]int{8000, 8010}},
	} {
		again, err := ParsePublish(m.String())
		if err != nil || len(again) != 1 || again[0] != m {
			t.Errorf("ParsePublish(%q) = %+v, %v; want %+v back", m.String(), again, err, m)
		}
	}
}
