package behave

import (
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// ExfilConfig configures the exfiltration detector.
type ExfilConfig struct {
	Enabled bool `yaml:"enabled"`
	// Window is the period over which a source's bytes out are summed
	// and compared with its baseline.
	Window time.Duration `yaml:"window"`
	// Sigmas is k in the threshold mean + k·σ.
	Sigmas float64 `yaml:"sigmas"`
	// Alpha is the weight of the newest window in the moving baseline
	// (EWMA); 0.1 remembers about the last ten windows.
	Alpha float64 `yaml:"alpha"`
	// Warmup is how many windows a source must have been seen for before
	// it can alert: until then its baseline means nothing.
	Warmup int `yaml:"warmup"`
	// MinBytes is the absolute floor: no alert below it, however quiet
	// the source usually is.
	MinBytes uint64 `yaml:"min_bytes"`
	// MaxSources bounds the sources with a baseline; MaxDestinations the
	// destinations remembered per source for novelty; MaxLive the open
	// metered flows whose interim records are turned into deltas.
	MaxSources      int `yaml:"max_sources"`
	MaxDestinations int `yaml:"max_destinations"`
	MaxLive         int `yaml:"max_live"`
	// PeakWindows: a window whose bytes went mostly to destinations the
	// source knew must also reach twice its largest window among the
	// last PeakWindows to fire. A nightly backup is one window a day
	// that a moving mean and deviation cannot represent; the same
	// upload to the same place every night is not exfiltration, twice
	// the largest of two days may be. 0 turns the check off.
	PeakWindows int `yaml:"peak_windows"`
}

// peakFactor is how far past its recent peak a source's window to
// known destinations must go to fire.
const peakFactor = 2

func defaultExfilConfig() ExfilConfig {
	return ExfilConfig{Enabled: true, Window: time.Hour, Sigmas: 4, Alpha: 0.1, Warmup: 24,
		MinBytes: 100 << 20, MaxSources: 10000, MaxDestinations: 256, MaxLive: 100000, PeakWindows: 48}
}

// Validate names the key at fault.
func (c ExfilConfig) Validate() error {
	switch {
	case c.Window <= 0:
		return fmt.Errorf("window: %v, want a positive duration", c.Window)
	case c.Sigmas <= 0:
		return fmt.Errorf("sigmas: %v, want above 0", c.Sigmas)
	case c.Alpha <= 0 || c.Alpha > 1:
		return fmt.Errorf("alpha: %v, want above 0 and at most 1", c.Alpha)
	case c.Warmup < 1:
		return fmt.Errorf("warmup: %d, want at least 1", c.Warmup)
	case c.MaxSources < 1 || c.MaxDestinations < 1 || c.MaxLive < 1:
		return fmt.Errorf("max_sources, max_destinations, max_live: want at least 1 each")
	case c.PeakWindows < 0:
		return fmt.Errorf("peak_windows: %d, want 0 (off) or more", c.PeakWindows)
	}
	return nil
}

// maxGapWindows caps the empty windows folded into a baseline after a
// silence: beyond it the baseline has decayed to the silence anyway.
const maxGapWindows = 64

type exfilSource struct {
	start          time.Time // of the current window
	bytes, novel   float64   // this window: out, and out to destinations not seen before
	mean, variance float64
	windows        int
	// known are the destinations sent to before: by server name when
	// the DPI saw one (object storage and CDN addresses rotate), else
	// by address.
	known    map[destination]struct{}
	recent   []float64 // the totals of the last PeakWindows windows, a ring
	recentAt int
	top      netip.Addr // destination of the window's largest transfer
	topBytes float64
	examples []ref
	fired    bool
}

// exfiltration compares each internal source's bytes sent outside per
// window with its own moving baseline (T1048).
type exfiltration struct {
	cfg     ExfilConfig
	sources map[host]*exfilSource
	// live holds the bytes already counted of metered flows that wrote
	// interim records: their counters are cumulative.
	live    map[string]uint64
	evicted uint64
}

func newExfiltration(cfg ExfilConfig) *exfiltration {
	return &exfiltration{cfg: cfg, sources: make(map[host]*exfilSource), live: make(map[string]uint64)}
}

func (d *exfiltration) Name() string      { return "exfiltration" }
func (d *exfiltration) Evictions() uint64 { return d.evicted }

func (d *exfiltration) Session(s *schema.Session, report func(detect.Report)) {
	if !outbound(s) || reply(s) {
		return
	}
	sent := d.delta(s)
	k := hostOf(s, &s.Orig)
	src := d.sources[k]
	if src == nil {
		if len(d.sources) >= d.cfg.MaxSources {
			evictOne(d.sources)
			d.evicted++
		}
		src = &exfilSource{start: s.End, known: make(map[destination]struct{}), recent: make([]float64, d.cfg.PeakWindows)}
		d.sources[k] = src
	}
	d.roll(src, s.End)
	if sent == 0 {
		return
	}
	b := float64(sent)
	src.bytes += b
	dst := destination{domain: serverName(s)}
	if dst.domain == "" {
		dst.ip = s.Resp.IP
	}
	if _, ok := src.known[dst]; !ok {
		src.novel += b
		if len(src.known) >= d.cfg.MaxDestinations {
			evictOne(src.known)
		}
		src.known[dst] = struct{}{}
	}
	if b > src.topBytes {
		src.top, src.topBytes = s.Resp.IP, b
	}
	src.examples = addExample(src.examples, s)
	sigma := math.Sqrt(src.variance)
	threshold := max(float64(d.cfg.MinBytes), src.mean+d.cfg.Sigmas*sigma)
	if src.fired || src.windows < d.cfg.Warmup || src.bytes < threshold {
		return
	}
	// Most of it to places never seen before is what exfiltration looks
	// like; to its usual places, it is more likely a big backup, unless
	// far bigger than any of late.
	sev, peak := detect.High, src.peak()
	if src.novel < src.bytes/2 {
		if src.bytes < peakFactor*peak {
			return
		}
		sev = detect.Medium
	}
	src.fired = true
	r := newReport(s, d.Name(), sev, "T1048")
	r.Entities = append(detect.EndpointEntities(nil, &s.Orig), "ip:"+src.top.String())
	r.DedupeKey = fmt.Sprintf("%s|%s", r.Rule, s.Orig.IP)
	r.Summary = fmt.Sprintf("%s sent %.0f bytes out within %v (baseline %.0f ± %.0f, %.0f%% to new destinations, most to %s)",
		s.Orig.IP, src.bytes, d.cfg.Window, src.mean, sigma, 100*src.novel/src.bytes, src.top)
	r.Sessions = refStrings(src.examples)
	r.Values = map[string]float64{"bytes": src.bytes, "novel_bytes": src.novel, "baseline_mean": src.mean,
		"baseline_sigma": sigma, "threshold": threshold, "sigmas": d.cfg.Sigmas, "min_bytes": float64(d.cfg.MinBytes),
		"recent_peak": peak, "window_seconds": d.cfg.Window.Seconds()}
	report(r)
}

// delta is what this record adds to the bytes sent: flow records and
// single records count whole, interim records only past the last one.
func (d *exfiltration) delta(s *schema.Session) uint64 {
	if s.Flow != nil || s.Seq == 0 && s.Final {
		return s.OrigBytes
	}
	prev := d.live[s.UID]
	if s.Final {
		delete(d.live, s.UID)
	} else {
		if _, ok := d.live[s.UID]; !ok && len(d.live) >= d.cfg.MaxLive {
			evictOne(d.live)
			d.evicted++
		}
		d.live[s.UID] = s.OrigBytes
	}
	if s.OrigBytes < prev {
		return 0
	}
	return s.OrigBytes - prev
}

// roll closes the windows that ended before t, folding their totals
// (and the empty windows of a silence) into the baseline.
func (d *exfiltration) roll(src *exfilSource, t time.Time) {
	n := int(t.Sub(src.start) / d.cfg.Window)
	if n < 1 {
		return
	}
	d.learn(src, src.bytes)
	for range min(n, maxGapWindows) - 1 {
		d.learn(src, 0)
	}
	src.start = src.start.Add(time.Duration(n) * d.cfg.Window)
	src.bytes, src.novel, src.topBytes, src.fired = 0, 0, 0, false
	src.examples = src.examples[:0]
}

// peak is the largest total of the recent windows.
func (src *exfilSource) peak() float64 {
	m := 0.0
	for _, x := range src.recent {
		m = max(m, x)
	}
	return m
}

// learn folds one window's total into the exponentially weighted mean
// and variance (West's incremental form) and the recent windows.
func (d *exfiltration) learn(src *exfilSource, x float64) {
	if len(src.recent) > 0 {
		src.recent[src.recentAt] = x
		src.recentAt = (src.recentAt + 1) % len(src.recent)
	}
	if src.windows == 0 {
		src.mean = x
	} else {
		diff := x - src.mean
		src.mean += d.cfg.Alpha * diff
		src.variance = (1 - d.cfg.Alpha) * (src.variance + d.cfg.Alpha*diff*diff)
	}
	src.windows++
}
