package filter

import (
	"net/netip"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestCompile(t *testing.T) {
	start := time.Unix(1700000000, 0)
	s := &schema.Session{
		Orig:      schema.Endpoint{IP: netip.MustParseAddr("10.0.0.5"), Port: 40000},
		Resp:      schema.Endpoint{IP: netip.MustParseAddr("2001:db8::1"), Port: 443},
		Transport: "tcp", Proto: 6, App: "tls", ConnState: "SF", Start: start, End: start.Add(90 * time.Second),
		OrigBytes: 1500, RespBytes: 2_000_000, OrigPkts: 10, RespPkts: 1500,
		Mirror: &schema.Mirror{Kind: "vxlan", Source: netip.MustParseAddr("172.31.0.10"), VNI: 42},
	}
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{``, true},
		{`app = tls`, true},
		{`app != tls`, false},
		{`src.ip in (10.0.0.0/8)`, true},
		{`src.ip in (192.168.0.0/16, 10.0.0.5)`, true},
		{`dst.ip in (10.0.0.0/8)`, false},
		{`dst.ip = 2001:db8::1 and dst.port in (22, 443)`, true},
		{`dst.port not in (22, 443)`, false},
		{`bytes > 1MB and dst.bytes >= 2MB and src.bytes < 1.5KiB`, true},
		{`bytes > 3MB`, false},
		{`packets = 1510`, true},
		{`duration > 1m and duration <= 90s`, true},
		{`duration > 2m`, false},
		{`vni = 42 and mirror = 172.31.0.10`, true},
		{`not (proto = udp or conn_state = S0)`, true},
		{`src.tag = iot`, false}, // no enrichment yet
		{`src.tag != iot`, true},
		{`app = dns or (app = tls and dst.port = 443)`, true},
	} {
		e, err := Parse(tc.filter)
		if err != nil {
			t.Fatalf("%s: %v", tc.filter, err)
		}
		if got := Compile(e)(s); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.filter, got, tc.want)
		}
	}
	// A session without a mirror has no VNI: = fails, != holds.
	plain := &schema.Session{Transport: "udp"}
	for f, want := range map[string]bool{`vni = 0`: false, `vni != 42`: true, `vni < 100`: false} {
		e, _ := Parse(f)
		if got := Compile(e)(plain); got != want {
			t.Errorf("no mirror, %s: %v, want %v", f, got, want)
		}
	}
}

func TestCompileEnrichment(t *testing.T) {
	s := &schema.Session{
		Orig: schema.Endpoint{IP: netip.MustParseAddr("10.0.0.5"), Geo: &schema.Geo{Country: "DE", ASN: 3320}},
		Resp: schema.Endpoint{IP: netip.MustParseAddr("203.0.113.7"), Geo: &schema.Geo{Country: "US", ASN: 16509},
			Intel: []schema.IntelHit{{Feed: "spamhaus", Indicator: "203.0.113.0/24", Field: "ip"}}},
		Intel: []schema.IntelHit{{Feed: "urlhaus", Indicator: "api.example.com", Field: "tls.sni"}},
		L7:    &schema.L7{TLS: &schema.TLS{SNI: "api.example.com"}, HTTP: &schema.HTTP{Host: "other.example"}},
		Flow:  &schema.Flow{Action: "reject"},
	}
	plain := &schema.Session{Orig: schema.Endpoint{IP: netip.MustParseAddr("10.0.0.5")}}
	for _, tc := range []struct {
		filter          string
		enriched, plain bool
	}{
		{`src.country = DE`, true, false},
		{`dst.country = DE`, false, false},
		{`country = US`, true, false},
		{`country != DE`, false, true}, // holds when neither end is
		{`country != FR`, true, true},
		{`country in (FR, US)`, true, false},
		{`country not in (DE)`, false, true},
		{`country = ""`, false, false},
		{`src.asn = 3320`, true, false},
		{`asn > 16000`, true, false},
		{`asn < 100`, false, false}, // no ASN is no value, not 0
		{`src.asn = 0`, false, false},
		{`asn != 0`, true, true},
		{`intel = spamhaus and intel = urlhaus`, true, false},
		{`intel = abuse-ch`, false, false},
		{`intel != abuse-ch`, true, true},
		{`action = reject`, true, false},
		{`action != accept`, true, true},
		{`server_name = "api.example.com"`, true, false}, // SNI before the HTTP host
	} {
		e, err := Parse(tc.filter)
		if err != nil {
			t.Fatalf("%s: %v", tc.filter, err)
		}
		if got := Compile(e)(s); got != tc.enriched {
			t.Errorf("enriched, %s: %v, want %v", tc.filter, got, tc.enriched)
		}
		if got := Compile(e)(plain); got != tc.plain {
			t.Errorf("plain, %s: %v, want %v", tc.filter, got, tc.plain)
		}
	}
}

func TestEveryFieldEvaluates(t *testing.T) {
	s := &schema.Session{}
	for name, f := range Fields {
		if f.Ends != nil {
			continue // compiled as its ends
		}
		if f.get == nil {
			t.Errorf("%s has no accessor", name)
			continue
		}
		_ = f.get(s)
	}
}
