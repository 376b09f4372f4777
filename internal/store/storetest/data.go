// Package storetest is the conformance suite every store backend passes:
// the same generated sessions and metrics written, the same questions
// asked, and every answer checked against a reference computed in Go
// (filters by filter.Compile, sums by hand).
package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
)

// Base is the first day of the generated data (midnight UTC).
var Base = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// Tenants of the generated data; "" is the default tenant.
var Tenants = []string{"", "acme"}

// Sessions generates n flows over three days for each tenant, some long
// enough to have interim records (seq > 0, cumulative counters), with
// IPv4 and IPv6 ends, tags, segments, mirrors and apps, and some with
// geo, intel, L7 and flow metadata. Times are whole microseconds, as
// stores keep them.
func Sessions(n int) []schema.Session {
	rng, extra := rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(5, 6))
	apps := []string{"tls", "dns", "http", "mqtt", "", "ssh", "modbus"}
	segs := []string{"prod", "iot", "corp", ""}
	tags := [][]string{{"iot"}, {"iot", "camera"}, {"web"}, nil, {"db", "prod"}}
	addr := func() netip.Addr {
		if rng.IntN(5) == 0 {
			return netip.AddrFrom16([16]byte{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(rng.IntN(4)), byte(rng.IntN(30))})
		}
		return netip.AddrFrom4([4]byte{10, byte(rng.IntN(3)), 0, byte(1 + rng.IntN(40))})
	}
	var out []schema.Session
	for _, tenant := range Tenants {
		for i := range n {
			start := Base.Add(time.Duration(rng.Int64N(int64(72 * time.Hour)))).Truncate(time.Microsecond)
			s := schema.Session{
				Version: schema.SessionVersion, UID: fmt.Sprintf("C%s%06d", tenant, i), Tenant: tenant,
				Sensor: "s1", Source: "pcap", Start: start,
				Orig: schema.Endpoint{IP: addr(), Port: uint16(30000 + rng.IntN(30000)), MAC: "02:00:00:00:00:01",
					Tags: tags[rng.IntN(len(tags))], Segment: segs[rng.IntN(len(segs))]},
				Resp: schema.Endpoint{IP: addr(), Port: []uint16{22, 23, 53, 80, 443, 502, 1883}[rng.IntN(7)],
					Tags: tags[rng.IntN(len(tags))], Segment: segs[rng.IntN(len(segs))], Asset: []string{"", "i-0abc", "i-0def"}[rng.IntN(3)]},
				Proto: 6, Transport: "tcp", ConnState: "SF", History: "ShADadFf", App: apps[rng.IntN(len(apps))],
				Direction:   []string{"inbound", "outbound", "internal", ""}[rng.IntN(4)],
				CommunityID: fmt.Sprintf("1:%d", i),
			}
			if rng.IntN(4) == 0 {
				s.Proto, s.Transport, s.ConnState, s.History = 17, "udp", "SF", "Dd"
			}
			if rng.IntN(3) == 0 {
				s.Mirror = &schema.Mirror{Kind: "vxlan", Source: netip.AddrFrom4([4]byte{172, 31, 0, byte(rng.IntN(3))}), VNI: uint32(rng.IntN(3))}
				s.VLANs = []uint16{100}
			}
			enrich(extra, &s)
			records := 1
			if rng.IntN(10) == 0 {
				records = 2 + rng.IntN(3) // a long flow: interim records
			}
			end := start
			for seq := range records {
				end = end.Add(time.Duration(1 + rng.Int64N(int64(50*time.Minute)))).Truncate(time.Microsecond)
				s.Seq, s.End, s.Final = uint32(seq), end, seq == records-1
				s.EndReason = "active"
				if s.Final {
					s.EndReason = "fin"
				}
				s.OrigPkts += uint64(1 + rng.IntN(100))
				s.RespPkts += uint64(rng.IntN(100))
				s.OrigBytes += uint64(rng.IntN(3_000_000))
				s.RespBytes += uint64(rng.IntN(100_000))
				s.OrigIPBytes, s.RespIPBytes = s.OrigBytes+40*s.OrigPkts, s.RespBytes+40*s.RespPkts
				out = append(out, s)
			}
		}
	}
	return out
}

// Records adds deltas as the Writer does.
func Records(ctx context.Context, ss []schema.Session) []store.Record {
	var d store.Deltas
	out := make([]store.Record, len(ss))
	for i := range ss {
		r, err := d.Record(ctx, &ss[i])
		if err != nil {
			panic(err)
		}
		out[i] = r
	}
	return out
}

// Metrics generates device metrics every five minutes over a day for a
// few devices.
func Metrics() []schema.DeviceMetric {
	rng := rand.New(rand.NewPCG(3, 4))
	var out []schema.DeviceMetric
	for _, tenant := range Tenants {
		for d := range 5 {
			for t := Base; t.Before(Base.Add(24 * time.Hour)); t = t.Add(5 * time.Minute) {
				out = append(out, schema.DeviceMetric{Tenant: tenant, Device: fmt.Sprintf("thermostat-%d", d), Time: t,
					Name: "aws:num-listening-tcp-ports", Value: float64(rng.IntN(10 + d))})
			}
		}
	}
	return out
}
