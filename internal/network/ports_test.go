package network

import (
	"reflect"
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
		{"80", "host port chosen for you"},
		{":80", "host port chosen for you"},
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
