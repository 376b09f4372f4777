package behave

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// mix is an hour of a 2 000-host network: web and TLS out to a few
// thousand servers under a few hundred names, DNS to two resolvers,
// file and database traffic inside, some refused attempts, a little
// cleartext and a few intel hits.
func mix(n int) []schema.Session {
	rng := rand.New(rand.NewPCG(7, 7))
	ss := make([]schema.Session, n)
	resolvers := []netip.Addr{netip.MustParseAddr("10.0.0.53"), netip.MustParseAddr("10.0.1.53")}
	for i := range ss {
		s := &ss[i]
		h := rng.IntN(2000)
		at := t0.Add(time.Duration(i) * time.Hour / time.Duration(n))
		*s = schema.Session{UID: fmt.Sprintf("C%d", i), Final: true, Start: at, End: at.Add(time.Duration(rng.IntN(5000)) * time.Millisecond),
			Orig:  schema.Endpoint{IP: netip.AddrFrom4([4]byte{10, 1, byte(h >> 8), byte(h)}), Port: uint16(32768 + rng.IntN(28000))},
			Proto: 6, Transport: "tcp", ConnState: "SF", History: "ShADadFf",
			OrigPkts: 10, RespPkts: 12, OrigBytes: uint64(200 + rng.IntN(5000)), RespBytes: uint64(rng.IntN(100000))}
		switch r := rng.IntN(100); {
		case r < 60:
			srv := rng.IntN(5000)
			s.Resp = schema.Endpoint{IP: netip.AddrFrom4([4]byte{198, 51, byte(srv >> 8), byte(srv)}), Port: 443}
			s.App, s.L7 = "tls", &schema.L7{TLS: &schema.TLS{SNI: fmt.Sprintf("www%d.site%d.example", srv%7, srv%400)}}
		case r < 80:
			s.Resp = schema.Endpoint{IP: resolvers[h%2], Port: 53}
			s.Proto, s.Transport, s.ConnState, s.History = 17, "udp", "SF", "Dd"
			s.App, s.L7 = "dns", &schema.L7{DNS: &schema.DNS{Query: fmt.Sprintf("host%d.site%d.example", rng.IntN(50), rng.IntN(400)), QType: "A"}}
		case r < 95:
			srv := rng.IntN(50)
			s.Resp = schema.Endpoint{IP: netip.AddrFrom4([4]byte{10, 2, 0, byte(srv)}), Port: []uint16{445, 5432, 80, 22}[srv%4]}
		case r < 98:
			s.Resp = schema.Endpoint{IP: netip.AddrFrom4([4]byte{10, 3, byte(rng.IntN(256)), byte(rng.IntN(256))}), Port: uint16(1 + rng.IntN(1024))}
			s.ConnState, s.History, s.RespPkts, s.OrigBytes, s.RespBytes = "REJ", "Sr", 1, 0, 0
		case r < 99:
			s.Resp = schema.Endpoint{IP: netip.AddrFrom4([4]byte{10, 2, 1, 21}), Port: 21}
			s.App, s.L7 = "ftp", &schema.L7{Cleartext: &schema.Cleartext{Protocol: "ftp", User: "svc", Password: true}}
		default:
			s.Resp = schema.Endpoint{IP: netip.AddrFrom4([4]byte{203, 0, 113, byte(rng.IntN(20))}), Port: 8080,
				Intel: []schema.IntelHit{{Feed: "bench", Indicator: "203.0.113.0/24", Field: "ip"}}}
		}
	}
	return ss
}

// BenchmarkAll runs every detector, with default settings, over a
// realistic mix, ticking every five seconds of session time as the
// engine does. Passes after the first shift the mix by an hour, so
// state builds up as it would over a long capture.
func BenchmarkAll(b *testing.B) {
	ss := mix(100000)
	ds, err := New(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	reports := 0
	count := func(detect.Report) { reports++ }
	var next time.Time
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s := &ss[i%len(ss)]
		if i > 0 && i%len(ss) == 0 {
			for j := range ss {
				ss[j].Start, ss[j].End = ss[j].Start.Add(time.Hour), ss[j].End.Add(time.Hour)
			}
		}
		for _, d := range ds {
			d.Session(s, count)
		}
		if s.End.After(next) {
			for _, d := range ds {
				if t, ok := d.(detect.Ticker); ok {
					t.Tick(s.End, count)
				}
			}
			next = s.End.Add(5 * time.Second)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
	b.ReportMetric(float64(reports)/float64(b.N)*1e6, "reports/Msession")
}
