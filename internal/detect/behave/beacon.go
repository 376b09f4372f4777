package behave

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// BeaconConfig configures the beaconing detector.
type BeaconConfig struct {
	Enabled bool `yaml:"enabled"`
	// MinConnections before a pair is scored.
	MinConnections int `yaml:"min_connections"`
	// MaxSamples is how many of a pair's latest connections are kept
	// and scored.
	MaxSamples int `yaml:"max_samples"`
	// Threshold is the score (0 to 1) at or above which a pair beacons.
	Threshold float64 `yaml:"threshold"`
	// OutboundOnly scores only sessions from ours to the outside:
	// monitoring scrapes and health checks inside are as regular as any
	// implant.
	OutboundOnly bool `yaml:"outbound_only"`
	// IgnorePorts are destination ports not scored (DNS, NTP, mDNS poll
	// on a timer by design).
	IgnorePorts []uint16 `yaml:"ignore_ports"`
	// Idle forgets a pair not seen for that long.
	Idle time.Duration `yaml:"idle"`
	// MaxPairs bounds the (source, destination) pairs tracked, and the
	// destinations whose callers are counted.
	MaxPairs int `yaml:"max_pairs"`
	// CommonCallers: a destination called by at least this many of our
	// sources is a service of the fleet (the broker battery sensors wake
	// up to publish to, a metrics endpoint) and is not reported; an
	// implant calls home from one host or a few. 0 reports every
	// destination.
	CommonCallers int `yaml:"common_callers"`
}

func defaultBeaconConfig() BeaconConfig {
	return BeaconConfig{Enabled: true, MinConnections: 10, MaxSamples: 32, Threshold: 0.8, OutboundOnly: true,
		IgnorePorts: []uint16{53, 123, 5353}, Idle: 6 * time.Hour, MaxPairs: 50000, CommonCallers: 5}
}

// Validate names the key at fault.
func (c BeaconConfig) Validate() error {
	switch {
	case c.MinConnections < 4:
		return fmt.Errorf("min_connections: %d, want at least 4 (three intervals)", c.MinConnections)
	case c.MaxSamples < c.MinConnections:
		return fmt.Errorf("max_samples: %d, want at least min_connections (%d)", c.MaxSamples, c.MinConnections)
	case c.Threshold <= 0 || c.Threshold > 1:
		return fmt.Errorf("threshold: %v, want above 0 and at most 1", c.Threshold)
	case c.Idle <= 0:
		return fmt.Errorf("idle: %v, want a positive duration", c.Idle)
	case c.MaxPairs < 1:
		return fmt.Errorf("max_pairs: %d, want at least 1", c.MaxPairs)
	case c.CommonCallers < 0:
		return fmt.Errorf("common_callers: %d, want 0 (off) or more", c.CommonCallers)
	}
	return nil
}

// beaconKey is a source and what it calls: the server name when the
// DPI saw one (so that rotating addresses behind a name are one
// destination), else the address, and the port.
type beaconKey struct {
	tenant string
	src    netip.Addr
	dst    netip.Addr
	name   string
	port   uint16
	proto  uint8
}

// series is a pair's latest connections: start times and bytes sent.
type series struct {
	starts   []int64 // unix nanoseconds
	sizes    []float64
	last     time.Time
	lastPort uint16
	fresh    int // connections since the last report
	examples []ref
}

// callers are the sources seen calling a destination, until there are
// enough of them to make it common.
type callers struct {
	srcs   []netip.Addr
	common bool
	last   time.Time
}

// beaconing scores how regularly a source calls a destination (T1071).
type beaconing struct {
	cfg     BeaconConfig
	pairs   map[beaconKey]*series
	callers map[beaconKey]*callers // by destination: the key without its source
	free    []*series              // idle series kept for reuse
	evicted uint64
	sweep   sweeper
	// scratch buffers for scoring, reused so that scoring allocates nothing.
	starts, gaps, sizes, dev []float64
}

func newBeaconing(cfg BeaconConfig) *beaconing {
	return &beaconing{cfg: cfg, pairs: make(map[beaconKey]*series), callers: make(map[beaconKey]*callers),
		sweep: sweeper{every: cfg.Idle / 4}}
}

func (d *beaconing) Name() string      { return "beaconing" }
func (d *beaconing) Evictions() uint64 { return d.evicted }

func (d *beaconing) Tick(now time.Time, _ func(detect.Report)) {
	if !d.sweep.due(now) {
		return
	}
	d.free = expire(d.pairs, d.free, func(p *series) bool { return now.Sub(p.last) > d.cfg.Idle })
	for k, c := range d.callers {
		if now.Sub(c.last) > d.cfg.Idle {
			delete(d.callers, k)
		}
	}
}

// common counts k's source among its destination's callers and says
// whether the destination is common to the fleet.
func (d *beaconing) common(k beaconKey, t time.Time) bool {
	dk := k
	dk.src = netip.Addr{}
	c := d.callers[dk]
	if c == nil {
		if len(d.callers) >= d.cfg.MaxPairs {
			evictOne(d.callers)
			d.evicted++
		}
		c = &callers{}
		d.callers[dk] = c
	}
	c.last = t
	if !c.common && !slices.Contains(c.srcs, k.src) {
		c.srcs = append(c.srcs, k.src)
		if len(c.srcs) >= d.cfg.CommonCallers {
			c.common, c.srcs = true, nil
		}
	}
	return c.common
}

func (d *beaconing) Session(s *schema.Session, report func(detect.Report)) {
	if !attempt(s) || d.cfg.OutboundOnly && !outbound(s) || slices.Contains(d.cfg.IgnorePorts, s.Resp.Port) {
		return
	}
	k := beaconKey{tenant: s.Tenant, src: s.Orig.IP, name: serverName(s), port: s.Resp.Port, proto: s.Proto}
	if k.name == "" {
		k.dst = s.Resp.IP
	}
	if d.cfg.CommonCallers > 0 && d.common(k, s.Start) {
		return
	}
	p := d.pairs[k]
	if p == nil {
		switch {
		case len(d.pairs) >= d.cfg.MaxPairs:
			p = evictOne(d.pairs)
			d.evicted++
		case len(d.free) > 0:
			p = d.free[len(d.free)-1]
			d.free = d.free[:len(d.free)-1]
		default:
			p = &series{}
		}
		*p = series{starts: p.starts[:0], sizes: p.sizes[:0], examples: p.examples[:0]}
		d.pairs[k] = p
	} else if s.Flow != nil && s.Orig.Port == p.lastPort {
		// The next window of a connection already counted.
		return
	}
	if len(p.starts) == d.cfg.MaxSamples {
		p.starts = append(p.starts[:0], p.starts[1:]...)
		p.sizes = append(p.sizes[:0], p.sizes[1:]...)
	}
	p.starts = append(p.starts, s.Start.UnixNano())
	p.sizes = append(p.sizes, float64(s.OrigBytes))
	p.last, p.lastPort = s.Start, s.Orig.Port
	p.fresh++
	if len(p.examples) == maxExamples {
		p.examples = append(p.examples[:0], p.examples[1:]...)
	}
	p.examples = append(p.examples, refOf(s))
	// Score once enough connections arrived since the last report, so a
	// beacon reports again only every min_connections calls.
	if len(p.starts) < d.cfg.MinConnections || p.fresh < d.cfg.MinConnections {
		return
	}
	sc := d.score(p)
	if sc.total < d.cfg.Threshold {
		return
	}
	p.fresh = 0
	r := newReport(s, d.Name(), detect.Medium, "T1071")
	r.Entities = detect.EndpointEntities(nil, &s.Orig)
	dst := s.Resp.IP.String()
	if k.name != "" {
		dst = k.name
		r.Entities = append(r.Entities, "domain:"+k.name)
	} else {
		r.Entities = detect.EndpointEntities(r.Entities, &s.Resp)
	}
	r.Entities = append(r.Entities, detect.PortEntity(s.Resp.Port))
	r.DedupeKey = fmt.Sprintf("%s|%s|%s|%d", r.Rule, s.Orig.IP, dst, s.Resp.Port)
	r.Summary = fmt.Sprintf("%s called %s:%d %d times every %.0f s (CV %.2f, score %.2f)",
		s.Orig.IP, dst, s.Resp.Port, len(p.starts), sc.median, sc.cv, sc.total)
	r.Sessions = refStrings(p.examples)
	r.Values = map[string]float64{"score": sc.total, "interval_score": sc.interval, "size_score": sc.size,
		"median_interval_seconds": sc.median, "interval_cv": sc.cv, "connections": float64(len(p.starts)),
		"threshold": d.cfg.Threshold}
	report(r)
}

type beaconScore struct {
	total, interval, size float64
	median, cv            float64 // of the intervals, in seconds
}

// score rates a series' regularity from 0 to 1 in the manner of RITA.
// For the intervals between connections and for the bytes sent it
// averages a skew score (1 − |Bowley skewness|), twice a dispersion
// score (1 − MAD/median) and a variation score (1 − σ/μ), each floored
// at 0: the median-based terms forgive a missed call, the σ/μ term
// catches bursts that leave the median tight. Intervals weigh three
// times as much as sizes, which vary with the commands an implant gets.
func (d *beaconing) score(p *series) beaconScore {
	d.starts, d.gaps = d.starts[:0], d.gaps[:0]
	for _, t := range p.starts {
		d.starts = append(d.starts, float64(t))
	}
	slices.Sort(d.starts) // sessions are written when they end, not in start order
	for i := 1; i < len(d.starts); i++ {
		d.gaps = append(d.gaps, (d.starts[i]-d.starts[i-1])/1e9)
	}
	var sc beaconScore
	sc.cv = cv(d.gaps)
	sc.interval, sc.median = d.regularity(d.gaps)
	d.sizes = append(d.sizes[:0], p.sizes...)
	sc.size, _ = d.regularity(d.sizes)
	sc.total = (3*sc.interval + sc.size) / 4
	return sc
}

// regularity sorts xs and returns its score and median.
func (d *beaconing) regularity(xs []float64) (score, median float64) {
	slices.Sort(xs)
	q1, q2, q3 := quantile(xs, 0.25), quantile(xs, 0.5), quantile(xs, 0.75)
	skew := 0.0
	if q3 > q1 {
		skew = (q3 + q1 - 2*q2) / (q3 - q1)
	}
	d.dev = d.dev[:0]
	for _, x := range xs {
		d.dev = append(d.dev, math.Abs(x-q2))
	}
	slices.Sort(d.dev)
	mad := quantile(d.dev, 0.5)
	disp := 1.0
	switch {
	case q2 > 0:
		disp = max(0, 1-mad/q2)
	case mad > 0:
		disp = 0
	}
	return (max(0, 1-math.Abs(skew)) + 2*disp + max(0, 1-cv(xs))) / 4, q2
}

// quantile of sorted xs by linear interpolation.
func quantile(xs []float64, q float64) float64 {
	pos := q * float64(len(xs)-1)
	i := int(pos)
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[i] + (pos-float64(i))*(xs[i+1]-xs[i])
}

// cv is the coefficient of variation (σ/μ), reported beside the score.
func cv(xs []float64) float64 {
	var sum, sq float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(len(xs))
	if mean == 0 {
		return 0
	}
	for _, x := range xs {
		sq += (x - mean) * (x - mean)
	}
	return math.Sqrt(sq/float64(len(xs))) / mean
}
