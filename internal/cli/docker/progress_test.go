package docker

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/minimal-docker/minimal-docker/internal/image"
)

func layerHash(c byte) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: strings.Repeat(string(c), 64)}
}

// lastFrame is what a terminal shows after out: the lines of the frame
// after the last cursor-up, without the carriage returns and erases.
func lastFrame(out string) []string {
	if i := regexp.MustCompile(`\x1b\[\d+A`).FindAllStringIndex(out, -1); len(i) > 0 {
		out = out[i[len(i)-1][1]:]
	}
	out = strings.NewReplacer("\r", "", "\x1b[K", "").Replace(out)
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

// fakeClock advances a second each time it is read.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { c.t = c.t.Add(time.Second); return c.t }

func TestProgressBars(t *testing.T) {
	const width = 72
	a, b, c := layerHash('a'), layerHash('b'), layerHash('c')
	var out bytes.Buffer
	clock := &fakeClock{t: time.Unix(0, 0)}
	p := newProgressBars(&out, func() int { return width }, clock.now)

	p.Update(image.Event{Layer: a, Status: image.StatusExists, Total: 100})
	p.Update(image.Event{Layer: b, Status: image.StatusWaiting, Total: 2_000_000})
	p.Update(image.Event{Layer: c, Status: image.StatusWaiting, Total: 3000})
	p.Update(image.Event{Layer: b, Status: image.StatusDownloading, Current: 0, Total: 2_000_000})
	p.Update(image.Event{Layer: b, Status: image.StatusDownloading, Current: 1_000_000, Total: 2_000_000})

	mid := lastFrame(out.String())
	if len(mid) != 3 {
		t.Fatalf("frame while downloading has %d lines, want 3: %q", len(mid), mid)
	}
	// One second after the first Downloading event, half of 2MB is done.
	want := regexp.MustCompile(`^bbbbbbbbbbbb: Downloading \[=+>\s*\] 1MB/2MB  1MB/s$`)
	if !want.MatchString(mid[1]) {
		t.Errorf("downloading line = %q, want %v", mid[1], want)
	}
	if mid[2] != "cccccccccccc: Waiting" {
		t.Errorf("waiting line = %q", mid[2])
	}

	var wg sync.WaitGroup // Pull reports from several goroutines
	for _, h := range []v1.Hash{b, c} {
		wg.Go(func() {
			p.Update(image.Event{Layer: h, Status: image.StatusExtracting})
			p.Update(image.Event{Layer: h, Status: image.StatusComplete})
		})
	}
	wg.Wait()
	p.done()

	final := lastFrame(out.String())
	wantFinal := []string{
		"aaaaaaaaaaaa: Already exists",
		"bbbbbbbbbbbb: Pull complete",
		"cccccccccccc: Pull complete",
	}
	if strings.Join(final, "\n") != strings.Join(wantFinal, "\n") {
		t.Errorf("final frame:\n%s\nwant:\n%s", strings.Join(final, "\n"), strings.Join(wantFinal, "\n"))
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if len(l) > width+len("\r\x1b[K\x1b[3A") {
			t.Errorf("line wider than the terminal (%d): %q", width, l)
		}
	}
}

// A narrow terminal gets no bar, and no line that wraps.
func TestProgressBarsNarrow(t *testing.T) {
	var out bytes.Buffer
	clock := &fakeClock{t: time.Unix(0, 0)}
	p := newProgressBars(&out, func() int { return 30 }, clock.now)
	p.Update(image.Event{Layer: layerHash('d'), Status: image.StatusDownloading, Current: 500, Total: 1000})
	p.done()
	for _, l := range lastFrame(out.String()) {
		if len(l) > 29 || strings.Contains(l, "[") {
			t.Errorf("line %q: want at most 29 columns and no bar", l)
		}
	}
}

// When stderr is not a terminal the pull prints the plain lines, a line
// per status change, exactly as before the bars.
func TestPullProgressNotTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := newPullProgress(Streams{Out: f, Err: f})
	if _, ok := p.(*progressLines); !ok {
		t.Fatalf("newPullProgress on a file = %T, want *progressLines", p)
	}
	a, b := layerHash('a'), layerHash('b')
	for _, e := range []image.Event{
		{Layer: a, Status: image.StatusExists},
		{Layer: b, Status: image.StatusWaiting},
		{Layer: b, Status: image.StatusDownloading, Current: 1},
		{Layer: b, Status: image.StatusDownloading, Current: 2},
		{Layer: b, Status: image.StatusExtracting},
		{Layer: b, Status: image.StatusComplete},
	} {
		p.Update(e)
	}
	p.done()
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	want := "aaaaaaaaaaaa: Already exists\n" +
		"bbbbbbbbbbbb: Waiting\n" +
		"bbbbbbbbbbbb: Downloading\n" +
		"bbbbbbbbbbbb: Extracting\n" +
		"bbbbbbbbbbbb: Pull complete\n"
	if string(got) != want {
		t.Errorf("stderr:\n%q\nwant:\n%q", got, want)
	}
}
