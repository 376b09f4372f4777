// Package scenario generates labelled traffic to measure detection
// quality: a fleet of IoT devices and cloud VMs behaving as such fleets
// do (with the periodic, bursty and novel habits that trip naive
// detectors), and incidents of every detector kind injected into it on
// chosen devices at chosen times, each with a Label saying what a
// correct finding must name. Score matches an engine's findings to the
// labels: recall per kind, and findings that match nothing as false
// findings per 100 device-hours. The sessions are what the sensor and
// enrichment would write (assets, segments, tags, direction, intel
// hits, DPI fields, conn_state, interim records), in the order of their
// end times, and the same seed gives the same sessions.
package scenario

import (
	"cmp"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Config sizes a scenario.
type Config struct {
	Seed  uint64
	Start time.Time // midnight of the first day, UTC
	Hours int
	// Devices are IoT devices (sensors, cameras, PLCs in turn), VMs are
	// cloud instances (web, app, database, Windows in turn).
	Devices, VMs int
	// Incidents is how many instances of each kind are injected; they
	// start after the first day, when the learning detectors are armed.
	Incidents int
	Tenant    string
}

// DefaultConfig is two days of 24 devices and 12 VMs (1 728
// device-hours) with four incidents of each kind.
func DefaultConfig() Config {
	return Config{Seed: 1, Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Hours: 48,
		Devices: 24, VMs: 12, Incidents: 4, Tenant: "acme"}
}

// firstIncident is when incidents may start: after the longest learning
// period of the default detectors (24 h) and a margin.
const firstIncident = 26 * time.Hour

// Validate names the field at fault.
func (c Config) Validate() error {
	switch {
	case c.Hours < 30:
		return fmt.Errorf("hours: %d, want at least 30 (incidents start after %v of learning)", c.Hours, firstIncident)
	case c.Devices < 3 || c.VMs < 4:
		return fmt.Errorf("devices: %d, vms: %d, want at least 3 and 4 (one of each role)", c.Devices, c.VMs)
	case c.Incidents < 0:
		return fmt.Errorf("incidents: %d is negative", c.Incidents)
	}
	return nil
}

// DeviceHours is the benign exposure the false-finding rate is per:
// the counted devices and VMs times the hours. Infrastructure (resolver,
// NVR, SCADA, bastion, load balancer, admin workstations) is not
// counted, though its findings are.
func (c Config) DeviceHours() float64 { return float64((c.Devices + c.VMs) * c.Hours) }

// Scenario is a planned run: its labels are known before its sessions
// are generated.
type Scenario struct {
	cfg       Config
	incidents []incident
	labels    []Label
}

// Generate plans the incidents of cfg.
func Generate(cfg Config) (*Scenario, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sc := &Scenario{cfg: cfg}
	f := newFleet(cfg, rand.New(rand.NewPCG(cfg.Seed, 1)))
	sc.incidents = plan(cfg, f, rand.New(rand.NewPCG(cfg.Seed, 2)))
	for _, in := range sc.incidents {
		sc.labels = append(sc.labels, in.label)
	}
	// The cameras answer the NVR's ONVIF polls over plain HTTP, as most
	// cameras do: a cleartext management interface the audit reports.
	end := cfg.Start.Add(time.Duration(cfg.Hours) * time.Hour)
	for _, d := range f.byRole[camera] {
		l := NewLabel("cleartext_management", cfg.Start, end, []string{"asset:" + d.asset, "port:80"}, "cleartext-management-http")
		l.Posture, l.Note = true, d.name+" serves ONVIF over plain HTTP"
		sc.labels = append(sc.labels, l)
	}
	return sc, nil
}

// Labels are the injected incidents, and the fleet's standing
// weaknesses (Label.Posture).
func (sc *Scenario) Labels() []Label { return slices.Clone(sc.labels) }

// Batch is a batch of records: sessions, or the device metrics agents
// reported at one time. Exactly one of the two is set.
type Batch struct {
	Sessions []schema.Session
	Metrics  []schema.DeviceMetric
}

// Records generates the traffic hour by hour and yields it in time
// order: sessions in batches ordered by end time, as a sensor writes
// records when sessions end, and every five minutes the metrics the
// agent devices report for the window that just ended, after the
// sessions that ended by then. Each call generates the same records
// again.
func (sc *Scenario) Records() iter.Seq[Batch] {
	return func(yield func(Batch) bool) {
		// Incidents draw from their own random source, so that the
		// benign traffic is the same whatever is injected into it.
		ig := newGen(sc.cfg, 4, "I")
		for _, in := range sc.incidents {
			if in.emit != nil {
				in.emit(ig, ig.fleet.devices[in.dev])
			}
		}
		injected := ig.out
		sortByStart(injected)
		g := newGen(sc.cfg, 3, "C")
		mg := &metricGen{g: g, rng: rand.New(rand.NewPCG(sc.cfg.Seed, 5)), incidents: sc.incidents}
		var pending []schema.Session
		for h := range sc.cfg.Hours {
			from := sc.cfg.Start.Add(time.Duration(h) * time.Hour)
			to := from.Add(time.Hour)
			g.out = pending
			g.hour(from, to)
			n := 0
			for n < len(injected) && injected[n].Start.Before(to) {
				n++
			}
			g.out, injected = append(g.out, injected[:n]...), injected[n:]
			sortByEnd(g.out)
			cut := len(g.out)
			if h < sc.cfg.Hours-1 {
				cut = endingBefore(g.out, to)
			}
			batch := g.out[:cut]
			pending = slices.Clone(g.out[cut:])
			for t := from.Add(reportEvery); !t.After(to); t = t.Add(reportEvery) {
				k := endingBefore(batch, t.Add(1))
				if k > 0 && !yield(Batch{Sessions: batch[:k]}) {
					return
				}
				batch = batch[k:]
				mg.out = nil
				mg.window(t)
				if !yield(Batch{Metrics: mg.out}) {
					return
				}
			}
			if len(batch) > 0 && !yield(Batch{Sessions: batch}) {
				return
			}
		}
	}
}

// Sessions yields the sessions of Records alone.
func (sc *Scenario) Sessions() iter.Seq[[]schema.Session] {
	return func(yield func([]schema.Session) bool) {
		for b := range sc.Records() {
			if len(b.Sessions) > 0 && !yield(b.Sessions) {
				return
			}
		}
	}
}

// endingBefore is how many of ss, sorted by end, end before t.
func endingBefore(ss []schema.Session, t time.Time) int {
	k, _ := slices.BinarySearchFunc(ss, t, func(s schema.Session, t time.Time) int { return s.End.Compare(t) })
	return k
}

func sortByEnd(ss []schema.Session) {
	slices.SortStableFunc(ss, func(a, b schema.Session) int {
		return cmp.Or(a.End.Compare(b.End), cmp.Compare(a.UID, b.UID), cmp.Compare(a.Seq, b.Seq))
	})
}

func sortByStart(ss []schema.Session) {
	slices.SortStableFunc(ss, func(a, b schema.Session) int { return a.Start.Compare(b.Start) })
}

// gen holds what generating sessions needs: the fleet and its state,
// the random source, the resolver's cache per client, the intel feed.
type gen struct {
	cfg        Config
	rng        *rand.Rand
	fleet      *fleet
	uidPrefix  string
	uids       uint64
	out        []schema.Session
	certs      certs
	state      map[*node]*deviceState
	dnsCache   map[dnsKey]dnsEntry
	intelIPs   map[netip.Addr]string
	intelNames map[string]bool
}

func newGen(cfg Config, stream uint64, uidPrefix string) *gen {
	g := &gen{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, stream)), uidPrefix: uidPrefix,
		fleet: newFleet(cfg, rand.New(rand.NewPCG(cfg.Seed, 1))),
		state: map[*node]*deviceState{}, dnsCache: map[dnsKey]dnsEntry{},
		intelIPs: map[netip.Addr]string{}, intelNames: map[string]bool{}}
	g.certs = newCerts(cfg, g.fleet)
	for _, ind := range intelIndicators {
		if ip, err := netip.ParseAddr(ind); err == nil {
			g.intelIPs[ip] = ind
		} else {
			g.intelNames[ind] = true
		}
	}
	return g
}

// intelFeed and its indicators: the command-and-control addresses and
// names of the threat-intel incidents. Nothing benign is listed.
const intelFeed = "abuse-c2"

var intelIndicators = []string{"203.0.113.66", "203.0.113.67", "203.0.113.80", "198.51.100.23",
	"cdn-update.badgate.example", "telemetry.sysupd.example"}

// deviceState is what a host's behaviours carry across hours.
type deviceState struct {
	next  map[string]time.Time // next occurrence of each periodic habit
	flows map[string]*flow     // its long-lived connections
	param map[string]float64   // per-device constants drawn once (periods)
}

func (g *gen) st(n *node) *deviceState {
	s := g.state[n]
	if s == nil {
		s = &deviceState{next: map[string]time.Time{}, flows: map[string]*flow{}, param: map[string]float64{}}
		g.state[n] = s
	}
	return s
}

// param draws a per-device constant once, uniform in [lo, hi).
func (g *gen) param(n *node, key string, lo, hi float64) float64 {
	st := g.st(n)
	v, ok := st.param[key]
	if !ok {
		v = lo + g.rng.Float64()*(hi-lo)
		st.param[key] = v
	}
	return v
}

// every calls fn at each occurrence within [from, to) of a habit
// repeating every period, each interval off by up to ±jitter of it.
// The first occurrence falls at a random point of the first period.
func (g *gen) every(n *node, key string, from, to time.Time, period time.Duration, jitter float64, fn func(time.Time)) {
	st := g.st(n)
	t, ok := st.next[key]
	if !ok {
		t = from.Add(time.Duration(g.rng.Float64() * float64(period)))
	}
	for ; t.Before(to); t = t.Add(time.Duration(float64(period) * (1 + jitter*(2*g.rng.Float64()-1)))) {
		fn(t)
	}
	st.next[key] = t
}

// poisson calls fn at random times within [from, to), rate per hour
// scaled by the time of day when diurnal.
func (g *gen) poisson(from, to time.Time, rate float64, diurnal bool, fn func(time.Time)) {
	if diurnal {
		rate *= dayFactor(from)
	}
	if rate <= 0 {
		return
	}
	for t := from; ; {
		t = t.Add(time.Duration(g.rng.ExpFloat64() / rate * float64(time.Hour)))
		if !t.Before(to) {
			return
		}
		fn(t)
	}
}

// dayFactor is the share of peak activity at t: 0.3 at 04:00, 1 at 16:00.
func dayFactor(t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	return 0.3 + 0.7*(1-math.Cos(2*math.Pi*(h-4)/24))/2
}

// jit returns d off by up to ±j of it.
func (g *gen) jit(d time.Duration, j float64) time.Duration {
	return time.Duration(float64(d) * (1 + j*(2*g.rng.Float64()-1)))
}

// between is uniform in [lo, hi).
func (g *gen) between(lo, hi uint64) uint64 { return lo + g.rng.Uint64N(hi-lo) }

type dnsKey struct {
	client *node
	name   string
}

type dnsEntry struct {
	addr    netip.Addr
	expires time.Time
}

// resolve is a client looking name up through the resolver: a query is
// written when its cached answer expired. It returns the address and
// when the answer arrived.
func (g *gen) resolve(client *node, name string, t time.Time, ttl time.Duration) (netip.Addr, time.Time) {
	k := dnsKey{client, name}
	if e, ok := g.dnsCache[k]; ok && t.Before(e.expires) {
		return e.addr, t
	}
	pool := g.fleet.services[name]
	addr := pool[g.rng.IntN(len(pool))]
	rtt := time.Duration(2+g.rng.IntN(40)) * time.Millisecond
	g.emit(conn{at: t, dur: rtt, orig: client, resp: g.fleet.resolver, dport: 53, udp: true,
		ob: uint64(17 + len(name)), rb: uint64(33 + len(name)), app: "dns",
		l7: dnsL7(uint16(g.rng.IntN(65536)), name, "A", addr.String())})
	g.dnsCache[k] = dnsEntry{addr, t.Add(ttl)}
	return addr, t.Add(rtt)
}
