package docker

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseVolumeFlag(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		want volumeMount
		err  string // a substring of the error; "" for none
	}{
		{"/host:/ctr", volumeMount{kind: kindBind, source: "/host", target: "/ctr", createSource: true}, ""},
		{"/host/:/ctr:ro", volumeMount{kind: kindBind, source: "/host", target: "/ctr", readonly: true, createSource: true}, ""},
		{"/host:/ctr:rw", volumeMount{kind: kindBind, source: "/host", target: "/ctr", createSource: true}, ""},
		{"data:/ctr", volumeMount{kind: kindVolume, source: "data", target: "/ctr"}, ""},
		{"my_vol.1-x:/ctr:ro", volumeMount{kind: kindVolume, source: "my_vol.1-x", target: "/ctr", readonly: true}, ""},
		{"/ctr", volumeMount{kind: kindVolume, target: "/ctr"}, ""},
		{"/ctr:ro", volumeMount{kind: kindVolume, target: "/ctr", readonly: true}, ""},
		{"data:ctr", volumeMount{}, `invalid -v "data:ctr": invalid mount path: "ctr" mount path must be absolute`},
		{"ctr", volumeMount{}, `invalid -v "ctr": invalid mount path`},
		{"data:/", volumeMount{}, `invalid -v "data:/": destination can't be '/'`},
		{"/a:/b:rx", volumeMount{}, `invalid -v "/a:/b:rx": invalid mode "rx"`},
		{"/a:/b:ro:x", volumeMount{}, "too many colons"},
		{"a/b:/ctr", volumeMount{}, `invalid -v "a/b:/ctr": "a/b" includes invalid characters for a local volume name`},
		{"./rel:/ctr", volumeMount{}, "includes invalid characters"},
		{"x:/ctr", volumeMount{}, `"x" includes invalid characters`}, // two characters at least
		{":/ctr:ro", volumeMount{}, "the source is empty"},
		{"", volumeMount{}, `invalid -v "": the container path is empty`},
	} {
		t.Run(tc.arg, func(t *testing.T) {
			got, err := parseVolumeFlag(tc.arg)
			checkParsed(t, got, err, tc.want, tc.err)
		})
	}
}

func TestParseMountFlag(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		want volumeMount
		err  string
	}{
		{"type=bind,source=/h,target=/c", volumeMount{kind: kindBind, source: "/h", target: "/c"}, ""},
		{"type=bind,src=/h,dst=/c,readonly", volumeMount{kind: kindBind, source: "/h", target: "/c", readonly: true}, ""},
		{"type=bind,src=/h,destination=/c,ro=false", volumeMount{kind: kindBind, source: "/h", target: "/c"}, ""},
		{"source=data,target=/c", volumeMount{kind: kindVolume, source: "data", target: "/c"}, ""},
		{"type=volume,target=/c,readonly=true", volumeMount{kind: kindVolume, target: "/c", readonly: true}, ""},
		{"type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770", volumeMount{kind: kindTmpfs, target: "/t", tmpfs: []string{"size=1m", "mode=1770"}}, ""},
		{"type=tmpfs,dst=/t", volumeMount{kind: kindTmpfs, target: "/t"}, ""},
		{"type=bind,source=/h", volumeMount{}, `invalid --mount "type=bind,source=/h": target is required`},
		{"type=bind,target=/c", volumeMount{}, "source is required when type is bind"},
		{"type=bind,source=rel,target=/c", volumeMount{}, "must be an absolute path"},
		{"type=nfs,target=/c", volumeMount{}, `invalid type "nfs"`},
		{"type=volume,source=a/b,target=/c", volumeMount{}, "includes invalid characters"},
		{"type=tmpfs,source=x,target=/c", volumeMount{}, "source is not allowed for type=tmpfs"},
		{"type=volume,target=/c,tmpfs-size=1m", volumeMount{}, "only for type=tmpfs"},
		{"type=tmpfs,target=/c,tmpfs-size=lots", volumeMount{}, `invalid tmpfs-size "lots"`},
		{"type=tmpfs,target=/c,tmpfs-mode=999", volumeMount{}, `invalid tmpfs-mode "999"`},
		{"type=bind,source=/h,target=c", volumeMount{}, "mount path must be absolute"},
		{"type=bind,source=/h,target=/", volumeMount{}, "destination can't be '/'"},
		{"type=bind,source=/h,target=/c,foo=bar", volumeMount{}, `unexpected key "foo"`},
		{"type=bind,source=/h,target=/c,readonly=maybe", volumeMount{}, "invalid value for readonly"},
		{"type", volumeMount{}, `invalid field "type": must be a key=value pair`},
	} {
		t.Run(tc.arg, func(t *testing.T) {
			got, err := parseMountFlag(tc.arg)
			checkParsed(t, got, err, tc.want, tc.err)
		})
	}
}

func TestParseMountsDuplicateTarget(t *testing.T) {
	_, err := parseMounts([]string{"/a:/c"}, []string{"type=tmpfs,target=/c/"})
	if err == nil || !strings.Contains(err.Error(), "duplicate mount point /c") {
		t.Fatalf("got %v, want a duplicate mount point error", err)
	}
}

func checkParsed(t *testing.T, got volumeMount, err error, want volumeMount, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error %v, want one containing %q", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// The image's VOLUME paths become anonymous volumes to copy up, in path
// order, but where -v, --mount or --tmpfs mounts already.
func TestWithImageVolumes(t *testing.T) {
	user := []volumeMount{{kind: kindVolume, source: "mine", target: "/data"}}
	got := withImageVolumes(user,
		map[string]struct{}{"/var/lib/db/": {}, "/data": {}, "/cache": {}, "/tmp": {}, "rel": {}, "/": {}},
		[]string{"/tmp:size=1m"})
	want := []volumeMount{
		{kind: kindVolume, source: "mine", target: "/data"},
		{kind: kindVolume, target: "/cache", copyUp: true},
		{kind: kindVolume, target: "/var/lib/db", copyUp: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("withImageVolumes:\n got %+v\nwant %+v", got, want)
	}
}
