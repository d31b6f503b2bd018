package docker

import (
	"bytes"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/minimal-docker/minimal-docker/internal/image"
)

func TestHumanSize(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0B"}, {512, "512B"}, {999, "999B"}, {1000, "1kB"}, {1500, "1.5kB"},
		{4261550, "4.26MB"}, {77_800_000, "77.8MB"}, {1_230_000_000, "1.23GB"},
	} {
		if got := humanSize(tc.n); got != tc.want {
			t.Errorf("humanSize(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{500 * time.Millisecond, "Less than a second"},
		{time.Second, "1 second"},
		{30 * time.Second, "30 seconds"},
		{90 * time.Second, "About a minute"},
		{5 * time.Minute, "5 minutes"},
		{65 * time.Minute, "About an hour"},
		{3 * time.Hour, "3 hours"},
		{47 * time.Hour, "47 hours"},
		{4 * 24 * time.Hour, "4 days"},
		{20 * 24 * time.Hour, "2 weeks"},
		{100 * 24 * time.Hour, "3 months"},
		{3 * 365 * 24 * time.Hour, "3 years"},
	} {
		if got := humanDuration(tc.d); got != tc.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestFamiliarAndSplitRef(t *testing.T) {
	for _, tc := range []struct {
		ref, familiar, repo, tag string
	}{
		{"docker.io/library/busybox:latest", "busybox:latest", "busybox", "latest"},
		{"docker.io/me/app:1", "me/app:1", "me/app", "1"},
		{"127.0.0.1:5000/t/img:v2", "127.0.0.1:5000/t/img:v2", "127.0.0.1:5000/t/img", "v2"},
		{"127.0.0.1:5000/img@sha256:abcd", "127.0.0.1:5000/img@sha256:abcd", "127.0.0.1:5000/img", "sha256:abcd"},
		{"127.0.0.1:5000/img", "127.0.0.1:5000/img", "127.0.0.1:5000/img", ""},
	} {
		f := image.Familiar(tc.ref)
		if f != tc.familiar {
			t.Errorf("image.Familiar(%q) = %q, want %q", tc.ref, f, tc.familiar)
		}
		if repo, tag := splitRef(f); repo != tc.repo || tag != tc.tag {
			t.Errorf("splitRef(%q) = %q, %q, want %q, %q", f, repo, tag, tc.repo, tc.tag)
		}
	}
}

// testImages are two images: one tagged twice with a digest, one dangling.
func testImages(now time.Time) []*image.Image {
	id1 := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a1", 32)}
	id2 := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("b2", 32)}
	return []*image.Image{
		{
			ID: id1, Created: now.Add(-5 * time.Minute),
			Layers:      []image.Layer{{Size: 4_000_000}, {Size: 261_550}},
			RepoTags:    []string{"docker.io/library/busybox:latest", "127.0.0.1:5000/bb:v1"},
			RepoDigests: []string{"docker.io/library/busybox@sha256:" + strings.Repeat("d", 64)},
		},
		{ID: id2, Created: now.Add(-3 * time.Hour), Layers: []image.Layer{{Size: 512}}},
	}
}

func TestWriteImages(t *testing.T) {
	now := time.Now()
	digest := "sha256:" + strings.Repeat("d", 64)
	for _, tc := range []struct {
		name string
		f    imagesFlags
		want string
	}{
		{"table", imagesFlags{}, "" +
			"REPOSITORY          TAG       IMAGE ID       CREATED         SIZE\n" +
			"busybox             latest    a1a1a1a1a1a1   5 minutes ago   4.26MB\n" +
			"127.0.0.1:5000/bb   v1        a1a1a1a1a1a1   5 minutes ago   4.26MB\n" +
			"<none>              <none>    b2b2b2b2b2b2   3 hours ago     512B\n"},
		{"quiet", imagesFlags{quiet: true}, "a1a1a1a1a1a1\na1a1a1a1a1a1\nb2b2b2b2b2b2\n"},
		{"template", imagesFlags{format: "{{.Repository}}:{{.Tag}} {{.Digest}}"},
			"busybox:latest " + digest + "\n127.0.0.1:5000/bb:v1 <none>\n<none>:<none> <none>\n"},
		{"table template", imagesFlags{format: "table {{.ID}}\t{{.Size}}"}, "" +
			"IMAGE ID       SIZE\n" +
			"a1a1a1a1a1a1   4.26MB\n" +
			"a1a1a1a1a1a1   4.26MB\n" +
			"b2b2b2b2b2b2   512B\n"},
		{"no-trunc quiet", imagesFlags{quiet: true, noTrunc: true},
			"sha256:" + strings.Repeat("a1", 32) + "\nsha256:" + strings.Repeat("a1", 32) + "\nsha256:" + strings.Repeat("b2", 32) + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			rows := imageRows(testImages(now), tc.f.digests, tc.f.noTrunc, now)
			if err := writeImages(&b, rows, tc.f); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tc.want)
			}
		})
	}
}

func TestWriteImagesDigestsColumn(t *testing.T) {
	now := time.Now()
	var b bytes.Buffer
	if err := writeImages(&b, imageRows(testImages(now), true, false, now), imagesFlags{digests: true}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if !strings.HasPrefix(lines[0], "REPOSITORY") || !strings.Contains(lines[0], "DIGEST") {
		t.Errorf("header %q has no DIGEST column", lines[0])
	}
	if !strings.Contains(lines[1], "sha256:"+strings.Repeat("d", 64)) {
		t.Errorf("busybox row %q has no digest", lines[1])
	}
}

func TestWriteImagesJSON(t *testing.T) {
	now := time.Now()
	var b bytes.Buffer
	if err := writeImages(&b, imageRows(testImages(now), false, false, now), imagesFlags{format: "json"}); err != nil {
		t.Fatal(err)
	}
	first := strings.Split(b.String(), "\n")[0]
	for _, want := range []string{`"Repository":"busybox"`, `"Tag":"latest"`, `"ID":"a1a1a1a1a1a1"`, `"Size":"4.26MB"`, `"CreatedSince":"5 minutes ago"`} {
		if !strings.Contains(first, want) {
			t.Errorf("json line %s lacks %s", first, want)
		}
	}
}

func TestWriteImagesBadFormat(t *testing.T) {
	for _, format := range []string{"{{.Nope}}", "{{.ID"} {
		var b bytes.Buffer
		err := writeImages(&b, imageRows(testImages(time.Now()), false, false, time.Now()), imagesFlags{format: format})
		if err == nil || !strings.Contains(err.Error(), "--format") {
			t.Errorf("format %q: err = %v, want an error naming --format", format, err)
		}
	}
}
