package behave

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// AllowlistConfig configures the learned-allowlist detector.
type AllowlistConfig struct {
	Enabled bool `yaml:"enabled"`
	// Learning is how long, from a device's first session, its
	// destinations are learnt without alerting.
	Learning time.Duration `yaml:"learning"`
	// MaxDestinations per device: a device that talks to more is not
	// allowlist-shaped (a workstation, a server) and is no longer
	// watched, so the cap bounds memory and noise together.
	MaxDestinations int `yaml:"max_destinations"`
	MaxDevices      int `yaml:"max_devices"`
	// DeviceTags restricts the detector to devices carrying one of these
	// tags (from the asset inventory or CIDR map, e.g. "iot"); empty
	// watches every internal device.
	DeviceTags []string `yaml:"device_tags"`
}

func defaultAllowlistConfig() AllowlistConfig {
	return AllowlistConfig{Enabled: true, Learning: 24 * time.Hour, MaxDestinations: 64, MaxDevices: 10000}
}

// Validate names the key at fault.
func (c AllowlistConfig) Validate() error {
	switch {
	case c.Learning <= 0:
		return fmt.Errorf("learning: %v, want a positive duration", c.Learning)
	case c.MaxDestinations < 1 || c.MaxDevices < 1:
		return fmt.Errorf("max_destinations, max_devices: want at least 1 each")
	}
	return nil
}

// destination is what a device talked to: the registered domain of the
// name it asked for when the DPI saw one (CDN addresses rotate, names
// do not), else the address.
type destination struct {
	domain string
	ip     netip.Addr
}

type allowed struct {
	first time.Time
	dests map[destination]struct{}
	// named are the registered domains of the device's latest DNS
	// answers by address: a session without a server name (NTP, MQTT
	// without TLS) goes to the name the device looked up, whose
	// addresses rotate (pool.ntp.org hands out thousands).
	named   map[netip.Addr]string
	novel   int  // destinations added after learning
	diverse bool // outgrew MaxDestinations: not watched
}

// maxNamed bounds the answers remembered per device: a connection
// follows its lookup closely.
const maxNamed = 64

// allowlist learns each device's destinations and reports the ones
// outside what it learnt, the behaviour of IoT allowlisting.
type allowlist struct {
	cfg     AllowlistConfig
	devices map[host]*allowed
	domains *domains
	evicted uint64
}

func newAllowlist(cfg AllowlistConfig) *allowlist {
	return &allowlist{cfg: cfg, devices: make(map[host]*allowed), domains: newDomains(dnsCacheSize)}
}

func (d *allowlist) Name() string      { return "new-destination" }
func (d *allowlist) Evictions() uint64 { return d.evicted }

func (d *allowlist) Session(s *schema.Session, report func(detect.Report)) {
	if !attempt(s) || !detect.Internal(&s.Orig) || len(d.cfg.DeviceTags) > 0 && !hasAnyTag(s.Orig.Tags, d.cfg.DeviceTags) {
		return
	}
	k := hostOf(s, &s.Orig)
	dev := d.devices[k]
	if dev == nil {
		if len(d.devices) >= d.cfg.MaxDevices {
			evictOne(d.devices)
			d.evicted++
		}
		dev = &allowed{first: s.Start, dests: make(map[destination]struct{}), named: make(map[netip.Addr]string)}
		d.devices[k] = dev
	}
	if dev.diverse {
		return
	}
	d.learnAnswers(dev, s)
	dst := destination{ip: s.Resp.IP}
	if name := serverName(s); name != "" {
		dst = destination{domain: name}
		if reg := d.domains.registered(name); reg != "" {
			dst.domain = reg
		}
	} else if reg, ok := dev.named[s.Resp.IP]; ok {
		dst = destination{domain: reg}
	}
	if _, ok := dev.dests[dst]; ok {
		return
	}
	if len(dev.dests) >= d.cfg.MaxDestinations {
		dev.diverse, dev.dests, dev.named = true, nil, nil
		return
	}
	dev.dests[dst] = struct{}{}
	if s.Start.Sub(dev.first) < d.cfg.Learning {
		return
	}
	dev.novel++
	learnt := len(dev.dests) - dev.novel
	r := newReport(s, d.Name(), detect.Low, "")
	r.Entities = detect.EndpointEntities(nil, &s.Orig)
	target := "ip:" + s.Resp.IP.String()
	if dst.domain != "" {
		target = "domain:" + dst.domain
	}
	r.Entities = append(r.Entities, target, detect.PortEntity(s.Resp.Port))
	id := s.Orig.IP.String()
	if s.Orig.Asset != "" {
		id = s.Orig.Asset
	}
	// One finding a device while its new destinations keep coming (the
	// engine folds them until detect.clear_after of quiet): a device that
	// starts scanning is one finding naming its targets, not one a target.
	r.DedupeKey = r.Rule + "|" + id
	r.Summary = fmt.Sprintf("%s contacted %s on %d/%s, outside the %d destinations learnt in its first %v",
		s.Orig.IP, target, s.Resp.Port, s.Transport, learnt, d.cfg.Learning)
	if dev.novel > 1 {
		r.Summary = fmt.Sprintf("%s contacted %s on %d/%s: %d destinations new since the %d learnt in its first %v",
			s.Orig.IP, target, s.Resp.Port, s.Transport, dev.novel, learnt, d.cfg.Learning)
	}
	r.Sessions = []string{refOf(s).String()}
	r.Values = map[string]float64{"known_destinations": float64(learnt), "new_destinations": float64(dev.novel),
		"learning_seconds": d.cfg.Learning.Seconds()}
	report(r)
}

// learnAnswers remembers the addresses a DNS answer to the device gave
// for the name it asked.
func (d *allowlist) learnAnswers(dev *allowed, s *schema.Session) {
	if s.L7 == nil || s.L7.DNS == nil || s.Resp.Port != 53 || len(s.L7.DNS.Answers) == 0 {
		return
	}
	reg := d.domains.registered(strings.ToLower(strings.TrimSuffix(s.L7.DNS.Query, ".")))
	if reg == "" {
		return
	}
	for _, a := range s.L7.DNS.Answers {
		ip, err := netip.ParseAddr(a)
		if err != nil { // a CNAME
			continue
		}
		if _, ok := dev.named[ip]; !ok && len(dev.named) >= maxNamed {
			evictOne(dev.named)
		}
		dev.named[ip] = reg
	}
}

func hasAnyTag(tags, want []string) bool {
	for _, t := range want {
		if slices.Contains(tags, t) {
			return true
		}
	}
	return false
}
