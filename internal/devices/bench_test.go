package devices

import (
	"fmt"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// benchSessions is a site's mix: 2,000 hosts with MACs, each talking
// TLS, DNS and HTTP to a pool of remote and local servers.
func benchSessions() []*schema.Session {
	var out []*schema.Session
	tlsL7 := &schema.L7{By: "content", Confidence: 1, TLS: &schema.TLS{SNI: "api.example.com", JA4: "t13d1516h2_8daaf6152771_02713d6af862"}}
	dnsL7 := &schema.L7{By: "content", Confidence: 1, DNS: &schema.DNS{Query: "api.example.com", QType: "A", RCode: "NOERROR", Answers: []string{"93.184.216.34"}}}
	httpL7 := &schema.L7{By: "content", Confidence: 1, HTTP: &schema.HTTP{Method: "GET", Host: "updates.example.com", URI: "/v1/check", UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", Status: 200, Server: "nginx"}}
	for i := range 2000 {
		host := fmt.Sprintf("10.%d.%d.%d/02:00:00:%02x:%02x:%02x", 1+i/60000, i/250%240, i%250+1, i>>16&0xff, i>>8&0xff, i&0xff)
		syn := withSYN(128, "64240:1460:8:mss,nop,ws,nop,nop,sok", 52, "65535:1380:9:mss,nop,ws,sok,ts")
		out = append(out,
			sess(host, fmt.Sprintf("203.0.113.%d/00:00:0c:00:00:01", i%200+1), 6, 443, "tls", t0.Add(time.Duration(i)*time.Millisecond), withL7(tlsL7), syn),
			sess(host, "10.0.0.53/00:00:0c:00:00:53", 17, 53, "dns", t0.Add(time.Duration(i)*time.Millisecond), withL7(dnsL7)),
			sess(host, fmt.Sprintf("10.0.%d.80/d8:9e:f3:00:%02x:80", i%16, i%16), 6, 80, "http", t0.Add(time.Duration(i)*time.Millisecond), withL7(httpL7), syn),
			sess(host, fmt.Sprintf("198.51.100.%d/00:00:0c:00:00:01", i%100+1), 17, 123, "ntp", t0.Add(time.Duration(i)*time.Millisecond)),
		)
	}
	return out
}

// BenchmarkObserve measures the ingest path: a warm inventory (every
// device known) taking one session record at a time.
func BenchmarkObserve(b *testing.B) {
	sessions := benchSessions()
	inv := New(DefaultConfig(), IEEE)
	for _, s := range sessions {
		inv.Observe(s)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		inv.Observe(sessions[i%len(sessions)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
}

// BenchmarkObserveParallel is the same with every core observing.
func BenchmarkObserveParallel(b *testing.B) {
	sessions := benchSessions()
	inv := New(DefaultConfig(), IEEE)
	for _, s := range sessions {
		inv.Observe(s)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			inv.Observe(sessions[i%len(sessions)])
			i += 7
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
}

// BenchmarkDevices measures a full snapshot (classification and JSON)
// of 2,000 devices and their servers.
func BenchmarkDevices(b *testing.B) {
	inv := New(DefaultConfig(), IEEE)
	for _, s := range benchSessions() {
		inv.Observe(s)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		inv.Devices()
	}
}
