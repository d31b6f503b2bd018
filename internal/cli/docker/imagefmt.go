package docker

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/minimal-docker/minimal-docker/internal/cli"
	"github.com/minimal-docker/minimal-docker/internal/image"
)

// What the image and container verbs print, in Docker's spelling: references without
// docker.io/library/, 12-hex ids, sizes in SI units with 3 significant
// digits, ages as "N minutes ago".

// splitRef splits a familiar reference into its repository and its tag or
// digest ("repo:tag" or "repo@sha256:..."). The tag's colon is the last one
// after the last slash (a registry may have a port).
func splitRef(ref string) (repo, tagOrDigest string) {
	if i := strings.Index(ref, "@"); i >= 0 {
		return ref[:i], ref[i+1:]
	}
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		return ref[:i], ref[i+1:]
	}
	return ref, ""
}

// shortID is the 12 hex digits Docker shows of an id or digest.
func shortID(hex string) string {
	if len(hex) > 12 {
		return hex[:12]
	}
	return hex
}

// humanSize is Docker's size (go-units HumanSizeWithPrecision(n, 3)):
// decimal units, 3 significant digits: "4.26MB", "512B", "1.5kB".
func humanSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"}
	size, i := float64(n), 0
	for size >= 1000 && i < len(units)-1 {
		size /= 1000
		i++
	}
	return fmt.Sprintf("%.3g%s", size, units[i])
}

// humanDuration is Docker's age (go-units HumanDuration): "Less than a
// second", "About a minute", "5 minutes", "About an hour", "3 hours",
// "4 days", "2 weeks", "3 months", "2 years".
func humanDuration(d time.Duration) string {
	seconds := int(d.Seconds())
	minutes := int(d.Minutes())
	hours := int(d.Hours() + 0.5)
	switch {
	case seconds < 1:
		return "Less than a second"
	case seconds == 1:
		return "1 second"
	case seconds < 60:
		return fmt.Sprintf("%d seconds", seconds)
	case minutes == 1:
		return "About a minute"
	case minutes < 60:
		return fmt.Sprintf("%d minutes", minutes)
	case hours == 1:
		return "About an hour"
	case hours < 48:
		return fmt.Sprintf("%d hours", hours)
	case hours < 24*7*2:
		return fmt.Sprintf("%d days", hours/24)
	case hours < 24*30*2:
		return fmt.Sprintf("%d weeks", hours/24/7)
	case hours < 24*365*2:
		return fmt.Sprintf("%d months", hours/24/30)
	}
	return fmt.Sprintf("%d years", int(d.Hours())/24/365)
}

// imageError is what an image verb fails with: Docker's "No such image:
// REF" for a reference the store does not have, and exit status 1 (the
// Docker CLI's, for every verb but run).
func imageError(ref string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, image.ErrNotFound) {
		err = fmt.Errorf("Error response from daemon: No such image: %s", ref)
	}
	return &cli.Status{Code: 1, Err: err}
}

// printErr prints an image verb's error for ref as Execute would.
func printErr(st Streams, ref string, err error) {
	fmt.Fprintf(st.Err, "minimal-docker: %v\n", imageError(ref, err))
}

// exitOne is the status of a verb that went on past errors it printed.
var exitOne = &cli.Status{Code: 1}

// writeList prints a list verb's rows (images, ps) with format, already
// resolved from the verb's flags: a Go template per row (\t and \n as
// typed standing for a tab and a newline), "table TEMPLATE"
// (the template's fields' headers first, then the rows, in Docker's
// tabwriter columns), or "json" (an object per line). asGiven is the
// --format flag, for the errors. header is what a table's header line is
// the template run on: the fields' headers by the same names.
func writeList[R any](w io.Writer, format, asGiven string, header any, rows []R) error {
	if format == "json" {
		format = "{{json .}}"
	}
	table := strings.HasPrefix(format, "table")
	if table {
		format = strings.TrimSpace(strings.TrimPrefix(format, "table"))
	}
	// A \t or \n typed in the shell (in single quotes, as the Docker
	// documentation's examples are) is a tab or a newline, as Docker's.
	format = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(format)
	tmpl, err := template.New("format").Option("missingkey=error").Funcs(templateFuncs()).Parse(format)
	if err != nil {
		return fmt.Errorf("invalid --format %q: %w", asGiven, err)
	}
	// One write at the end, not one per cell (ps -a of 100 containers).
	bw := bufio.NewWriter(w)
	var out io.Writer = bw
	var tw *tabwriter.Writer
	if table {
		tw = tabwriter.NewWriter(bw, 10, 1, 3, ' ', 0) // Docker's table
		out = tw
	}
	var b bytes.Buffer
	line := func(v any) error {
		b.Reset()
		if err := tmpl.Execute(&b, v); err != nil {
			return fmt.Errorf("--format %q: %w", asGiven, err)
		}
		b.WriteByte('\n')
		_, err := out.Write(b.Bytes())
		return err
	}
	if table {
		if err := line(header); err != nil {
			return err
		}
	}
	for _, r := range rows {
		if err := line(r); err != nil {
			return err
		}
	}
	if tw != nil {
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// templateFuncs are the functions of the --format templates of every
// verb (ps, images, inspect, stats), the Docker CLI's: json, join, split,
// lower, upper, title, truncate, pad, println. A function, not a map built
// at init, which every command would pay.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"json":  toJSON,
		"join":  join,
		"split": strings.Split,
		"lower": strings.ToLower,
		"upper": strings.ToUpper,
		"title": func(s string) string {
			words := strings.Fields(s)
			for i, w := range words {
				words[i] = strings.ToUpper(w[:1]) + w[1:]
			}
			return strings.Join(words, " ")
		},
		"truncate": func(s string, n int) string {
			if r := []rune(s); len(r) > n {
				return string(r[:n])
			}
			return s
		},
		"pad": func(s string, before, after int) string {
			return strings.Repeat(" ", before) + s + strings.Repeat(" ", after)
		},
		"println": fmt.Sprintln,
	}
}

// join is strings.Join, also of the []any that a list of JSON strings
// decodes to (inspect -f runs on decoded JSON).
func join(list any, sep string) (string, error) {
	switch l := list.(type) {
	case []string:
		return strings.Join(l, sep), nil
	case []any:
		s := make([]string, len(l))
		for i, v := range l {
			s[i] = fmt.Sprint(v)
		}
		return strings.Join(s, sep), nil
	}
	return "", fmt.Errorf("join: want a list, got %T", list)
}
