package docker

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// pruneFilter is a prune's --filter flags, Docker's: until= (made before
// a time), label= (has each label given: KEY or KEY=VALUE) and label!=
// (left alone when it has each of those).
type pruneFilter struct {
	until     time.Time
	labels    []string
	notLabels []string
}

// parsePruneFilter reads prune's --filter KEY=VALUE flags (until: a
// timestamp or a duration before now, as logs --until takes).
func parsePruneFilter(flags []string, now time.Time) (pruneFilter, error) {
	var f pruneFilter
	untils := 0
	for _, fl := range flags {
		key, value, ok := strings.Cut(fl, "=")
		if !ok {
			return f, errors.New("bad format of filter (expected name=value)")
		}
		switch strings.TrimSpace(key) {
		case "until":
			if untils++; untils > 1 {
				return f, errors.New("more than one until filter specified")
			}
			t, err := parseLogTime("until", value, now)
			if err != nil {
				return f, err
			}
			f.until = t
		case "label":
			f.labels = append(f.labels, value)
		case "label!":
			f.notLabels = append(f.notLabels, value)
		default:
			return f, fmt.Errorf("invalid filter '%s' (prune filters on until, label and label!)", key)
		}
	}
	return f, nil
}

// keeps reports whether something made at created with labels passes
// the filter: made before until, with every label= and not with every
// label!= (Docker's matchLabels).
func (f pruneFilter) keeps(created time.Time, labels map[string]string) bool {
	if !f.until.IsZero() && created.After(f.until) {
		return false
	}
	for _, l := range f.labels {
		if !labelMatches(labels, l) {
			return false
		}
	}
	if len(f.notLabels) == 0 {
		return true
	}
	for _, l := range f.notLabels {
		if !labelMatches(labels, l) {
			return true
		}
	}
	return false
}
