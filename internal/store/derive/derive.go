// Package derive computes the session values that the stores keep in
// columns of their own although the Session holds them nested or
// scattered (a feed name in three lists, a name in one of three
// protocols), so that the SQL columns and the in-memory filter agree.
package derive

import (
	"slices"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Intel is the feeds that any indicator of the session hit (either end's
// address or a name it carried), sorted and unique; nil when none did.
func Intel(s *schema.Session) []string {
	n := len(s.Orig.Intel) + len(s.Resp.Intel) + len(s.Intel)
	if n == 0 {
		return nil
	}
	feeds := make([]string, 0, n)
	for _, hits := range [][]schema.IntelHit{s.Orig.Intel, s.Resp.Intel, s.Intel} {
		for _, h := range hits {
			feeds = append(feeds, h.Feed)
		}
	}
	slices.Sort(feeds)
	return slices.Compact(feeds)
}

// ServerName is the name the session was about: the DNS query, else the
// TLS SNI, else the HTTP Host; empty when none was seen.
func ServerName(s *schema.Session) string {
	l := s.L7
	switch {
	case l == nil:
		return ""
	case l.DNS != nil && l.DNS.Query != "":
		return l.DNS.Query
	case l.TLS != nil && l.TLS.SNI != "":
		return l.TLS.SNI
	case l.HTTP != nil:
		return l.HTTP.Host
	}
	return ""
}

// FlowAction is the flow record's accept or reject; empty for sessions
// metered from packets or records that do not say.
func FlowAction(s *schema.Session) string {
	if s.Flow == nil {
		return ""
	}
	return s.Flow.Action
}

// Country is the end's ISO country code, empty when unknown.
func Country(e *schema.Endpoint) string {
	if e.Geo == nil {
		return ""
	}
	return e.Geo.Country
}

// ASN is the end's autonomous system number, 0 when unknown (AS 0 is
// reserved and never announced).
func ASN(e *schema.Endpoint) uint32 {
	if e.Geo == nil {
		return 0
	}
	return e.Geo.ASN
}
