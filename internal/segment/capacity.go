package segment

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/store"
)

// Load is the throughput of a configured link or of a segment pair
// over the range, in bits/s of one-minute averages: bytes both ways in a
// minute × 8 / 60. A pair without a link has no bandwidth, utilisation 0
// and never a warning.
type Load struct {
	Name         string  `json:"name"`
	Src          string  `json:"src"`
	Dst          string  `json:"dst"`
	BandwidthBps float64 `json:"bandwidth_bps"`
	PeakBps      float64 `json:"peak_bps"`
	P95Bps       float64 `json:"p95_bps"`
	// Utilisation is P95Bps / BandwidthBps: the load the link carried
	// for all but 5 % of the minutes, so that one burst does not warn.
	// It exceeds 1 when the traffic exceeded the bandwidth.
	Utilisation float64 `json:"utilisation"`
	Warning     bool    `json:"warning"`
}

// CapacityReport is the configured links first, in configuration order,
// then the cross-segment pairs no link covers, highest p95 first.
type CapacityReport struct {
	Items []Load `json:"items"`
}

// Capacity reads the scope's per-minute segment rollups. Minutes of the
// range without traffic count as zero in the p95: the range is
// the minutes that start in [since, until) (until defaults to now;
// without since the range starts at the first minute with traffic).
func Capacity(ctx context.Context, st Store, sc store.Scope, cfg Config, now time.Time) (CapacityReport, error) {
	if sc.Until.IsZero() {
		sc.Until = now
	}
	pts, err := st.PairSeries(ctx, store.PairSeriesQuery{Scope: sc})
	if err != nil {
		return CapacityReport{}, fmt.Errorf("segmentation capacity: %w", err)
	}
	first := ceilMinute(sc.Since)
	if sc.Since.IsZero() && len(pts) > 0 {
		first = pts[0].Time
	}
	minutes := int(ceilMinute(sc.Until).Sub(first) / time.Minute)

	type pk struct{ src, dst string }
	pairs := map[pk]map[time.Time]uint64{}
	links := make([]map[time.Time]uint64, len(cfg.Links))
	for i := range links {
		links[i] = map[time.Time]uint64{}
	}
	for _, p := range pts {
		if p.Src == "" || p.Dst == "" {
			continue
		}
		covered := false
		for i, l := range cfg.Links {
			if (slices.Contains(l.Src, p.Src) && slices.Contains(l.Dst, p.Dst)) || (slices.Contains(l.Src, p.Dst) && slices.Contains(l.Dst, p.Src)) {
				links[i][p.Time] += p.Bytes
				covered = true
			}
		}
		if covered || p.Src == p.Dst {
			continue
		}
		k := pk{p.Src, p.Dst}
		if pairs[k] == nil {
			pairs[k] = map[time.Time]uint64{}
		}
		pairs[k][p.Time] += p.Bytes
	}
	out := CapacityReport{Items: []Load{}}
	for i, l := range cfg.Links {
		c := Load{Name: l.Name, Src: strings.Join(l.Src, ","), Dst: strings.Join(l.Dst, ","), BandwidthBps: l.BandwidthBps}
		c.PeakBps, c.P95Bps = peakP95(links[i], minutes)
		c.Utilisation = c.P95Bps / l.BandwidthBps
		c.Warning = c.Utilisation >= cfg.WarnUtilisation
		out.Items = append(out.Items, c)
	}
	var rest []Load
	for k, byMinute := range pairs {
		c := Load{Name: k.src + " → " + k.dst, Src: k.src, Dst: k.dst}
		c.PeakBps, c.P95Bps = peakP95(byMinute, minutes)
		rest = append(rest, c)
	}
	slices.SortFunc(rest, func(a, b Load) int {
		return cmp.Or(cmp.Compare(b.P95Bps, a.P95Bps), cmp.Compare(b.PeakBps, a.PeakBps), cmp.Compare(a.Src, b.Src), cmp.Compare(a.Dst, b.Dst))
	})
	out.Items = append(out.Items, rest...)
	return out, nil
}

// Bps is a minute's bytes as bits per second.
func Bps(bytes uint64) float64 { return float64(bytes) * 8 / 60 }

// peakP95 is the largest minute and the 95th percentile (nearest rank:
// the ⌈0.95·n⌉-th smallest) of n minutes, those not in byMinute zero.
func peakP95(byMinute map[time.Time]uint64, n int) (peak, p95 float64) {
	vals := make([]uint64, 0, len(byMinute))
	for _, b := range byMinute {
		vals = append(vals, b)
	}
	slices.Sort(vals)
	n = max(n, len(vals))
	if n == 0 {
		return 0, 0
	}
	zeros := n - len(vals)
	rank := (95*n + 99) / 100 // 1-based, in integers: 0.95·n is inexact in floats
	if len(vals) > 0 {
		peak = Bps(vals[len(vals)-1])
	}
	if rank > zeros {
		p95 = Bps(vals[rank-1-zeros])
	}
	return peak, p95
}

func ceilMinute(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	if m := t.Truncate(time.Minute); !m.Equal(t) {
		return m.Add(time.Minute)
	}
	return t
}
