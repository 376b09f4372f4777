package profile

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// Detector evaluates security profiles. It is a detect.Detector (the
// sessions it derives metrics from), a detect.MetricDetector (the
// metrics devices report) and a detect.Ticker (derivation windows
// closing, statistical thresholds recomputed). Its findings are named
// "profile", with rule "<profile>/<behavior>".
type Detector struct {
	cfg      Config
	rules    []*rule
	byMetric map[string][]*rule
	targets  []*target       // per profile
	series   map[string]bool // metrics whose recent datapoints are kept (durationSeconds, ML)
	learn    map[string]bool // metrics with an ML behaviour
	devices  map[devKey]*device
	pops     map[popKey]*population
	popKeys  []popKey // in creation order, so ticks are deterministic
	nextID   uint64
	evicted  uint64
	derive   deriver
}

// New loads cfg.Files and builds the detector.
func New(cfg Config) (*Detector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ps, err := Load(cfg.Files...)
	if err != nil {
		return nil, err
	}
	return NewFromProfiles(cfg, ps)
}

// NewFromProfiles builds the detector from profiles already loaded (and
// validated by Load or Parse); cfg.Files is not read.
func NewFromProfiles(cfg Config, profiles []SecurityProfile) (*Detector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, p := range profiles {
		names[p.SecurityProfileName] = true
	}
	keys := make([]string, 0, len(cfg.Targets))
	for n := range cfg.Targets {
		keys = append(keys, n)
	}
	sort.Strings(keys)
	for _, n := range keys {
		if !names[n] {
			return nil, fmt.Errorf("targets.%s: no profile of that name is loaded", n)
		}
	}
	d := &Detector{cfg: cfg, byMetric: map[string][]*rule{}, series: map[string]bool{}, learn: map[string]bool{},
		devices: map[devKey]*device{}, pops: map[popKey]*population{}}
	for pi := range profiles {
		p := &profiles[pi]
		t, ok := cfg.Targets[p.SecurityProfileName]
		d.targets = append(d.targets, compileTarget(t, ok))
		for bi := range p.Behaviors {
			r := compileRule(p, &p.Behaviors[bi], cfg.Severity)
			r.index, r.profile = len(d.rules), pi
			d.rules = append(d.rules, r)
			d.byMetric[r.metric] = append(d.byMetric[r.metric], r)
			d.series[r.metric] = d.series[r.metric] || r.duration > 0 || r.sigmas > 0
			d.learn[r.metric] = d.learn[r.metric] || r.sigmas > 0
		}
	}
	d.derive = newDeriver(d)
	return d, nil
}

func (d *Detector) Name() string { return "profile" }

// Evictions counts the devices, open flows and list entries dropped at
// the memory caps.
func (d *Detector) Evictions() uint64 { return d.evicted + d.derive.evicted }

// Metric takes a datapoint a device reported.
func (d *Detector) Metric(m *schema.DeviceMetric, report func(detect.Report)) {
	if len(d.byMetric[m.Name]) == 0 {
		return
	}
	dev := d.device(devKey{tenant: m.Tenant, kind: kindThing, id: m.Device}, attrs{thing: m.Device, asset: m.Asset})
	d.datapoint(dev, m.Name, m.Time, m.Value, m.List, report)
}

// Session derives metrics from sessions (derive.go).
func (d *Detector) Session(s *schema.Session, report func(detect.Report)) {
	d.derive.session(s, report)
}

// Tick closes the derivation window and recomputes the statistical
// thresholds whose population changed or aged.
func (d *Detector) Tick(now time.Time, report func(detect.Report)) {
	d.derive.roll(now, report)
	for _, k := range d.popKeys {
		if p := d.pops[k]; p.due(now) {
			p.recompute(now)
		}
	}
}

// Finish evaluates the derivation window still open when the input
// ends, if the input covered at least half of it: a capture that stops
// mid-window still gives its last datapoint, but a sliver of a window
// would read as a device gone quiet.
func (d *Detector) Finish(now time.Time, report func(detect.Report)) {
	dv := &d.derive
	if !dv.on || dv.start.IsZero() || now.Sub(dv.start) < d.cfg.Window/2 {
		return
	}
	dv.roll(dv.start.Add(d.cfg.Window), report)
}

// Device kinds: a thing that reports metrics, or a session endpoint
// known by its asset id or, failing that, its address.
const (
	kindThing uint8 = iota
	kindAsset
	kindIP
)

type devKey struct {
	tenant string
	kind   uint8
	id     string // thing name or asset id
	ip     netip.Addr
}

type device struct {
	id       uint64
	key      devKey
	entities []string
	targeted []bool  // per profile
	alarms   []alarm // per rule, allocated at the first datapoint
	series   map[string]*series
}

// alarm is the state AWS keeps per behaviour and device: the violations
// and the normal datapoints in a row, and whether it is in alarm.
type alarm struct {
	violations, normals uint8
	active              bool
}

func (d *Detector) device(k devKey, a attrs) *device {
	if dev, ok := d.devices[k]; ok {
		return dev
	}
	if len(d.devices) >= d.cfg.MaxDevices {
		for old := range d.devices { // random: Go randomises map order
			delete(d.devices, old)
			d.evicted++
			break
		}
	}
	d.nextID++
	dev := &device{id: d.nextID, key: k, targeted: make([]bool, len(d.targets))}
	a.derived = k.kind != kindThing
	for i, t := range d.targets {
		dev.targeted[i] = t.match(&a)
	}
	switch k.kind {
	case kindThing:
		dev.entities = []string{"thing:" + k.id}
		if a.asset != "" {
			dev.entities = append(dev.entities, "asset:"+a.asset)
		}
	case kindAsset:
		dev.entities = []string{"asset:" + k.id}
		if a.ip.IsValid() {
			dev.entities = append(dev.entities, "ip:"+a.ip.String())
		}
	default:
		dev.entities = []string{"ip:" + a.ip.String()}
	}
	d.devices[k] = dev
	return dev
}

// datapoint evaluates every behaviour on metric name for one device's
// datapoint at t.
func (d *Detector) datapoint(dev *device, name string, t time.Time, value float64, list []string, report func(detect.Report)) {
	var s *series
	if d.series[name] {
		if dev.series == nil {
			dev.series = map[string]*series{}
		}
		if s = dev.series[name]; s == nil {
			s = &series{}
			dev.series[name] = s
		}
		s.add(t, value)
	}
	learnt := s != nil && d.learn[name] && s.ml.ready(t, &d.cfg)
	for _, r := range d.byMetric[name] {
		if !dev.targeted[r.profile] {
			continue
		}
		v, threshold := value, r.threshold
		var bad []string
		var violation bool
		if r.duration > 0 {
			v = s.sum(t, r.duration)
		}
		switch {
		case r.sigmas > 0:
			if !learnt {
				continue
			}
			z := s.ml.z(value, d.cfg.MLMinSpread)
			violation, threshold = math.Abs(z) > r.sigmas, math.Expm1(s.ml.mean)
		case r.statistic != "":
			p := d.population(r, dev.key.tenant)
			p.add(t, v, dev.id)
			if !p.ready {
				continue
			}
			threshold = p.threshold
			violation = !r.normal(v, threshold)
		case r.kind == kindNumber:
			violation = !r.normal(v, threshold)
		default:
			bad = r.offending(list)
			violation = len(bad) > 0
		}
		switch active, cleared := d.step(dev, r, violation); {
		case active:
			report(d.report(dev, r, s, t, v, threshold, bad))
		case cleared:
			report(detect.Report{Time: t, Tenant: dev.key.tenant, Rule: r.id, Entities: dev.entities,
				DedupeKey: r.id + "|" + dev.entities[0], Clear: true})
		}
	}
	if s != nil && d.learn[name] {
		s.ml.update(t, value, learnt, &d.cfg)
	}
}

// step moves the behaviour's alarm for the device on by one datapoint
// and says whether it is in alarm after it, and whether this datapoint
// cleared it: alarms after toAlarm violations in a row, clears after
// toClear normal datapoints in a row.
func (d *Detector) step(dev *device, r *rule, violation bool) (active, cleared bool) {
	if dev.alarms == nil {
		dev.alarms = make([]alarm, len(d.rules))
	}
	a := &dev.alarms[r.index]
	if violation {
		a.normals = 0
		a.violations = min(a.violations+1, 10)
		a.active = a.active || a.violations >= r.toAlarm
		return a.active, false
	}
	a.violations = 0
	if a.active {
		a.normals++
		if a.normals >= r.toClear {
			a.active, a.normals = false, 0
			return false, true
		}
	}
	return a.active, false
}

type popKey struct {
	rule   int
	tenant string
}

func (d *Detector) population(r *rule, tenant string) *population {
	k := popKey{r.index, tenant}
	p := d.pops[k]
	if p == nil {
		p = newPopulation(r.percentile, &d.cfg)
		d.pops[k] = p
		d.popKeys = append(d.popKeys, k)
	}
	return p
}

// report describes the device's alarm on one datapoint; while the alarm
// lasts every datapoint reports, so the engine keeps the finding open,
// and once it clears reports stop and the engine clears it.
func (d *Detector) report(dev *device, r *rule, s *series, t time.Time, v, threshold float64, bad []string) detect.Report {
	rep := detect.Report{Time: t, Tenant: dev.key.tenant, Rule: r.id, Severity: r.severity, Entities: dev.entities,
		DedupeKey: r.id + "|" + dev.entities[0], Technique: r.technique,
		Values: map[string]float64{"value": v, "consecutive_datapoints_to_alarm": float64(r.toAlarm)}}
	if r.suppress {
		rep.Values["suppressed"] = 1
	}
	what := dev.entities[0]
	switch {
	case r.sigmas > 0:
		z := s.ml.z(v, d.cfg.MLMinSpread)
		rep.Values["baseline"], rep.Values["z"], rep.Values["sigmas"] = threshold, z, r.sigmas
		rep.Summary = fmt.Sprintf("%s: %s %g is %.1f spreads from its learnt baseline %.4g (ML %s confidence, over %g)",
			what, r.metric, v, z, threshold, r.confidence, r.sigmas)
	case r.kind == kindNumber:
		rep.Values["threshold"] = threshold
		th := fmt.Sprintf("%g", threshold)
		if r.statistic != "" {
			th = fmt.Sprintf("%s of the profile's devices (%g)", r.statistic, threshold)
		}
		over := ""
		if r.duration > 0 {
			over = fmt.Sprintf(" over %v", r.duration)
		}
		rep.Summary = fmt.Sprintf("%s: %s%s is %g, expected %s %s", what, r.metric, over, v, r.op, th)
	default:
		rep.Values["offending"] = float64(len(bad))
		rep.Summary = fmt.Sprintf("%s: %s has %s, expected %s %s", what, r.metric, listing(bad), r.op, listing(r.set()))
	}
	return rep
}

// set is the rule's set criterion as text, for summaries.
func (r *rule) set() []string {
	var out []string
	for _, p := range r.cidrs {
		out = append(out, p.String())
	}
	for _, p := range r.ports {
		out = append(out, fmt.Sprint(p))
	}
	for _, n := range r.numbers {
		out = append(out, fmt.Sprint(n))
	}
	for s := range r.strings {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// listing shows at most five entries.
func listing(items []string) string {
	if len(items) > 5 {
		return "[" + strings.Join(items[:5], " ") + fmt.Sprintf(" and %d more]", len(items)-5)
	}
	return "[" + strings.Join(items, " ") + "]"
}
