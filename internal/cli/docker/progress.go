//go:build !lean

package docker

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/term"

	"github.com/minimal-docker/minimal-docker/internal/image"
)

// pullProgress hears a pull's events and shows them; done is called once
// the pull has returned, whatever it returned.
type pullProgress interface {
	image.Progress
	done()
}

// newPullProgress picks how a pull shows its progress on st.Err: bars
// redrawn in place on a terminal, else a plain line per status change.
func newPullProgress(st Streams) pullProgress {
	fd := int(st.Err.Fd())
	if !term.IsTerminal(fd) {
		return newProgressLines(st)
	}
	return newProgressBars(st.Err, func() int {
		if w, _, err := term.GetSize(fd); err == nil && w > 0 {
			return w
		}
		return 80
	}, time.Now)
}

func (p *progressLines) done() {}

// Drawing the bars. A line per layer, in the order the pull first reported
// them: "<short id>: <status>", and while downloading a bar, the bytes done
// of the total and the average speed. Each frame moves the cursor back up
// over the last one and rewrites its lines; a line is cut to the
// terminal's width so that none wraps (a wrapped line would throw the
// count off).
const (
	barRedrawEvery = 100 * time.Millisecond // byte counts redraw at most this often
	barMaxWidth    = 50                     // Docker's bar width
	barMinWidth    = 10                     // narrower than this, no bar
)

// progressBars is the terminal's renderer. Pull calls Update from several
// goroutines.
type progressBars struct {
	w     io.Writer
	width func() int       // the terminal's columns
	now   func() time.Time // the clock, for the speed

	mu     sync.Mutex
	order  []v1.Hash
	layers map[v1.Hash]*barLayer
	drawn  int       // lines the last frame drew
	drawAt time.Time // when it drew them
}

type barLayer struct {
	status         image.Status
	current, total int64
	started        time.Time // first Downloading event, for the speed
}

func newProgressBars(w io.Writer, width func() int, now func() time.Time) *progressBars {
	return &progressBars{w: w, width: width, now: now, layers: map[v1.Hash]*barLayer{}}
}

func (p *progressBars) Update(e image.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	l := p.layers[e.Layer]
	if l == nil {
		l = &barLayer{}
		p.layers[e.Layer] = l
		p.order = append(p.order, e.Layer)
	}
	changed := l.status != e.Status
	if e.Status == image.StatusDownloading && l.started.IsZero() {
		l.started = now
	}
	l.status, l.current, l.total = e.Status, e.Current, e.Total
	if changed || now.Sub(p.drawAt) >= barRedrawEvery {
		p.draw(now)
	}
}

// done draws the final frame, which stays on screen.
func (p *progressBars) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.order) > 0 {
		p.draw(p.now())
	}
}

func (p *progressBars) draw(now time.Time) {
	width := p.width()
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn)
	}
	for _, h := range p.order {
		line := p.layers[h].line(shortID(h.Hex), width, now)
		b.WriteString("\r" + line + "\x1b[K\n")
	}
	p.drawn = len(p.order)
	p.drawAt = now
	// A write error (stderr closed) is not the pull's: the plain lines
	// ignore it too.
	io.WriteString(p.w, b.String())
}

// line is the layer's line, at most width-1 columns (all of it ASCII).
func (l *barLayer) line(id string, width int, now time.Time) string {
	head := id + ": " + string(l.status)
	if l.status != image.StatusDownloading {
		return cut(head, width-1)
	}
	tail := fmt.Sprintf("%s/%s", humanSize(l.current), humanSize(l.total))
	if secs := now.Sub(l.started).Seconds(); secs > 0 {
		tail += "  " + humanSize(int64(float64(l.current)/secs)) + "/s"
	}
	bar := width - 1 - len(head) - len(tail) - len(" [] ")
	if bar > barMaxWidth {
		bar = barMaxWidth
	}
	if bar < barMinWidth || l.total <= 0 {
		return cut(head+" "+tail, width-1)
	}
	done := int(int64(bar) * min(l.current, l.total) / l.total)
	arrow := "" // Docker's: "====>" while under way, all "=" when done
	switch {
	case done >= bar:
		arrow = strings.Repeat("=", bar)
	case done > 0:
		arrow = strings.Repeat("=", done-1) + ">"
	}
	return cut(fmt.Sprintf("%s [%-*s] %s", head, bar, arrow, tail), width-1)
}

func cut(s string, n int) string {
	if n > 0 && len(s) > n {
		return s[:n]
	}
	return s
}
