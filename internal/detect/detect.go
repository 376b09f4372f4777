// Package detect turns sessions and device metrics into findings. Its
// subpackages hold the detectors — policy (baseline and segmentation
// policies, CEL), behave (behavioural detectors on sessions) — and this
// package the contract they share and the engine that runs them: it
// feeds every session to every detector, folds repeated reports of one
// finding by their dedupe key, keeps each finding's lifecycle (active,
// cleared, acknowledged, verdicts) and applies suppressions, and writes
// findings to a FindingSink (the store, a JSON-lines file, outputs).
package detect

import (
	"context"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Detector sees every session, in order, from one goroutine, and reports
// what it finds. It must not keep the session past the call (copy what it
// needs). Detectors with state bound their memory and say how in their
// documentation.
type Detector interface {
	// Name is the detector's name in findings (schema.Finding.Detector).
	Name() string
	Session(s *schema.Session, report func(Report))
}

// Ticker is a Detector that also acts on time passing (windows closing,
// baselines maturing): the engine calls Tick at least every few seconds
// of session time and at the end of the input.
type Ticker interface {
	Tick(now time.Time, report func(Report))
}

// MetricDetector is a Detector that also sees device metrics (Device
// Defender behaviours).
type MetricDetector interface {
	Metric(m *schema.DeviceMetric, report func(Report))
}

// Evictor is a Detector with bounded memory: how many tracked keys
// (sources, pairs, devices) it dropped because a cap was reached. The
// engine exports it as osprey_detect_detector_evictions_total.
type Evictor interface {
	Evictions() uint64
}

// Report is one observation of a finding. Reports with the same
// DedupeKey are one finding: the engine keeps the first, counts the
// rest, updates its last-seen time and evidence and adds the entities
// they name (up to 32).
type Report struct {
	Time     time.Time // when it happened: the session's end, the metric's time
	Tenant   string
	Rule     string   // the rule or behaviour that fired, e.g. "ssh-from-internet", "horizontal-scan"
	Severity Severity // info, low, medium, high, critical
	// Entities are what the finding is about, as typed ids:
	// "ip:10.0.0.5", "asset:i-0abc", "device:mac:00:11:22:33:44:55",
	// "thing:thermostat-1", "domain:evil.example", "port:22".
	Entities []string
	// DedupeKey folds repeats; detectors build it from the rule and the
	// entities that make the finding the same finding.
	DedupeKey string
	// Technique is the MITRE ATT&CK technique id where one fits (T1046).
	Technique string
	// Summary is one human sentence ("10.0.0.5 probed 212 hosts on 22/tcp
	// in 60 s").
	Summary string
	// Sessions are the record ids ("uid/seq") the finding rests on, at
	// most a few dozen; Values are the measured values (counts, bytes,
	// scores, thresholds) by name.
	Sessions []string
	Values   map[string]float64
	// Clear says the condition is over (an alarm's consecutive clearing
	// datapoints were seen): the open finding with this DedupeKey clears
	// now rather than after its quiet time. Only Tenant, Rule, Entities
	// and DedupeKey are read; nothing is raised.
	Clear bool
}

// Finisher is a Detector with work pending when the input ends (a window
// still open when a capture ends): the engine calls Finish at Close,
// before its last tick.
type Finisher interface {
	Finish(now time.Time, report func(Report))
}

// Severity orders findings.
type Severity string

const (
	Info     Severity = "info"
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// FindingSink receives findings as they are raised or change state. The
// slice belongs to the caller once WriteFindings returns.
type FindingSink interface {
	WriteFindings(ctx context.Context, batch []schema.Finding) error
	Close() error
}
