package storetest

import (
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// enrich adds to some sessions what enrichment, DPI and flow collectors
// put on a Session: geo, assets, accounts and intel hits on the ends,
// domain hits, L7 metadata and flow-record metadata. It draws from its
// own generator, so the base sessions stay the same.
func enrich(rng *rand.Rand, s *schema.Session) {
	geos := []*schema.Geo{
		{Country: "DE", City: "Berlin", ASN: 3320, ASOrg: "Deutsche Telekom AG"},
		{Country: "US", ASN: 16509, ASOrg: "Amazon.com, Inc."},
		{Country: "NL"},
		{ASN: 13335, ASOrg: "Cloudflare, Inc."}, // ASN only
		nil,
	}
	feeds := []string{"abuse-ch", "spamhaus-drop", "urlhaus"}
	hit := func(field string) schema.IntelHit {
		return schema.IntelHit{Feed: feeds[rng.IntN(len(feeds))], Indicator: s.Resp.IP.String(), Field: field}
	}
	if rng.IntN(2) == 0 {
		s.Resp.Geo = geos[rng.IntN(len(geos))]
		s.Orig.AssetName, s.Orig.Account = "cam-lobby", "123456789012"
	}
	if rng.IntN(8) == 0 {
		s.Orig.Geo = geos[rng.IntN(len(geos))]
	}
	if rng.IntN(6) == 0 {
		s.Resp.Intel = []schema.IntelHit{hit("ip"), hit("ip")}
	}
	switch rng.IntN(5) {
	case 0:
		s.L7 = &schema.L7{By: "content", Confidence: 0.95, DNS: &schema.DNS{ID: 7, Query: "evil.example", QType: "A",
			RCode: "NOERROR", Answers: []string{"203.0.113.7"}, Queries: 1}}
		s.Intel = []schema.IntelHit{{Feed: feeds[rng.IntN(len(feeds))], Indicator: "evil.example", Field: "dns.query"}}
	case 1:
		nb := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		s.L7 = &schema.L7{By: "content", Confidence: 1, TLS: &schema.TLS{Version: "TLSv13", SNI: []string{"api.example.com", "cdn.example.net"}[rng.IntN(2)],
			ALPN: []string{"h2", "http/1.1"}, JA4: "t13d1516h2_8daaf6152771_b186095e22b6",
			Cert: &schema.Cert{Subject: "CN=api.example.com", Issuer: "CN=R3", NotBefore: nb, NotAfter: nb.AddDate(0, 3, 0),
				SHA256: "ab12", SANs: []string{"api.example.com"}, KeyAlg: "ECDSA", KeyBits: 256}}}
	case 2:
		s.L7 = &schema.L7{By: "port", Confidence: 0.3, HTTP: &schema.HTTP{Method: "GET", Host: "example.org", URI: "/", Status: 200}}
	}
	switch rng.IntN(6) {
	case 0:
		s.Flow = &schema.Flow{Action: []string{"accept", "reject"}[rng.IntN(2)], Direction: "ingress", TCPFlags: 0x1b,
			Account: "123456789012", Region: "eu-west-1", VPC: "vpc-1", Interface: "eni-0abc", PktSrc: netip.MustParseAddr("10.9.0.4"),
			Extra: map[string]string{"traffic-path": "1"}}
	case 1:
		s.Flow = &schema.Flow{Status: "nodata", Exporter: netip.MustParseAddr("192.0.2.1"), Domain: 3, InIf: 2, OutIf: 5, SamplingRate: 1000}
	}
}
