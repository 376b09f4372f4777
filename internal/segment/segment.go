// Package segment turns observed cross-segment traffic into segmentation
// advice (docs/segmentation.md): which segment pairs talk and on which
// ports, with a proposed policy that allows exactly that; and the
// capacity of each segment pair and configured link — peak and p95
// bits/s from the per-minute rollups against the link's bandwidth.
package segment

import (
	"context"
	"errors"
	"fmt"

	"github.com/osprey-ndr/osprey/internal/store"
)

// Store is the part of store.Store the analysis reads.
type Store interface {
	Group(ctx context.Context, q store.GroupQuery) ([]store.GroupRow, error)
	PairSeries(ctx context.Context, q store.PairSeriesQuery) ([]store.PairPoint, error)
}

// Config is the segmentation section (internal/config).
type Config struct {
	// WarnUtilisation is the p95 utilisation of a link from which it is
	// reported with a warning (0.6: 60 %).
	WarnUtilisation float64
	// MinSessions is the fewest sessions a (source segment, destination
	// segment, protocol, port) must have had to be recommended.
	MinSessions int
	Links       []Link
}

// Link is a path between two sets of segments with its bandwidth.
// Sessions either way count on it: originated in Src towards Dst, and in
// Dst towards Src.
type Link struct {
	Name         string
	Src, Dst     []string
	BandwidthBps float64
}

// DefaultConfig warns from 60 % and recommends what was seen at least
// three times.
func DefaultConfig() Config {
	return Config{WarnUtilisation: 0.6, MinSessions: 3}
}

// Validate checks the values; errors name the key under segmentation.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	if c.WarnUtilisation <= 0 || c.WarnUtilisation > 1 {
		bad("warn_utilisation", "must be within (0, 1], got %v", c.WarnUtilisation)
	}
	if c.MinSessions < 1 {
		bad("min_sessions", "must be at least 1, got %d", c.MinSessions)
	}
	names := map[string]bool{}
	for i, l := range c.Links {
		key := fmt.Sprintf("links[%d]", i)
		switch {
		case l.Name == "":
			bad(key+".name", "required")
		case names[l.Name]:
			bad(key+".name", "%q names another link too", l.Name)
		}
		names[l.Name] = true
		if len(l.Src) == 0 {
			bad(key+".src", "must name at least one segment")
		}
		if len(l.Dst) == 0 {
			bad(key+".dst", "must name at least one segment")
		}
		for j, s := range append(append([]string(nil), l.Src...), l.Dst...) {
			if s == "" {
				side, k := "src", j
				if j >= len(l.Src) {
					side, k = "dst", j-len(l.Src)
				}
				bad(fmt.Sprintf("%s.%s[%d]", key, side, k), "empty segment name")
			}
		}
		if l.BandwidthBps <= 0 {
			bad(key+".bandwidth", "must be a positive bit rate (1Gbps, 500Mbps), got %v", l.BandwidthBps)
		}
	}
	return errors.Join(errs...)
}
