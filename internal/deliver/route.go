package deliver

import (
	"slices"
	"strings"
)

// TagsFunc says which tags an entity of a finding or a metric's device
// has ("ip:10.0.0.5" → [prod, web]), from the asset inventory and the
// CIDR map; nil when they are not known. It must be safe for concurrent
// use.
type TagsFunc func(entity string) []string

// route is an output's filter, compiled once: the kinds it carries and
// a predicate per event. Keys that do not apply to a kind (min_severity,
// detectors, states for sessions and metrics) do not filter it.
type route struct {
	kinds [KindMetric + 1]bool
	match func(e *Event) bool
}

func severityRank(s string) int {
	return slices.Index(severities, s) + 1 // 0 for unknown
}

// newRoute compiles c's kinds and filters; c is valid.
func newRoute(c Config, tags TagsFunc) route {
	var r route
	for _, k := range c.Kinds {
		kind, _ := ParseKind(k)
		r.kinds[kind] = true
	}
	f := c.Filter
	var preds []func(e *Event) bool
	if len(f.Tenants) > 0 {
		tenants := slices.Clone(f.Tenants)
		preds = append(preds, func(e *Event) bool { return slices.Contains(tenants, e.Tenant) })
	}
	if f.MinSeverity != "" {
		floor := severityRank(f.MinSeverity)
		preds = append(preds, func(e *Event) bool {
			return e.Kind != KindFinding || severityRank(e.Finding.Severity) >= floor
		})
	}
	if len(f.Detectors) > 0 {
		dets := slices.Clone(f.Detectors)
		preds = append(preds, func(e *Event) bool {
			return e.Kind != KindFinding || slices.Contains(dets, e.Finding.Detector)
		})
	}
	if len(f.States) > 0 {
		sts := slices.Clone(f.States)
		preds = append(preds, func(e *Event) bool {
			return e.Kind != KindFinding || slices.Contains(sts, e.Finding.State)
		})
	}
	if len(f.Tags) > 0 {
		want := slices.Clone(f.Tags)
		preds = append(preds, func(e *Event) bool { return hasTag(e, want, tags) })
	}
	r.match = func(e *Event) bool {
		for _, p := range preds {
			if !p(e) {
				return false
			}
		}
		return true
	}
	return r
}

// hasTag says whether the event is about something tagged with one of
// want: a session's either end; a finding's "tag:<t>" entity, or an
// entity the enrichment tags; a metric's device as the enrichment tags
// it (by "ip:<address>" id or asset id).
func hasTag(e *Event, want []string, tags TagsFunc) bool {
	has := func(have []string) bool {
		for _, t := range have {
			if slices.Contains(want, t) {
				return true
			}
		}
		return false
	}
	switch e.Kind {
	case KindSession:
		return has(e.Session.Orig.Tags) || has(e.Session.Resp.Tags)
	case KindFinding:
		for _, ent := range e.Finding.Entities {
			if t, ok := strings.CutPrefix(ent, "tag:"); ok && slices.Contains(want, t) {
				return true
			}
			if tags != nil && has(tags(ent)) {
				return true
			}
		}
	case KindMetric:
		if tags == nil {
			return false
		}
		if strings.HasPrefix(e.Metric.Device, "ip:") && has(tags(e.Metric.Device)) {
			return true
		}
		if e.Metric.Asset != "" && has(tags("asset:"+e.Metric.Asset)) {
			return true
		}
	}
	return false
}
