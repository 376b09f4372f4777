package behave

import (
	"fmt"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// IntelConfig configures the threat-intelligence detector.
type IntelConfig struct {
	Enabled bool `yaml:"enabled"`
}

// Validate has nothing to check; it keeps every detector's config alike.
func (c IntelConfig) Validate() error { return nil }

// intelHits turns the enrichment's threat-intelligence matches into
// findings, one per feed, indicator and internal host. It keeps no
// state: the engine folds repeats by dedupe key.
type intelHits struct{}

func (intelHits) Name() string { return "threat-intel" }

func (d intelHits) Session(s *schema.Session, report func(detect.Report)) {
	// A listed address on one end makes the other end the host of ours
	// that talked to it; a listed name (DNS query, SNI, Host) was asked
	// for by the originator.
	for i := range s.Resp.Intel {
		d.report(s, &s.Resp.Intel[i], &s.Orig, report)
	}
	for i := range s.Orig.Intel {
		d.report(s, &s.Orig.Intel[i], &s.Resp, report)
	}
	for i := range s.Intel {
		d.report(s, &s.Intel[i], &s.Orig, report)
	}
}

func (d intelHits) report(s *schema.Session, h *schema.IntelHit, ours *schema.Endpoint, report func(detect.Report)) {
	kind := "domain:"
	if h.Field == "ip" {
		kind = "ip:"
	}
	r := newReport(s, d.Name(), detect.High, "T1071")
	r.Entities = append(detect.EndpointEntities(nil, ours), kind+h.Indicator)
	r.DedupeKey = fmt.Sprintf("%s|%s|%s|%s", r.Rule, h.Feed, h.Indicator, ours.IP)
	r.Summary = fmt.Sprintf("%s exchanged traffic with %s (%s), listed by %s", ours.IP, h.Indicator, h.Field, h.Feed)
	r.Sessions = []string{refOf(s).String()}
	r.Values = map[string]float64{"orig_bytes": float64(s.OrigBytes), "resp_bytes": float64(s.RespBytes)}
	report(r)
}
