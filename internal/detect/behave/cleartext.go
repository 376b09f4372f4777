package behave

import (
	"fmt"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// CleartextConfig configures the cleartext-credentials detector.
type CleartextConfig struct {
	Enabled bool `yaml:"enabled"`
}

// Validate has nothing to check; it keeps every detector's config alike.
func (c CleartextConfig) Validate() error { return nil }

// cleartextCredentials reports the sessions where the DPI saw a user
// name or a password sent unencrypted (FTP, Telnet, HTTP Basic; T1552),
// one finding per client, server and protocol. Stateless: the engine
// folds repeats by dedupe key.
type cleartextCredentials struct{}

func (cleartextCredentials) Name() string { return "cleartext-credentials" }

func (d cleartextCredentials) Session(s *schema.Session, report func(detect.Report)) {
	if s.L7 == nil || s.L7.Cleartext == nil {
		return
	}
	c := s.L7.Cleartext
	if !c.Password && c.User == "" {
		return
	}
	what := "a user name"
	if c.Password {
		what = "a password"
	}
	r := newReport(s, d.Name(), detect.Medium, "T1552")
	r.Entities = append(detect.EndpointEntities(detect.EndpointEntities(nil, &s.Orig), &s.Resp), detect.PortEntity(s.Resp.Port))
	r.DedupeKey = fmt.Sprintf("%s|%s|%s|%s", r.Rule, s.Orig.IP, s.Resp.IP, c.Protocol)
	r.Summary = fmt.Sprintf("%s sent %s in the clear over %s to %s:%d", s.Orig.IP, what, c.Protocol, s.Resp.IP, s.Resp.Port)
	r.Sessions = []string{refOf(s).String()}
	r.Values = map[string]float64{"password": b2f(c.Password)}
	report(r)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
