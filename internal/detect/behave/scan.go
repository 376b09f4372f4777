package behave

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// ScanConfig configures the horizontal and the vertical scan detectors.
type ScanConfig struct {
	Enabled bool `yaml:"enabled"`
	// Threshold is the number of distinct destination hosts (horizontal)
	// or ports (vertical) one source must touch within Window.
	Threshold int           `yaml:"threshold"`
	Window    time.Duration `yaml:"window"`
	// MinUnansweredRatio is the share of the source's attempts in the
	// window that must have gone unanswered or been rejected; it keeps
	// configuration management (ssh to a whole fleet) and busy clients
	// out. 0 counts answered attempts as freely as failed ones.
	MinUnansweredRatio float64 `yaml:"min_unanswered_ratio"`
	// IgnorePorts are destination ports never counted (a DNS resolver
	// fanning out on 53, say).
	IgnorePorts []uint16 `yaml:"ignore_ports"`
	// MaxKeys bounds the sources (horizontal: source and port;
	// vertical: source and destination) tracked at once.
	MaxKeys int `yaml:"max_keys"`
	// InternetSources counts sources outside our networks too. Off by
	// default: every public address is swept by research scanners and
	// bots many times a day, which is nobody's incident; what such a
	// scan reached is for the policies (no SSH from the internet) and
	// the brute-force detector to judge.
	InternetSources bool `yaml:"internet_sources"`
}

func defaultScanConfig() ScanConfig {
	return ScanConfig{Enabled: true, Threshold: 50, Window: time.Minute, MinUnansweredRatio: 0.5, MaxKeys: 100000}
}

// counts says whether a session is an attempt the scan detectors count.
func (c ScanConfig) counts(s *schema.Session) bool {
	return attempt(s) && s.Proto != 1 && s.Proto != 58 && !slices.Contains(c.IgnorePorts, s.Resp.Port) &&
		(c.InternetSources || detect.Internal(&s.Orig))
}

// Validate names the key at fault.
func (c ScanConfig) Validate() error {
	switch {
	case c.Threshold < 2:
		return fmt.Errorf("threshold: %d, want at least 2", c.Threshold)
	case c.Window <= 0:
		return fmt.Errorf("window: %v, want a positive duration", c.Window)
	case c.MinUnansweredRatio < 0 || c.MinUnansweredRatio > 1:
		return fmt.Errorf("min_unanswered_ratio: %v, want 0 to 1", c.MinUnansweredRatio)
	case c.MaxKeys < 1:
		return fmt.Errorf("max_keys: %d, want at least 1", c.MaxKeys)
	}
	return nil
}

type hscanKey struct {
	tenant string
	src    netip.Addr
	port   uint16
	proto  uint8
}

// horizontalScan finds one source probing many hosts on one port (T1046).
type horizontalScan struct {
	cfg ScanConfig
	w   *windows[hscanKey, netip.Addr]
}

func newHorizontalScan(cfg ScanConfig) *horizontalScan {
	return &horizontalScan{cfg: cfg, w: newWindows[hscanKey, netip.Addr](cfg.Window, cfg.MaxKeys, cfg.Threshold)}
}

func (d *horizontalScan) Name() string      { return "horizontal-scan" }
func (d *horizontalScan) Evictions() uint64 { return d.w.evicted }

func (d *horizontalScan) Tick(now time.Time, _ func(detect.Report)) { d.w.expire(now) }

func (d *horizontalScan) Session(s *schema.Session, report func(detect.Report)) {
	if !d.cfg.counts(s) {
		return
	}
	k := hscanKey{s.Tenant, s.Orig.IP, s.Resp.Port, s.Proto}
	t := d.w.add(k, s.Resp.IP, s, s.Start)
	if t.fired || len(t.seen) < d.cfg.Threshold || float64(t.failed) < d.cfg.MinUnansweredRatio*float64(t.events) {
		return
	}
	t.fired = true
	elapsed := s.Start.Sub(t.start)
	r := newReport(s, d.Name(), detect.Medium, "T1046")
	r.Entities = append(detect.EndpointEntities(nil, &s.Orig), detect.PortEntity(s.Resp.Port))
	r.DedupeKey = fmt.Sprintf("%s|%s|%d/%s", r.Rule, s.Orig.IP, s.Resp.Port, s.Transport)
	r.Summary = fmt.Sprintf("%s probed %d hosts on %d/%s in %.0f s (%d of %d attempts unanswered)",
		s.Orig.IP, len(t.seen), s.Resp.Port, s.Transport, elapsed.Seconds(), t.failed, t.events)
	r.Sessions = refStrings(t.examples)
	r.Values = map[string]float64{"hosts": float64(len(t.seen)), "attempts": float64(t.events),
		"unanswered": float64(t.failed), "elapsed_seconds": elapsed.Seconds(),
		"threshold": float64(d.cfg.Threshold), "window_seconds": d.cfg.Window.Seconds()}
	report(r)
}

type vscanKey struct {
	tenant   string
	src, dst netip.Addr
}

// verticalScan finds one source probing many ports of one host (T1046).
// Ports of TCP and UDP count apart: the member is protocol and port.
type verticalScan struct {
	cfg ScanConfig
	w   *windows[vscanKey, uint32]
}

func newVerticalScan(cfg ScanConfig) *verticalScan {
	return &verticalScan{cfg: cfg, w: newWindows[vscanKey, uint32](cfg.Window, cfg.MaxKeys, cfg.Threshold)}
}

func (d *verticalScan) Name() string      { return "vertical-scan" }
func (d *verticalScan) Evictions() uint64 { return d.w.evicted }

func (d *verticalScan) Tick(now time.Time, _ func(detect.Report)) { d.w.expire(now) }

func (d *verticalScan) Session(s *schema.Session, report func(detect.Report)) {
	if !d.cfg.counts(s) {
		return
	}
	k := vscanKey{s.Tenant, s.Orig.IP, s.Resp.IP}
	t := d.w.add(k, uint32(s.Proto)<<16|uint32(s.Resp.Port), s, s.Start)
	if t.fired || len(t.seen) < d.cfg.Threshold || float64(t.failed) < d.cfg.MinUnansweredRatio*float64(t.events) {
		return
	}
	t.fired = true
	elapsed := s.Start.Sub(t.start)
	r := newReport(s, d.Name(), detect.Medium, "T1046")
	r.Entities = detect.EndpointEntities(detect.EndpointEntities(nil, &s.Orig), &s.Resp)
	r.DedupeKey = fmt.Sprintf("%s|%s|%s", r.Rule, s.Orig.IP, s.Resp.IP)
	r.Summary = fmt.Sprintf("%s probed %d ports of %s in %.0f s (%d of %d attempts unanswered)",
		s.Orig.IP, len(t.seen), s.Resp.IP, elapsed.Seconds(), t.failed, t.events)
	r.Sessions = refStrings(t.examples)
	r.Values = map[string]float64{"ports": float64(len(t.seen)), "attempts": float64(t.events),
		"unanswered": float64(t.failed), "elapsed_seconds": elapsed.Seconds(),
		"threshold": float64(d.cfg.Threshold), "window_seconds": d.cfg.Window.Seconds()}
	report(r)
}
