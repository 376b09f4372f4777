package profile

import (
	"math"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
)

// mlSigmas are the deviations, in spreads of the learned baseline, past
// which a datapoint is anomalous at each confidence: HIGH is the
// strictest, so it raises the fewest alarms.
var mlSigmas = map[string]float64{"LOW": 3, "MEDIUM": 4.5, "HIGH": 6}

// rule is one behaviour of one profile, compiled for evaluation.
type rule struct {
	index    int // in Detector.rules; indexes a device's alarm states
	profile  int // in Detector.targets
	id       string
	metric   string // with its dimension: name[dim], name[!dim], as the collector writes it
	kind     kind
	op       string
	duration time.Duration
	toAlarm  uint8
	toClear  uint8

	threshold float64 // value criteria on numbers
	cidrs     []netip.Prefix
	ports     []uint16
	numbers   []float64
	strings   map[string]bool

	statistic  string  // statisticalThreshold: "p90", …
	percentile float64 // and its rank, 0 to 1
	confidence string  // mlDetectionConfig
	sigmas     float64 // 0 unless ML

	severity  detect.Severity
	suppress  bool
	technique string
}

func compileRule(p *SecurityProfile, b *Behavior, severity detect.Severity) *rule {
	cr := b.Criteria
	r := &rule{id: p.SecurityProfileName + "/" + b.Name, metric: b.Metric, kind: metricKind(b.Metric, cr),
		op: cr.ComparisonOperator, toAlarm: 1, toClear: 1, severity: severity,
		technique: catalog[b.Metric].technique}
	if d := b.MetricDimension; d != nil {
		if d.Operator == "NOT_IN" {
			r.metric += "[!" + d.DimensionName + "]"
		} else {
			r.metric += "[" + d.DimensionName + "]"
		}
	}
	if cr.DurationSeconds != nil {
		r.duration = time.Duration(*cr.DurationSeconds) * time.Second
	}
	if v := cr.ConsecutiveDatapointsToAlarm; v != nil {
		r.toAlarm = uint8(*v)
	}
	if v := cr.ConsecutiveDatapointsToClear; v != nil {
		r.toClear = uint8(*v)
	}
	if b.SuppressAlerts != nil && *b.SuppressAlerts {
		r.suppress, r.severity = true, detect.Info
	}
	switch {
	case cr.MLDetectionConfig != nil:
		r.confidence = cr.MLDetectionConfig.ConfidenceLevel
		r.sigmas = mlSigmas[r.confidence]
	case cr.StatisticalThreshold != nil:
		r.statistic = cr.StatisticalThreshold.Statistic
		r.percentile = statistics[r.statistic]
	default:
		v := cr.Value
		switch {
		case v.Count != nil:
			r.threshold = float64(*v.Count)
		case v.Number != nil:
			r.threshold = *v.Number
		}
		for _, s := range v.CIDRs {
			pfx, _ := parsePrefix(s) // validated
			r.cidrs = append(r.cidrs, pfx)
		}
		for _, port := range v.Ports {
			r.ports = append(r.ports, uint16(port))
		}
		r.numbers = v.Numbers
		if v.Strings != nil {
			r.strings = make(map[string]bool, len(v.Strings))
			for _, s := range v.Strings {
				r.strings[s] = true
			}
		}
	}
	return r
}

// normal says whether v meets the comparison with threshold: criteria
// describe normal behaviour, and anything else is a violation.
func (r *rule) normal(v, threshold float64) bool {
	switch r.op {
	case "less-than":
		return v < threshold
	case "less-than-equals":
		return v <= threshold
	case "greater-than":
		return v > threshold
	case "greater-than-equals":
		return v >= threshold
	}
	return true
}

// offending lists the entries of a list metric that break the set
// criterion: outside the set for in-*, inside it for not-in-*. An entry
// that does not parse is outside every set.
func (r *rule) offending(list []string) []string {
	var bad []string
	for _, s := range list {
		in := false
		switch r.kind {
		case kindIPList:
			if p, err := parsePrefix(s); err == nil {
				in = slices.ContainsFunc(r.cidrs, func(c netip.Prefix) bool {
					return c.Bits() <= p.Bits() && c.Contains(p.Addr())
				})
			}
		case kindPortList:
			if n, err := strconv.Atoi(s); err == nil {
				in = n >= 0 && n <= math.MaxUint16 && slices.Contains(r.ports, uint16(n))
			}
		case kindNumberList:
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				in = slices.Contains(r.numbers, f)
			}
		default:
			in = r.strings[s]
		}
		negated := r.op == "not-in-cidr-set" || r.op == "not-in-port-set" || r.op == "not-in-set"
		if in == negated {
			bad = append(bad, s)
		}
	}
	return bad
}

// target is a compiled Target.
type target struct {
	all                    bool
	reported, derived      bool
	things                 map[string]bool
	globs                  []string
	assets, tags, segments map[string]bool
	cidrs                  []netip.Prefix
}

func compileTarget(t Target, ok bool) *target {
	c := &target{all: !ok || len(t.Things)+len(t.Assets)+len(t.Tags)+len(t.Segments)+len(t.CIDRs) == 0,
		reported: t.Source != sourceDerived, derived: t.Source != sourceReported,
		things: set(nil), assets: set(t.Assets), tags: set(t.Tags), segments: set(t.Segments)}
	for _, th := range t.Things {
		if !hasMeta(th) {
			c.things[th] = true
		} else {
			c.globs = append(c.globs, th)
		}
	}
	for _, s := range t.CIDRs {
		p, _ := parsePrefix(s) // validated
		c.cidrs = append(c.cidrs, p)
	}
	return c
}

func hasMeta(s string) bool {
	return slices.ContainsFunc([]byte(s), func(b byte) bool { return b == '*' || b == '?' || b == '[' || b == '\\' })
}

func set(items []string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

// attrs is what targeting knows of a device: a thing that reports, or
// an endpoint of sessions with its enrichment.
type attrs struct {
	thing   string
	asset   string
	ip      netip.Addr
	tags    []string
	segment string
	derived bool
}

func (t *target) match(a *attrs) bool {
	if a.derived && !t.derived || !a.derived && !t.reported {
		return false
	}
	if t.all {
		return true
	}
	if a.thing != "" {
		if t.things[a.thing] {
			return true
		}
		for _, g := range t.globs {
			if ok, _ := path.Match(g, a.thing); ok {
				return true
			}
		}
	}
	if a.asset != "" && t.assets[a.asset] || a.segment != "" && t.segments[a.segment] {
		return true
	}
	for _, tag := range a.tags {
		if t.tags[tag] {
			return true
		}
	}
	return a.ip.IsValid() && slices.ContainsFunc(t.cidrs, func(p netip.Prefix) bool { return p.Contains(a.ip) })
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
