package sqlstore

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// detail is the detail column: what a session holds beyond the columns,
// as JSON. Every part is omitted when empty and a session with none is
// stored as "", so that packet sessions without enrichment or L7 cost
// next to nothing.
type detail struct {
	Orig  *endDetail        `json:"orig,omitempty"`
	Resp  *endDetail        `json:"resp,omitempty"`
	Intel []schema.IntelHit `json:"intel,omitempty"` // hits on names the session carried
	L7    *schema.L7        `json:"l7,omitempty"`
	Flow  *schema.Flow      `json:"flow,omitempty"`
}

// endDetail is an endpoint's enrichment without a column: country and
// ASN have theirs.
type endDetail struct {
	AssetName string            `json:"asset_name,omitempty"`
	Account   string            `json:"account,omitempty"`
	City      string            `json:"city,omitempty"`
	ASOrg     string            `json:"as_org,omitempty"`
	Intel     []schema.IntelHit `json:"intel,omitempty"`
}

// newEndDetail is nil, without allocating, for an end with nothing.
func newEndDetail(e *schema.Endpoint) *endDetail {
	var city, org string
	if e.Geo != nil {
		city, org = e.Geo.City, e.Geo.ASOrg
	}
	if e.AssetName == "" && e.Account == "" && city == "" && org == "" && len(e.Intel) == 0 {
		return nil
	}
	return &endDetail{AssetName: e.AssetName, Account: e.Account, City: city, ASOrg: org, Intel: e.Intel}
}

// Detail is the detail column of a session. A confidence that is not a
// finite number (JSON has none) is stored as 0: failing would make the
// batch fail on every retry.
func Detail(s *schema.Session) (string, error) {
	o, r := newEndDetail(&s.Orig), newEndDetail(&s.Resp)
	if o == nil && r == nil && s.Intel == nil && s.L7 == nil && s.Flow == nil {
		return "", nil
	}
	d := detail{Orig: o, Resp: r, Intel: s.Intel, L7: s.L7, Flow: s.Flow}
	if c := s.L7; c != nil && (math.IsNaN(c.Confidence) || math.IsInf(c.Confidence, 0)) {
		l7 := *c
		l7.Confidence = 0
		d.L7 = &l7
	}
	b, err := json.Marshal(&d)
	if err != nil {
		return "", fmt.Errorf("session %s/%d: detail: %w", s.UID, s.Seq, err)
	}
	return string(b), nil
}

// setEnrichment puts back on s what the country, ASN and detail columns
// hold; the other new columns (intel, flow_action, server_name) are
// derived from the detail and read back through it.
func setEnrichment(s *schema.Session, origCountry, respCountry string, origASN, respASN uint32, text string) error {
	var d detail
	if text != "" {
		if err := json.Unmarshal([]byte(text), &d); err != nil {
			return fmt.Errorf("session %s/%d: detail: %w", s.UID, s.Seq, err)
		}
	}
	setEnd(&s.Orig, d.Orig, origCountry, origASN)
	setEnd(&s.Resp, d.Resp, respCountry, respASN)
	s.Intel, s.L7, s.Flow = d.Intel, d.L7, d.Flow
	return nil
}

func setEnd(e *schema.Endpoint, d *endDetail, country string, asn uint32) {
	if d == nil {
		d = &endDetail{}
	}
	e.AssetName, e.Account, e.Intel = d.AssetName, d.Account, d.Intel
	if country != "" || asn != 0 || d.City != "" || d.ASOrg != "" {
		e.Geo = &schema.Geo{Country: country, City: d.City, ASN: asn, ASOrg: d.ASOrg}
	}
}
