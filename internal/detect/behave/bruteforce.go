package behave

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// BruteForceConfig configures the brute-force detector.
type BruteForceConfig struct {
	Enabled bool `yaml:"enabled"`
	// Ports are the authentication services watched.
	Ports []uint16 `yaml:"ports"`
	// Threshold attempts from one source to one service within Window.
	Threshold int           `yaml:"threshold"`
	Window    time.Duration `yaml:"window"`
	// MaxDuration: metered sessions longer than this are a login that
	// worked and a user at work, not an attempt.
	MaxDuration time.Duration `yaml:"max_duration"`
	// MaxKeys bounds the (source, destination, port) triples tracked.
	MaxKeys int `yaml:"max_keys"`
}

func defaultBruteForceConfig() BruteForceConfig {
	return BruteForceConfig{Enabled: true,
		Ports: []uint16{21, 22, 23, 110, 143, 389, 445, 636, 1433, 1883, 3306, 3389, 5432, 5900, 8883},
		// 20 attempts in 5 minutes: more than a person retyping a
		// password, fewer than any credential-stuffing tool makes.
		Threshold: 20, Window: 5 * time.Minute, MaxDuration: 30 * time.Second, MaxKeys: 100000}
}

// Validate names the key at fault.
func (c BruteForceConfig) Validate() error {
	switch {
	case len(c.Ports) == 0:
		return fmt.Errorf("ports: empty, want at least one port")
	case c.Threshold < 2:
		return fmt.Errorf("threshold: %d, want at least 2", c.Threshold)
	case c.Window <= 0:
		return fmt.Errorf("window: %v, want a positive duration", c.Window)
	case c.MaxDuration <= 0:
		return fmt.Errorf("max_duration: %v, want a positive duration", c.MaxDuration)
	case c.MaxKeys < 1:
		return fmt.Errorf("max_keys: %d, want at least 1", c.MaxKeys)
	}
	return nil
}

type bruteKey struct {
	tenant   string
	src, dst netip.Addr
	port     uint16
}

// bruteForce counts short connections from one source to one
// authentication service (T1110). An attempt is a distinct source port:
// every login attempt of a tool is a new connection, and flow records,
// which cut one connection into windows, then count it once.
type bruteForce struct {
	cfg BruteForceConfig
	w   *windows[bruteKey, uint16]
}

func newBruteForce(cfg BruteForceConfig) *bruteForce {
	return &bruteForce{cfg: cfg, w: newWindows[bruteKey, uint16](cfg.Window, cfg.MaxKeys, cfg.Threshold)}
}

func (d *bruteForce) Name() string      { return "brute-force" }
func (d *bruteForce) Evictions() uint64 { return d.w.evicted }

func (d *bruteForce) Tick(now time.Time, _ func(detect.Report)) { d.w.expire(now) }

func (d *bruteForce) Session(s *schema.Session, report func(detect.Report)) {
	if !attempt(s) || s.Proto != 6 && s.Proto != 17 || !slices.Contains(d.cfg.Ports, s.Resp.Port) {
		return
	}
	if s.Flow == nil && s.End.Sub(s.Start) > d.cfg.MaxDuration {
		return
	}
	t := d.w.add(bruteKey{s.Tenant, s.Orig.IP, s.Resp.IP, s.Resp.Port}, s.Orig.Port, s, s.Start)
	if t.fired || len(t.seen) < d.cfg.Threshold {
		return
	}
	t.fired = true
	elapsed := s.Start.Sub(t.start)
	r := newReport(s, d.Name(), detect.High, "T1110")
	r.Entities = append(detect.EndpointEntities(detect.EndpointEntities(nil, &s.Orig), &s.Resp), detect.PortEntity(s.Resp.Port))
	r.DedupeKey = fmt.Sprintf("%s|%s|%s|%d", r.Rule, s.Orig.IP, s.Resp.IP, s.Resp.Port)
	r.Summary = fmt.Sprintf("%s made %d short connections to %s on %d/%s in %.0f s",
		s.Orig.IP, len(t.seen), s.Resp.IP, s.Resp.Port, s.Transport, elapsed.Seconds())
	r.Sessions = refStrings(t.examples)
	r.Values = map[string]float64{"attempts": float64(len(t.seen)), "unanswered": float64(t.failed),
		"elapsed_seconds": elapsed.Seconds(), "threshold": float64(d.cfg.Threshold),
		"window_seconds": d.cfg.Window.Seconds()}
	report(r)
}
