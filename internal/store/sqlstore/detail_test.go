package sqlstore

import (
	"math"
	"net/netip"
	"testing"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestDetail(t *testing.T) {
	plain := schema.Session{UID: "C1", Orig: schema.Endpoint{IP: netip.MustParseAddr("10.0.0.1"), Tags: []string{"iot"}, Segment: "iot"}}
	for _, tc := range []struct {
		name string
		s    schema.Session
		want string
	}{
		{"nothing beyond the columns", plain, ""},
		{"country and asn have columns", schema.Session{Resp: schema.Endpoint{Geo: &schema.Geo{Country: "DE", ASN: 3320}}}, ""},
		{"city and org do not", schema.Session{Resp: schema.Endpoint{Geo: &schema.Geo{Country: "DE", City: "Berlin", ASOrg: "DTAG"}}},
			`{"resp":{"city":"Berlin","as_org":"DTAG"}}`},
		{"a confidence that is not a number is 0", schema.Session{L7: &schema.L7{By: "port", Confidence: math.NaN()}},
			`{"l7":{"by":"port","confidence":0}}`},
		{"domain hits", schema.Session{Intel: []schema.IntelHit{{Feed: "f", Indicator: "x.example", Field: "dns.query"}}},
			`{"intel":[{"feed":"f","indicator":"x.example","field":"dns.query"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Detail(&tc.s)
			if err != nil || got != tc.want {
				t.Errorf("got %s, %v\nwant %s", got, err, tc.want)
			}
		})
	}
	if n := testing.AllocsPerRun(100, func() { Detail(&plain) }); n != 0 {
		t.Errorf("%v allocations for a session without detail, want 0", n)
	}
}
