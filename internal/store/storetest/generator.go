package storetest

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
)

// Generator streams realistic records for benchmarks: a fleet of 5 000
// devices in tagged segments talking to 2 000 servers with a skewed
// (Zipf) choice of peers, apps by port, times advancing steadily from
// Base, and one flow in twenty long enough for an interim record.
type Generator struct {
	rng   *rand.Rand
	zipf  *rand.Zipf
	now   time.Time
	Every time.Duration // time between consecutive records (default 8.64 ms: 10 M a day)
	UIDs  string        // the uids' first letter (default G)
	n     int
	long  []schema.Session // flows awaiting their final record
}

// NewGenerator starts a deterministic stream.
func NewGenerator(seed uint64) *Generator {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	return &Generator{rng: rng, zipf: rand.NewZipf(rng, 1.2, 1, 1999), now: Base, Every: 8640 * time.Microsecond, UIDs: "G"}
}

// From makes the stream go on from t rather than Base.
func (g *Generator) From(t time.Time) { g.now = t }

var (
	genSegments = []string{"iot-cameras", "iot-hvac", "ot-plc", "corp", "prod-web", "prod-db"}
	genTags     = [][]string{{"iot", "camera"}, {"iot", "hvac"}, {"ot", "plc"}, {"corp"}, {"prod", "web"}, {"prod", "db"}}
	genServices = []struct {
		port  uint16
		proto uint8
		app   string
	}{{443, 6, "tls"}, {53, 17, "dns"}, {80, 6, "http"}, {1883, 6, "mqtt"}, {123, 17, "ntp"}, {22, 6, "ssh"}, {502, 6, "modbus"}, {8883, 6, "tls"}}
)

// Records returns the next n records.
func (g *Generator) Records(n int) []store.Record {
	out := make([]store.Record, 0, n)
	for len(out) < n {
		g.now = g.now.Add(g.Every)
		if len(g.long) > 0 && g.rng.IntN(20) == 0 { // a long flow ends
			s := g.long[0]
			g.long = g.long[1:]
			prev := store.Counters{OrigBytes: s.OrigBytes, RespBytes: s.RespBytes, OrigPkts: s.OrigPkts, RespPkts: s.RespPkts}
			s.Seq, s.Final, s.EndReason, s.End = 1, true, "fin", g.now
			s.OrigBytes, s.RespBytes, s.OrigPkts, s.RespPkts = 2*s.OrigBytes, 2*s.RespBytes, 2*s.OrigPkts, 2*s.RespPkts
			out = append(out, store.Record{Session: s, Delta: store.Counters{OrigBytes: s.OrigBytes - prev.OrigBytes,
				RespBytes: s.RespBytes - prev.RespBytes, OrigPkts: s.OrigPkts - prev.OrigPkts, RespPkts: s.RespPkts - prev.RespPkts}})
			continue
		}
		s := g.session()
		if g.rng.IntN(20) == 0 {
			s.Final, s.EndReason = false, "active"
			g.long = append(g.long, s)
		}
		out = append(out, store.Record{Session: s, Delta: store.Counters{OrigBytes: s.OrigBytes, RespBytes: s.RespBytes,
			OrigPkts: s.OrigPkts, RespPkts: s.RespPkts}})
	}
	return out
}

func (g *Generator) session() schema.Session {
	g.n++
	dev := g.rng.IntN(5000)
	seg := dev % len(genSegments)
	svc := genServices[g.rng.IntN(len(genServices))]
	srv := int(g.zipf.Uint64())
	dur := time.Duration(g.rng.ExpFloat64() * float64(20*time.Second))
	pk := uint64(2 + g.rng.IntN(40))
	s := schema.Session{
		Version: schema.SessionVersion, UID: fmt.Sprintf("%s%010d", g.UIDs, g.n), Final: true, EndReason: "fin",
		Tenant: "default", Sensor: "bench", Source: "vxlan", Start: g.now.Add(-dur).Truncate(time.Microsecond), End: g.now,
		Orig: schema.Endpoint{IP: netip.AddrFrom4([4]byte{10, byte(seg), byte(dev >> 8), byte(dev)}), Port: uint16(32768 + g.rng.IntN(28000)),
			Tags: genTags[seg], Segment: genSegments[seg]},
		Resp:  schema.Endpoint{Port: svc.port},
		Proto: svc.proto, Transport: "tcp", ConnState: "SF", History: "ShADadFf", App: svc.app, Direction: "outbound",
		OrigPkts: pk, RespPkts: pk - 1, OrigBytes: pk * uint64(g.rng.IntN(600)), RespBytes: pk * uint64(g.rng.IntN(1400)),
		Mirror: &schema.Mirror{Kind: "vxlan", Source: netip.AddrFrom4([4]byte{172, 31, byte(seg), 10}), VNI: uint32(100 + seg)},
	}
	if svc.proto == 17 {
		s.Transport, s.History = "udp", "Dd"
	}
	if srv < 1500 { // most servers are in the cloud, the rest on site
		s.Resp.IP, s.Resp.Segment, s.Direction = netip.AddrFrom4([4]byte{52, byte(srv >> 8), byte(srv), 7}), "internet", "outbound"
	} else {
		s.Resp.IP, s.Resp.Segment, s.Resp.Tags, s.Direction = netip.AddrFrom4([4]byte{10, 9, byte(srv >> 8), byte(srv)}), "prod-db", genTags[5], "internal"
	}
	s.OrigIPBytes, s.RespIPBytes = s.OrigBytes+40*s.OrigPkts, s.RespBytes+40*s.RespPkts
	return s
}
