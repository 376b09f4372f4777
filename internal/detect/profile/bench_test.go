package profile

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// benchBehaviours are ten behaviours of every kind: values with and
// without durations, sets, a statistical threshold and ML.
var benchBehaviours = []string{
	`{"name":"out","metric":"aws:all-bytes-out","criteria":{"comparisonOperator":"less-than-equals","value":{"count":%d},"durationSeconds":900}}`,
	`{"name":"in","metric":"aws:all-bytes-in","criteria":{"comparisonOperator":"less-than","value":{"count":%d}}}`,
	`{"name":"pkts","metric":"aws:all-packets-out","criteria":{"comparisonOperator":"less-than","value":{"count":%d},"consecutiveDatapointsToAlarm":3}}`,
	`{"name":"est","metric":"aws:num-established-tcp-connections","criteria":{"comparisonOperator":"less-than","value":{"count":%d}}}`,
	`{"name":"tcp","metric":"aws:listening-tcp-ports","criteria":{"comparisonOperator":"in-port-set","value":{"ports":[22,443,%d]}}}`,
	`{"name":"dst","metric":"aws:destination-ip-addresses","criteria":{"comparisonOperator":"in-cidr-set","value":{"cidrs":["10.0.0.0/8","198.51.0.0/16","192.0.%d.0/24"]}}}`,
	`{"name":"src","metric":"aws:source-ip-address","criteria":{"comparisonOperator":"not-in-cidr-set","value":{"cidrs":["203.0.%d.0/24"]}}}`,
	`{"name":"att","metric":"aws:num-connection-attempts","criteria":{"comparisonOperator":"less-than-equals","statisticalThreshold":{"statistic":"p99"},"durationSeconds":300},"suppressAlerts":true}`,
	`{"name":"ml","metric":"aws:all-bytes-out","criteria":{"mlDetectionConfig":{"confidenceLevel":"MEDIUM"}}}`,
	`{"name":"ntcp","metric":"aws:num-listening-tcp-ports","criteria":{"comparisonOperator":"less-than","value":{"count":%d}}}`,
}

// benchProfiles are five profiles of the ten behaviours, with
// thresholds that differ per profile.
func benchProfiles() []string {
	var ps []string
	for p := range 5 {
		var bs []string
		for i, b := range benchBehaviours {
			if strings.Contains(b, "%d") {
				b = fmt.Sprintf(b, []int{16 << 20, 16 << 20, 50000, 200, 8080, 2, 113, 0, 0, 8}[i]+p)
			}
			bs = append(bs, b)
		}
		ps = append(ps, strings.Replace(profileJSON(strings.Join(bs, ",")), `"P"`, fmt.Sprintf(`"P%d"`, p), 1))
	}
	return ps
}

func benchConfig() Config {
	cfg := DefaultConfig()
	cfg.MLTraining = time.Hour
	return cfg
}

// BenchmarkMetrics evaluates reported metrics from 10 000 things, each
// reporting the ten metrics every five minutes, ticking every five
// seconds of metric time as the engine does.
func BenchmarkMetrics(b *testing.B) {
	d := newDetector(b, benchConfig(), benchProfiles()...)
	names := []string{"aws:all-bytes-out", "aws:all-bytes-in", "aws:all-packets-out", "aws:num-established-tcp-connections",
		"aws:listening-tcp-ports", "aws:destination-ip-addresses", "aws:source-ip-address", "aws:num-connection-attempts",
		"aws:num-listening-tcp-ports", "aws:num-authorization-failures"}
	const things = 10000
	rng := rand.New(rand.NewPCG(7, 7))
	ms := make([]schema.DeviceMetric, things*len(names))
	for i := range ms {
		thing, name := i/len(names), names[i%len(names)]
		m := schema.DeviceMetric{Tenant: "acme", Device: fmt.Sprintf("thing-%d", thing), Name: name,
			Time: t0.Add(time.Duration(i) * 5 * time.Minute / time.Duration(len(ms)))}
		switch name {
		case "aws:all-bytes-out", "aws:all-bytes-in":
			m.Value = float64(100000 + rng.IntN(1<<20))
		case "aws:all-packets-out":
			m.Value = float64(100 + rng.IntN(1000))
		case "aws:listening-tcp-ports":
			m.List = []string{"22", "443"}
		case "aws:destination-ip-addresses":
			m.List = []string{"10.0.0.1", fmt.Sprintf("198.51.100.%d", rng.IntN(256))}
		case "aws:source-ip-address":
			m.List = []string{fmt.Sprintf("192.0.2.%d", thing%256)}
		default:
			m.Value = float64(rng.IntN(4))
		}
		if m.List != nil {
			m.Value = float64(len(m.List))
		}
		ms[i] = m
	}
	reports := 0
	count := func(detect.Report) { reports++ }
	var next time.Time
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		m := &ms[i%len(ms)]
		if i > 0 && i%len(ms) == 0 {
			for j := range ms {
				ms[j].Time = ms[j].Time.Add(5 * time.Minute)
			}
		}
		d.Metric(m, count)
		if m.Time.After(next) {
			d.Tick(m.Time, count)
			next = m.Time.Add(5 * time.Second)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "metrics/s")
	b.ReportMetric(float64(reports)/float64(b.N)*1e6, "reports/Mmetric")
}

// BenchmarkSessions derives the metrics from sessions of 2 000 internal
// hosts (web out, DNS, internal services, some refused) and evaluates
// them at each five-minute window's end.
func BenchmarkSessions(b *testing.B) {
	d := newDetector(b, benchConfig(), benchProfiles()...)
	const n = 100000
	rng := rand.New(rand.NewPCG(7, 7))
	ss := make([]schema.Session, n)
	for i := range ss {
		h := rng.IntN(2000)
		at := t0.Add(time.Duration(i) * time.Hour / n)
		ss[i] = schema.Session{UID: fmt.Sprintf("C%d", i), Final: true, Tenant: "acme", Start: at, End: at.Add(time.Second),
			Orig:  schema.Endpoint{IP: netip.AddrFrom4([4]byte{10, 1, byte(h >> 8), byte(h)}), Port: uint16(32768 + rng.IntN(28000))},
			Proto: 6, Transport: "tcp", ConnState: "SF", History: "ShADadFf",
			OrigPkts: 10, RespPkts: 12, OrigIPBytes: uint64(400 + rng.IntN(5000)), RespIPBytes: uint64(rng.IntN(100000))}
		s := &ss[i]
		switch r := rng.IntN(100); {
		case r < 60:
			srv := rng.IntN(5000)
			s.Resp = schema.Endpoint{IP: netip.AddrFrom4([4]byte{198, 51, byte(srv >> 8), byte(srv)}), Port: 443}
		case r < 80:
			s.Resp = schema.Endpoint{IP: netip.AddrFrom4([4]byte{10, 0, 0, 53}), Port: 53}
			s.Proto, s.Transport, s.History = 17, "udp", "Dd"
		case r < 97:
			srv := rng.IntN(50)
			s.Resp = schema.Endpoint{IP: netip.AddrFrom4([4]byte{10, 2, 0, byte(srv)}), Port: []uint16{445, 5432, 80, 22}[srv%4]}
		default:
			s.Resp = schema.Endpoint{IP: netip.AddrFrom4([4]byte{10, 3, byte(rng.IntN(256)), byte(rng.IntN(256))}), Port: uint16(1 + rng.IntN(1024))}
			s.ConnState, s.History, s.RespPkts, s.RespIPBytes = "REJ", "Sr", 1, 40
		}
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
		d.Session(s, count)
		if s.End.After(next) {
			d.Tick(s.End, count)
			next = s.End.Add(5 * time.Second)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
	b.ReportMetric(float64(reports)/float64(b.N)*1e6, "reports/Msession")
}
