package audit

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// mix is an hour of a site with 2 000 hosts and IoT devices: DNS, TLS
// to the internet (mostly 1.3, so no certificates), internal file and
// database traffic, NTP, refused attempts, IoT devices on an MQTT
// broker over mutual TLS (each its own certificate) and in cleartext
// (each its own client id), internal web interfaces, a little telnet and
// FTP, and a few problems: one certificate on two devices, one client id
// on two, a broker with an expired certificate, a TLS 1.0 server.
func mix(n int) []schema.Session {
	rng := rand.New(rand.NewPCG(7, 7))
	ss := make([]schema.Session, n)
	broker, oldBroker := netip.MustParseAddr("10.9.0.1"), netip.MustParseAddr("10.9.0.2")
	brokerCert, expired := goodCert("broker"), goodCert("expired")
	expired.NotAfter = t0.AddDate(0, -1, 0)
	devCerts := make([]*schema.Cert, 500)
	for i := range devCerts {
		devCerts[i] = goodCert(fmt.Sprintf("%064x", i))
	}
	for i := range ss {
		s := &ss[i]
		h := rng.IntN(2000)
		at := t0.Add(time.Duration(i) * time.Hour / time.Duration(n))
		*s = schema.Session{UID: fmt.Sprintf("C%d", i), Final: true, Tenant: "acme", Start: at, End: at.Add(time.Duration(rng.IntN(5000)) * time.Millisecond),
			Orig:  schema.Endpoint{IP: netip.AddrFrom4([4]byte{10, 1, byte(h >> 8), byte(h)}), Port: uint16(32768 + rng.IntN(28000))},
			Proto: 6, Transport: "tcp", ConnState: "SF", History: "ShADadFf",
			OrigPkts: 10, RespPkts: 12, OrigBytes: uint64(200 + rng.IntN(5000)), RespBytes: uint64(rng.IntN(100000))}
		dev := h % 500
		devIP := netip.AddrFrom4([4]byte{10, 6, byte(dev >> 8), byte(dev)}) // an IoT device's own address
		switch r := rng.IntN(100); {
		case r < 35:
			s.Resp = schema.Endpoint{IP: netip.AddrFrom4([4]byte{10, 0, 0, 53}), Port: 53}
			s.Proto, s.Transport = 17, "udp"
			s.App, s.L7 = "dns", &schema.L7{By: "content", DNS: &schema.DNS{Query: "example.com", QType: "A"}}
		case r < 60:
			srv := rng.IntN(5000)
			s.Resp = schema.Endpoint{IP: netip.AddrFrom4([4]byte{198, 51, byte(srv >> 8), byte(srv)}), Port: 443}
			s.App, s.L7 = "tls", &schema.L7{By: "content", TLS: &schema.TLS{Version: "TLSv13", Cipher: "TLS_AES_128_GCM_SHA256", SNI: "www.example.com"}}
		case r < 65:
			srv := rng.IntN(200)
			s.Resp = schema.Endpoint{IP: netip.AddrFrom4([4]byte{198, 51, 100, byte(srv)}), Port: 443}
			s.App, s.L7 = "tls", &schema.L7{By: "content", TLS: &schema.TLS{Version: "TLSv12", Cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", Cert: brokerCert}}
		case r < 77:
			srv := rng.IntN(50)
			s.Resp = schema.Endpoint{IP: netip.AddrFrom4([4]byte{10, 2, 0, byte(srv)}), Port: []uint16{445, 5432, 3306, 22}[srv%4]}
		case r < 80:
			s.Resp = schema.Endpoint{IP: netip.AddrFrom4([4]byte{10, 0, 0, 123}), Port: 123}
			s.Proto, s.Transport, s.App = 17, "udp", "ntp"
		case r < 82:
			s.Resp = schema.Endpoint{IP: netip.AddrFrom4([4]byte{10, 3, byte(rng.IntN(256)), byte(rng.IntN(256))}), Port: uint16(1 + rng.IntN(1024))}
			s.ConnState, s.History, s.RespPkts, s.OrigBytes, s.RespBytes = "REJ", "Sr", 1, 0, 0
		case r < 90:
			cert := devCerts[dev]
			if dev == 0 {
				cert = devCerts[1] // cloned
			}
			s.Orig.IP, s.Resp = devIP, schema.Endpoint{IP: broker, Port: 8883}
			s.App, s.L7 = "tls", &schema.L7{By: "content", TLS: &schema.TLS{Version: "TLSv12", Cipher: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", Cert: brokerCert, ClientCert: cert}}
		case r < 94:
			id := fmt.Sprintf("sensor-%d", dev)
			if dev == 2 {
				id = "sensor-3" // duplicated
			}
			ok := uint8(0)
			s.Orig.IP, s.Resp = devIP, schema.Endpoint{IP: broker, Port: 1883}
			s.App, s.L7 = "mqtt", &schema.L7{By: "content", MQTT: &schema.MQTT{ClientID: id, ProtocolLevel: 4, ConnAck: &ok}}
		case r < 98:
			s.Resp = schema.Endpoint{IP: netip.AddrFrom4([4]byte{10, 4, 0, byte(rng.IntN(100))}), Port: 80}
			s.App, s.L7 = "http", &schema.L7{By: "content", HTTP: &schema.HTTP{Method: "GET", URI: "/"}}
		case r < 99:
			s.Resp = schema.Endpoint{IP: oldBroker, Port: 8883}
			s.App, s.L7 = "tls", &schema.L7{By: "content", TLS: &schema.TLS{Version: "TLSv10", Cipher: "TLS_RSA_WITH_AES_128_CBC_SHA", Cert: expired}}
		default:
			s.Resp = schema.Endpoint{IP: netip.AddrFrom4([4]byte{10, 5, 0, byte(rng.IntN(10))}), Port: []uint16{23, 21}[rng.IntN(2)]}
			s.App, s.L7 = map[uint16]string{23: "telnet", 21: "ftp"}[s.Resp.Port], &schema.L7{By: "content"}
		}
	}
	return ss
}

// BenchmarkAll runs every check, with default settings, over the mix,
// ticking every five seconds of session time as the engine does. Passes
// after the first shift the mix by an hour, so state builds up as it
// would over a long capture.
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
				d.(detect.Ticker).Tick(s.End, count)
			}
			next = s.End.Add(5 * time.Second)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
	b.ReportMetric(float64(reports)/float64(b.N)*1e6, "reports/Msession")
}

// TestMix checks what the benchmark's mix raises, and that reading it
// twice gives the same reports: nothing depends on the wall clock or on
// map order below the caps.
func TestMix(t *testing.T) {
	ss := mix(20000)
	pass := func() []detect.Report {
		ds, _ := New(DefaultConfig())
		var out []detect.Report
		for i := range ss {
			for _, d := range ds {
				d.Session(&ss[i], func(r detect.Report) { out = append(out, r) })
			}
		}
		return out
	}
	first := pass()
	keys, rules := map[string]bool{}, map[string]map[string]bool{}
	for _, r := range first {
		keys[r.DedupeKey] = true
		if rules[r.Rule] == nil {
			rules[r.Rule] = map[string]bool{}
		}
		rules[r.Rule][r.DedupeKey] = true
	}
	for rule, n := range map[string]int{"DEVICE_CERTIFICATE_SHARED_CHECK": 1, "CONFLICTING_CLIENT_IDS_CHECK": 1,
		"server-certificate-expiring": 1, "tls-weak-version": 1, "tls-weak-cipher": 0, "cleartext-management-http": 100} {
		if len(rules[rule]) != n {
			t.Errorf("%s: %d findings, want %d", rule, len(rules[rule]), n)
		}
	}
	for _, k := range []string{
		"DEVICE_CERTIFICATE_SHARED_CHECK|" + fmt.Sprintf("%064x", 1),
		"CONFLICTING_CLIENT_IDS_CHECK|ip:10.9.0.1|sensor-3",
		"server-certificate-expiring|expired|expired",
		"tls-weak-version|ip:10.9.0.2|TLSv10",
		"cleartext-management-http|ip:10.4.0.1",
	} {
		if !keys[k] {
			t.Errorf("no report %s among %d keys", k, len(keys))
		}
	}
	if diff := cmp.Diff(first, pass()); diff != "" {
		t.Errorf("second pass differs (-first +second):\n%s", diff)
	}
}

// BenchmarkMemory measures what the tracking checks hold per key: a
// device certificate (or client id) in use by one device, and by two.
func BenchmarkMemory(b *testing.B) {
	const keys = 100_000
	for _, devices := range []int{1, 2} {
		b.Run(fmt.Sprintf("devices-%d", devices), func(b *testing.B) {
			for range b.N {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				d := newSharedCert(DefaultConfig().SharedCert, 10*time.Minute)
				ss := make([]schema.Session, keys*devices)
				for i := range ss {
					k := i / devices
					ss[i] = schema.Session{UID: fmt.Sprintf("C%d", i), Tenant: "acme", Start: t0, End: t0.Add(time.Minute),
						Orig: schema.Endpoint{IP: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})},
						L7:   &schema.L7{TLS: &schema.TLS{ClientCert: &schema.Cert{SHA256: fmt.Sprintf("%064x", k)}}}}
				}
				for i := range ss {
					d.Session(&ss[i], func(detect.Report) {})
				}
				ss = nil // what stays is the tracker and the strings it holds (hashes, session ids)
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/keys, "bytes/key")
				runtime.KeepAlive(d)
			}
		})
	}
}
