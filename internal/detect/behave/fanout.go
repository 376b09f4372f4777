package behave

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// FanOutConfig configures the fan-out detector.
type FanOutConfig struct {
	Enabled bool `yaml:"enabled"`
	// Threshold is the number of external destinations, new to the
	// source, it must contact within Window.
	Threshold int           `yaml:"threshold"`
	Window    time.Duration `yaml:"window"`
	// Learning is how long, from a source's first session, its
	// destinations are learnt without counting them as new.
	Learning time.Duration `yaml:"learning"`
	// MaxSources bounds the sources tracked, MaxDestinations the
	// destinations remembered per source (a random one is forgotten to
	// make room).
	MaxSources      int `yaml:"max_sources"`
	MaxDestinations int `yaml:"max_destinations"`
}

func defaultFanOutConfig() FanOutConfig {
	return FanOutConfig{Enabled: true, Threshold: 50, Window: 5 * time.Minute, Learning: time.Hour,
		MaxSources: 5000, MaxDestinations: 1000}
}

// Validate names the key at fault.
func (c FanOutConfig) Validate() error {
	switch {
	case c.Threshold < 2:
		return fmt.Errorf("threshold: %d, want at least 2", c.Threshold)
	case c.Window <= 0:
		return fmt.Errorf("window: %v, want a positive duration", c.Window)
	case c.Learning < 0:
		return fmt.Errorf("learning: %v, want zero or a positive duration", c.Learning)
	case c.MaxSources < 1 || c.MaxDestinations < c.Threshold:
		return fmt.Errorf("max_sources: want at least 1; max_destinations: want at least threshold (%d)", c.Threshold)
	}
	return nil
}

type fanSource struct {
	first    time.Time
	known    map[netip.Addr]struct{}
	start    time.Time // of the current window
	fresh    int       // new destinations in it
	examples []ref
	fired    bool
}

// fanOut finds an internal source suddenly reaching many external hosts
// it never talked to: a worm spreading, a bot taking orders, a
// compromised host scanning the internet with completed connections.
type fanOut struct {
	cfg     FanOutConfig
	sources map[host]*fanSource
	evicted uint64
}

func newFanOut(cfg FanOutConfig) *fanOut {
	return &fanOut{cfg: cfg, sources: make(map[host]*fanSource)}
}

func (d *fanOut) Name() string      { return "fan-out" }
func (d *fanOut) Evictions() uint64 { return d.evicted }

func (d *fanOut) Session(s *schema.Session, report func(detect.Report)) {
	if !attempt(s) || !outbound(s) {
		return
	}
	k := hostOf(s, &s.Orig)
	src := d.sources[k]
	if src == nil {
		if len(d.sources) >= d.cfg.MaxSources {
			evictOne(d.sources)
			d.evicted++
		}
		src = &fanSource{first: s.Start, start: s.Start, known: make(map[netip.Addr]struct{})}
		d.sources[k] = src
	}
	if _, ok := src.known[s.Resp.IP]; ok {
		return
	}
	if len(src.known) >= d.cfg.MaxDestinations {
		evictOne(src.known)
	}
	src.known[s.Resp.IP] = struct{}{}
	if s.Start.Sub(src.first) < d.cfg.Learning {
		return
	}
	if s.Start.Sub(src.start) > d.cfg.Window {
		src.start, src.fresh, src.fired, src.examples = s.Start, 0, false, src.examples[:0]
	}
	src.fresh++
	src.examples = addExample(src.examples, s)
	if src.fired || src.fresh < d.cfg.Threshold {
		return
	}
	src.fired = true
	elapsed := s.Start.Sub(src.start)
	r := newReport(s, d.Name(), detect.Medium, "")
	r.Entities = detect.EndpointEntities(nil, &s.Orig)
	r.DedupeKey = fmt.Sprintf("%s|%s", r.Rule, s.Orig.IP)
	r.Summary = fmt.Sprintf("%s contacted %d external hosts it had not talked to before in %.0f s",
		s.Orig.IP, src.fresh, elapsed.Seconds())
	r.Sessions = refStrings(src.examples)
	r.Values = map[string]float64{"new_destinations": float64(src.fresh), "known_destinations": float64(len(src.known)),
		"threshold": float64(d.cfg.Threshold), "window_seconds": d.cfg.Window.Seconds()}
	report(r)
}
