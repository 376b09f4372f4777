package audit

import (
	"fmt"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// ClientIDConfig configures CONFLICTING_CLIENT_IDS_CHECK.
type ClientIDConfig struct {
	Enabled bool `yaml:"enabled"`
	// Window is how long a device's use of a client id counts after its
	// session ended.
	Window time.Duration `yaml:"window"`
	// MaxDevices bounds the devices remembered per client id, MaxKeys the
	// client ids (per broker and tenant).
	MaxDevices int `yaml:"max_devices"`
	MaxKeys    int `yaml:"max_keys"`
}

// Validate names the key at fault.
func (c ClientIDConfig) Validate() error { return validateCaps(c.Window, c.MaxDevices, c.MaxKeys) }

// clientIDKey is a client id at one broker of a tenant: the MQTT
// specification makes client ids unique per broker, not across them.
type clientIDKey struct {
	tenant string
	broker device
	id     string
}

// clientIDs reports an MQTT client id that two devices use at the same
// broker at the same time or in turn. The broker lets one connection
// hold an id, so each CONNECT knocks the other device off: the devices
// reconnect in turn, lose messages, or one of them is an impostor.
type clientIDs struct {
	repeat time.Duration
	tr     *tracker[clientIDKey]
}

func newClientIDs(c ClientIDConfig, repeat time.Duration) *clientIDs {
	return &clientIDs{repeat: repeat, tr: newTracker[clientIDKey](c.Window, c.MaxDevices, c.MaxKeys)}
}

func (*clientIDs) Name() string { return "conflicting-client-ids" }

func (d *clientIDs) Evictions() uint64 { return d.tr.evicted }

func (d *clientIDs) Tick(now time.Time, _ func(detect.Report)) { d.tr.expire(now) }

func (d *clientIDs) Session(s *schema.Session, report func(detect.Report)) {
	if s.L7 == nil || s.L7.MQTT == nil {
		return
	}
	m := s.L7.MQTT
	// An empty id asks the broker for a unique one; a refused CONNECT
	// held no id.
	if m.ClientID == "" || m.ConnAck != nil && *m.ConnAck != 0 {
		return
	}
	broker := deviceOf(&s.Resp)
	h, conflict := d.tr.observe(clientIDKey{s.Tenant, broker, m.ClientID}, s, &s.Orig)
	if !conflict || !h.reported.IsZero() && s.End.Sub(h.reported) < d.repeat {
		return
	}
	h.reported = s.End
	seats := d.tr.recent(h, s.End)
	r := detect.Report{Time: s.End, Tenant: s.Tenant, Rule: "CONFLICTING_CLIENT_IDS_CHECK", Severity: detect.High}
	r.Entities = append(seatEntities([]string{"mqtt_client:" + m.ClientID}, seats), detect.EndpointEntities(nil, &s.Resp)...)
	r.DedupeKey = fmt.Sprintf("%s|%s|%s", r.Rule, broker, m.ClientID)
	r.Summary = fmt.Sprintf("MQTT client id %q used by %d devices %s at broker %s:%d: %s",
		m.ClientID, len(seats), how(h), s.Resp.IP, s.Resp.Port, seatList(seats))
	r.Sessions = seatSessions(seats)
	r.Values = map[string]float64{"devices": float64(len(seats)), "overlapping": b2f(h.overlaps), "alternating": b2f(h.returns)}
	report(r)
}
