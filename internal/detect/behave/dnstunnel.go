package behave

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// DNSTunnelConfig configures the DNS tunnelling detector.
type DNSTunnelConfig struct {
	Enabled bool `yaml:"enabled"`
	// MinUniqueSubdomains one client must ask of one registered domain
	// within Window.
	MinUniqueSubdomains int           `yaml:"min_unique_subdomains"`
	Window              time.Duration `yaml:"window"`
	// A query is encoded-looking when its subdomain part is at least
	// LongName characters, or at least MinEntropyLength characters with
	// a Shannon entropy of at least Entropy bits per character.
	LongName         int     `yaml:"long_name"`
	MinEntropyLength int     `yaml:"min_entropy_length"`
	Entropy          float64 `yaml:"entropy"`
	// MinRatio is the share of queries that must be encoded-looking, or
	// of record types TXT, NULL, ANY, that tunnels favour for payload.
	MinRatio float64 `yaml:"min_ratio"`
	// IgnoreSuffixes are domains never scored: reverse lookups, local
	// names, and lookup services that encode data in names by design
	// (DNS blocklists, antivirus reputation).
	IgnoreSuffixes []string `yaml:"ignore_suffixes"`
	// MaxKeys bounds the (client, domain) pairs tracked.
	MaxKeys int `yaml:"max_keys"`
}

func defaultDNSTunnelConfig() DNSTunnelConfig {
	return DNSTunnelConfig{Enabled: true, MinUniqueSubdomains: 50, Window: 5 * time.Minute,
		LongName: 52, MinEntropyLength: 16, Entropy: 3.5, MinRatio: 0.5,
		IgnoreSuffixes: []string{"arpa", "local", "spamhaus.org", "sophosxl.net", "mcafee.com"}, MaxKeys: 100000}
}

// Validate names the key at fault.
func (c DNSTunnelConfig) Validate() error {
	switch {
	case c.MinUniqueSubdomains < 2:
		return fmt.Errorf("min_unique_subdomains: %d, want at least 2", c.MinUniqueSubdomains)
	case c.Window <= 0:
		return fmt.Errorf("window: %v, want a positive duration", c.Window)
	case c.LongName < 1 || c.MinEntropyLength < 1:
		return fmt.Errorf("long_name, min_entropy_length: want at least 1")
	case c.Entropy <= 0 || c.Entropy > 8:
		return fmt.Errorf("entropy: %v, want above 0 and at most 8 bits", c.Entropy)
	case c.MinRatio < 0 || c.MinRatio > 1:
		return fmt.Errorf("min_ratio: %v, want 0 to 1", c.MinRatio)
	case c.MaxKeys < 1:
		return fmt.Errorf("max_keys: %d, want at least 1", c.MaxKeys)
	}
	return nil
}

// dnsCacheSize bounds the names whose registered domain is cached.
const dnsCacheSize = 10000

type dnsKey struct {
	tenant string
	client netip.Addr
	domain string
}

type dnsWindow struct {
	start       time.Time
	subdomains  map[string]struct{}
	queries     int
	encoded     int // long or high-entropy names
	payloadType int // TXT, NULL, ANY
	longest     int
	examples    []ref
	fired       bool
}

// dnsTunnel finds clients that talk to one domain through many unique,
// encoded-looking names or payload record types (T1071.004).
type dnsTunnel struct {
	cfg     DNSTunnelConfig
	keys    map[dnsKey]*dnsWindow
	free    []*dnsWindow // expired windows kept for reuse
	domains *domains
	evicted uint64
	sweep   sweeper
}

func newDNSTunnel(cfg DNSTunnelConfig) *dnsTunnel {
	return &dnsTunnel{cfg: cfg, keys: make(map[dnsKey]*dnsWindow), domains: newDomains(dnsCacheSize), sweep: sweeper{every: cfg.Window}}
}

func (d *dnsTunnel) Name() string      { return "dns-tunnel" }
func (d *dnsTunnel) Evictions() uint64 { return d.evicted }

func (d *dnsTunnel) Tick(now time.Time, _ func(detect.Report)) {
	if !d.sweep.due(now) {
		return
	}
	d.free = expire(d.keys, d.free, func(w *dnsWindow) bool { return now.Sub(w.start) > d.cfg.Window })
}

func (d *dnsTunnel) Session(s *schema.Session, report func(detect.Report)) {
	if s.L7 == nil || s.L7.DNS == nil || s.Resp.Port != 53 || s.L7.DNS.Query == "" {
		return
	}
	name := strings.ToLower(strings.TrimSuffix(s.L7.DNS.Query, "."))
	domain := d.domains.registered(name)
	if domain == "" || len(domain) >= len(name) || d.ignored(name) {
		return // a bare domain or suffix has no subdomain to carry data
	}
	sub := name[:len(name)-len(domain)-1]
	k := dnsKey{s.Tenant, s.Orig.IP, domain}
	w := d.keys[k]
	switch {
	case w == nil:
		switch {
		case len(d.keys) >= d.cfg.MaxKeys:
			w = evictOne(d.keys)
			d.evicted++
		case len(d.free) > 0:
			w = d.free[len(d.free)-1]
			d.free = d.free[:len(d.free)-1]
		default:
			w = &dnsWindow{subdomains: make(map[string]struct{})}
		}
		w.reset(s.Start)
		d.keys[k] = w
	case s.Start.Sub(w.start) > d.cfg.Window:
		w.reset(s.Start)
	}
	w.queries++
	if len(sub) >= d.cfg.LongName || len(sub) >= d.cfg.MinEntropyLength && entropy(sub) >= d.cfg.Entropy {
		w.encoded++
	}
	switch s.L7.DNS.QType {
	case "TXT", "NULL", "ANY", "*":
		w.payloadType++
	}
	w.longest = max(w.longest, len(name))
	if _, ok := w.subdomains[sub]; !ok && len(w.subdomains) < d.cfg.MinUniqueSubdomains {
		w.subdomains[sub] = struct{}{}
		w.examples = addExample(w.examples, s)
	}
	q := float64(w.queries)
	if w.fired || len(w.subdomains) < d.cfg.MinUniqueSubdomains ||
		float64(w.encoded) < d.cfg.MinRatio*q && float64(w.payloadType) < d.cfg.MinRatio*q {
		return
	}
	w.fired = true
	r := newReport(s, d.Name(), detect.High, "T1071.004")
	r.Entities = append(detect.EndpointEntities(nil, &s.Orig), "domain:"+domain)
	r.DedupeKey = fmt.Sprintf("%s|%s|%s", r.Rule, s.Orig.IP, domain)
	r.Summary = fmt.Sprintf("%s asked %d unique names under %s in %.0f s (%d of %d encoded-looking, %d TXT/NULL/ANY)",
		s.Orig.IP, len(w.subdomains), domain, s.Start.Sub(w.start).Seconds(), w.encoded, w.queries, w.payloadType)
	r.Sessions = refStrings(w.examples)
	r.Values = map[string]float64{"unique_subdomains": float64(len(w.subdomains)), "queries": q,
		"encoded": float64(w.encoded), "payload_types": float64(w.payloadType), "longest_name": float64(w.longest),
		"threshold": float64(d.cfg.MinUniqueSubdomains), "min_ratio": d.cfg.MinRatio, "window_seconds": d.cfg.Window.Seconds()}
	report(r)
}

// reset opens a new window at t, keeping the map and slice for reuse.
func (w *dnsWindow) reset(t time.Time) {
	clear(w.subdomains)
	*w = dnsWindow{start: t, subdomains: w.subdomains, examples: w.examples[:0]}
}

func (d *dnsTunnel) ignored(name string) bool {
	for _, suf := range d.cfg.IgnoreSuffixes {
		if name == suf || strings.HasSuffix(name, suf) && name[len(name)-len(suf)-1] == '.' {
			return true
		}
	}
	return false
}

// entropy is the Shannon entropy of s in bits per byte, ignoring dots:
// base32 or hex payloads score near 4 to 5, words near 3.
func entropy(s string) float64 {
	var counts [256]int
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '.' {
			counts[s[i]]++
			n++
		}
	}
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / float64(n)
			h -= p * math.Log2(p)
		}
	}
	return h
}
