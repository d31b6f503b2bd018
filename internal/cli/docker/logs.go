package docker

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/jsonlog"
)

// logsFlags are `logs`'s flags (Docker's).
type logsFlags struct {
	follow, timestamps bool
	tail               string
	since, until       string
}

func newLogsCmd(g *globals, st Streams) *cobra.Command {
	var f logsFlags
	c := &cobra.Command{
		Use:   "logs [OPTIONS] CONTAINER",
		Short: "Fetch the logs of a container",
		Long: "Print a container's log (its monitor's json-file log, rotated files\n" +
			"included, oldest first): what it wrote to stdout on stdout, what it wrote\n" +
			"to stderr on stderr. -f follows the log across rotations until the\n" +
			"container stops. --since and --until take a timestamp (RFC 3339, or\n" +
			"2006-01-02[T15:04:05] in local time, or Unix seconds) or a duration\n" +
			"before now (10m, 1h30m).",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return dockerError(logs(g, st, args[0], f))
		},
	}
	c.Flags().BoolVarP(&f.follow, "follow", "f", false, "follow log output")
	c.Flags().BoolVarP(&f.timestamps, "timestamps", "t", false, "show timestamps")
	c.Flags().StringVarP(&f.tail, "tail", "n", "all", "number of lines to show from the end of the logs")
	c.Flags().StringVar(&f.since, "since", "", "show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
	c.Flags().StringVar(&f.until, "until", "", "show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
	return c
}

// logsPoll is how often logs -f looks for more.
const logsPoll = 100 * time.Millisecond

func logs(g *globals, st Streams, ref string, f logsFlags) error {
	now := time.Now()
	since, err := parseLogTime("--since", f.since, now)
	if err != nil {
		return err
	}
	until, err := parseLogTime("--until", f.until, now)
	if err != nil {
		return err
	}
	tail := -1
	if f.tail != "all" {
		if tail, err = strconv.Atoi(f.tail); err != nil || tail < 0 {
			tail = -1 // Docker shows all for a --tail it can't read
		}
	}
	s, err := g.containers()
	if err != nil {
		return err
	}
	c, err := s.Get(ref)
	if err != nil {
		return err
	}
	if c.LogPath == "" {
		return nil // never started: nothing written
	}
	r, err := jsonlog.Open(c.LogPath)
	if err != nil {
		return err
	}
	defer r.Close()
	show := func(e jsonlog.Entry) error {
		if (!since.IsZero() && e.Time.Before(since)) || (!until.IsZero() && !e.Time.Before(until)) {
			return nil
		}
		w := st.Out
		if e.Stream == "stderr" {
			w = st.Err
		}
		line := e.Log
		if f.timestamps {
			line = e.Time.UTC().Format(logTimeFormat) + " " + line
		}
		_, err := io.WriteString(w, line)
		return err
	}
	// What is written so far; the last --tail records of it.
	var kept []jsonlog.Entry
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if tail < 0 {
			if err := show(e); err != nil {
				return err
			}
			continue
		}
		if tail > 0 {
			if len(kept) == tail {
				kept = kept[1:]
			}
			kept = append(kept, e)
		}
	}
	for _, e := range kept {
		if err := show(e); err != nil {
			return err
		}
	}
	if f.follow && (until.IsZero() || until.After(now)) {
		done := func() bool {
			c, err := s.Get(c.ID)
			return err != nil || !(c.State.Running || c.State.Restarting)
		}
		if err := r.Follow(logsPoll, done, show); err != nil {
			return err
		}
	}
	if r.Malformed > 0 {
		fmt.Fprintf(st.Err, "minimal-docker: warning: %s: %d records of the log were not JSON lines, skipped\n", c.LogPath, r.Malformed)
	}
	return nil
}

// logTimeFormat is Docker's for logs -t: RFC 3339 with nine digits always.
const logTimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// parseLogTime reads a --since or --until value as Docker does: empty (no
// bound), a duration before now ("10m"), Unix seconds ("1136073600",
// "1136073600.5"), or a timestamp (RFC 3339, or a date and time without a
// zone, taken in local time).
func parseLogTime(flag, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "eE") {
		whole, frac := math.Modf(secs)
		return time.Unix(int64(whole), int64(frac*1e9)), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid value for %s: %q: want a timestamp (RFC 3339, 2006-01-02[T15:04:05], Unix seconds) or a duration (10m)", flag, v)
}
