package docker

import (
	"strings"
	"testing"
	"time"
)

// TestPruneFilter: until= (a duration before now, or a timestamp), label=
// (each must match), label!= (left alone when each matches), Docker's;
// bad filters are refused.
func TestPruneFilter(t *testing.T) {
	now := time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC)
	old, fresh := now.Add(-48*time.Hour), now.Add(-time.Hour)
	web := map[string]string{"tier": "front", "app": "web"}
	for _, tc := range []struct {
		filters []string
		created time.Time
		labels  map[string]string
		want    bool
	}{
		{nil, fresh, nil, true},
		{[]string{"until=24h"}, old, nil, true},
		{[]string{"until=24h"}, fresh, nil, false},
		{[]string{"until=2026-12-08T00:00:00Z"}, fresh, nil, false},
		{[]string{"until=2026-12-08T00:00:00Z"}, old, nil, true},
		{[]string{"label=tier"}, fresh, web, true},
		{[]string{"label=tier=back"}, fresh, web, false},
		{[]string{"label=tier=front", "label=app=web"}, fresh, web, true},
		{[]string{"label=tier=front", "label=app=db"}, fresh, web, false},
		{[]string{"label!=tier=front"}, fresh, web, false},
		{[]string{"label!=tier=back"}, fresh, web, true},
		{[]string{"label!=tier", "label!=keep"}, fresh, web, true}, // not each matches
		{[]string{"label!=keep"}, fresh, nil, true},
		{[]string{"until=24h", "label=app"}, old, web, true},
	} {
		f, err := parsePruneFilter(tc.filters, now)
		if err != nil {
			t.Fatalf("%q: %v", tc.filters, err)
		}
		if got := f.keeps(tc.created, tc.labels); got != tc.want {
			t.Errorf("%q on %v %v: %v, want %v", tc.filters, tc.created, tc.labels, got, tc.want)
		}
	}
	for _, tc := range []struct {
		filters []string
		want    string
	}{
		{[]string{"dangling=true"}, "invalid filter 'dangling'"},
		{[]string{"until"}, "bad format of filter"},
		{[]string{"until=soon"}, `invalid value for until: "soon"`},
		{[]string{"until=1h", "until=2h"}, "more than one until filter specified"},
	} {
		if _, err := parsePruneFilter(tc.filters, now); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error with %q", tc.filters, err, tc.want)
		}
	}
}
