package audit

import (
	"fmt"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// SharedCertConfig configures DEVICE_CERTIFICATE_SHARED_CHECK.
type SharedCertConfig struct {
	Enabled bool `yaml:"enabled"`
	// Window is how long a device's use of a certificate counts after
	// its session ended.
	Window time.Duration `yaml:"window"`
	// MaxDevices bounds the devices remembered per certificate, MaxKeys
	// the certificates.
	MaxDevices int `yaml:"max_devices"`
	MaxKeys    int `yaml:"max_keys"`
}

// Validate names the key at fault.
func (c SharedCertConfig) Validate() error { return validateCaps(c.Window, c.MaxDevices, c.MaxKeys) }

// certKey is a client certificate in a tenant.
type certKey struct {
	tenant string
	sha256 string
}

// sharedCert reports a client certificate (mutual TLS, TLS 1.2 and
// older: schema.TLS.ClientCert) that two devices present at the same
// time or in turn: a cloned device identity. Server certificates are
// never counted: one certificate on many servers is how load balancers
// and server farms work.
type sharedCert struct {
	repeat time.Duration
	tr     *tracker[certKey]
}

func newSharedCert(c SharedCertConfig, repeat time.Duration) *sharedCert {
	return &sharedCert{repeat: repeat, tr: newTracker[certKey](c.Window, c.MaxDevices, c.MaxKeys)}
}

func (*sharedCert) Name() string { return "device-certificate-shared" }

func (d *sharedCert) Evictions() uint64 { return d.tr.evicted }

func (d *sharedCert) Tick(now time.Time, _ func(detect.Report)) { d.tr.expire(now) }

func (d *sharedCert) Session(s *schema.Session, report func(detect.Report)) {
	if s.L7 == nil || s.L7.TLS == nil || s.L7.TLS.ClientCert == nil || s.L7.TLS.ClientCert.SHA256 == "" {
		return
	}
	cert := s.L7.TLS.ClientCert
	h, conflict := d.tr.observe(certKey{s.Tenant, cert.SHA256}, s, &s.Orig)
	if !conflict || !h.reported.IsZero() && s.End.Sub(h.reported) < d.repeat {
		return
	}
	h.reported = s.End
	seats := d.tr.recent(h, s.End)
	r := detect.Report{Time: s.End, Tenant: s.Tenant, Rule: "DEVICE_CERTIFICATE_SHARED_CHECK", Severity: detect.Critical}
	r.Entities = append(seatEntities([]string{"cert:" + cert.SHA256}, seats), detect.EndpointEntities(nil, &s.Resp)...)
	r.DedupeKey = r.Rule + "|" + cert.SHA256
	r.Summary = fmt.Sprintf("client certificate %q (sha256 %.16s…) presented by %d devices %s: %s",
		certName(cert), cert.SHA256, len(seats), how(h), seatList(seats))
	r.Sessions = seatSessions(seats)
	r.Values = map[string]float64{"devices": float64(len(seats)), "overlapping": b2f(h.overlaps), "alternating": b2f(h.returns)}
	report(r)
}

// certName is the subject, or the hash when the certificate could not
// be parsed.
func certName(c *schema.Cert) string {
	if c.Subject != "" {
		return c.Subject
	}
	return "sha256:" + c.SHA256
}

// how says what made the devices conflict.
func how(h *holders) string {
	switch {
	case h.overlaps && h.returns:
		return "at the same time and in turn"
	case h.overlaps:
		return "at the same time"
	}
	return "in turn"
}

func seatEntities(dst []string, seats []*seat) []string {
	for _, st := range seats {
		dst = append(dst, "ip:"+st.ip.String())
		if st.dev.asset != "" {
			dst = append(dst, "asset:"+st.dev.asset)
		}
	}
	return dst
}

func seatList(seats []*seat) string {
	var b strings.Builder
	for i, st := range seats {
		if i > 0 {
			b.WriteString(", ")
		}
		if st.dev.asset != "" {
			b.WriteString(st.dev.asset + " ")
		}
		b.WriteString(st.ip.String())
	}
	return b.String()
}

func seatSessions(seats []*seat) []string {
	out := make([]string, 0, min(len(seats), maxExamples))
	for _, st := range seats[:min(len(seats), maxExamples)] {
		out = append(out, st.example.String())
	}
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
