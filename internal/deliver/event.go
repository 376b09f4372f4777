package deliver

import (
	"fmt"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Kind is what an event carries.
type Kind uint8

const (
	KindFinding Kind = iota + 1
	KindSession
	KindMetric
)

// kindNames are the names of kinds in configuration (plural, as in
// "kinds: [findings, sessions]") and in records (singular).
var kindNames = [...]struct{ one, many string }{
	KindFinding: {"finding", "findings"},
	KindSession: {"session", "sessions"},
	KindMetric:  {"metric", "metrics"},
}

// String is the kind's singular name: finding, session or metric.
func (k Kind) String() string {
	if int(k) < len(kindNames) && k > 0 {
		return kindNames[k].one
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind reads a kind by its plural (configuration) or singular name.
func ParseKind(s string) (Kind, error) {
	for k := KindFinding; k <= KindMetric; k++ {
		if s == kindNames[k].one || s == kindNames[k].many {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown kind %q (want findings, sessions or metrics)", s)
}

// Event is the envelope of everything that flows through outputs: one
// finding, session or device metric, with the tenant and time every
// kind has. Exactly one of Finding, Session and Metric is set, as Kind
// says. Encoders must not keep the event or what it points to.
type Event struct {
	Kind   Kind      `json:"kind"`
	Tenant string    `json:"tenant,omitempty"`
	Time   time.Time `json:"time"` // the finding's first report, the session's end, the metric's time

	Finding *schema.Finding      `json:"finding,omitempty"`
	Session *schema.Session      `json:"session,omitempty"`
	Metric  *schema.DeviceMetric `json:"metric,omitempty"`
}

// MarshalText lets the kind appear by name in JSON.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Record returns the record the event carries: a *schema.Finding,
// *schema.Session or *schema.DeviceMetric.
func (e *Event) Record() any {
	switch e.Kind {
	case KindFinding:
		return e.Finding
	case KindSession:
		return e.Session
	case KindMetric:
		return e.Metric
	}
	return nil
}

func findingEvent(f *schema.Finding) Event {
	return Event{Kind: KindFinding, Tenant: f.Tenant, Time: f.Time, Finding: f}
}

func sessionEvent(s *schema.Session) Event {
	return Event{Kind: KindSession, Tenant: s.Tenant, Time: s.End, Session: s}
}

func metricEvent(m *schema.DeviceMetric) Event {
	return Event{Kind: KindMetric, Tenant: m.Tenant, Time: m.Time, Metric: m}
}

// Record is one encoded event in an output's queue, as a Destination
// receives it.
type Record struct {
	Seq    uint64    // the queue's sequence number: unique per output, increasing
	Kind   Kind      // what the record was encoded from
	Queued time.Time // when it entered the queue
	Data   []byte    // the encoder's bytes
}
