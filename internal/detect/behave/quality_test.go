package behave

import (
	"fmt"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// The cases here come from internal/detect/scenario: benign habits of
// real fleets that the detectors used to report.

func TestInternetScannersAreNotScans(t *testing.T) {
	probe := func() []*schema.Session {
		var ss []*schema.Session
		for i := range 300 {
			ss = append(ss, sess("203.0.113.9", "10.20.1.14", uint16(1+i), time.Duration(i)*50*time.Millisecond, refused))
		}
		return ss
	}
	none(t, run(newVerticalScan(defaultScanConfig()), probe()...))
	cfg := defaultScanConfig()
	cfg.InternetSources = true
	one(t, run(newVerticalScan(cfg), probe()...), "vertical-scan|203.0.113.9|10.20.1.14", "ip:203.0.113.9")

	sweep := func() []*schema.Session {
		var ss []*schema.Session
		for i := range 100 {
			ss = append(ss, sess("203.0.113.9", fmt.Sprintf("10.20.1.%d", i), 22, time.Duration(i)*100*time.Millisecond, refused))
		}
		return ss
	}
	none(t, run(newHorizontalScan(defaultScanConfig()), sweep()...))
	one(t, run(newHorizontalScan(cfg), sweep()...), "horizontal-scan|203.0.113.9|22/tcp", "ip:203.0.113.9")
}

func TestMulticastAnnouncementsAreNotBeacons(t *testing.T) {
	var ss []*schema.Session
	for i := range 40 {
		// SSDP NOTIFY every 30 minutes; with local_nets set to the
		// site's private space the meter calls it outbound.
		ss = append(ss, sess("10.10.0.23", "239.255.255.250", 1900, time.Duration(i)*30*time.Minute, udp, func(s *schema.Session) {
			s.Direction, s.ConnState, s.RespPkts, s.Orig.Port = "outbound", "S0", 0, 1900
		}))
	}
	none(t, run(newBeaconing(defaultBeaconConfig()), ss...))
	none(t, run(newExfiltration(defaultExfilConfig()), ss...))
}

func TestFleetServiceIsNotABeacon(t *testing.T) {
	// Battery sensors wake every few minutes, connect to the broker,
	// publish and sleep: each is as regular as an implant.
	calls := func(srcs int) []*schema.Session {
		var ss []*schema.Session
		for i := range 12 { // one report each: the pair is scored every 10 calls
			for j := range srcs {
				ss = append(ss, sess(fmt.Sprintf("10.10.0.%d", 10+j), "52.94.1.1", 8883, time.Duration(i)*2*time.Minute+time.Duration(j)*time.Second,
					func(s *schema.Session) { s.L7 = &schema.L7{TLS: &schema.TLS{SNI: "broker.iot.example"}} }))
			}
		}
		return ss
	}
	cfg := defaultBeaconConfig()
	none(t, run(newBeaconing(cfg), calls(cfg.CommonCallers)...))
	if n := len(run(newBeaconing(cfg), calls(cfg.CommonCallers-1)...)); n != cfg.CommonCallers-1 {
		t.Errorf("%d callers of one destination raised %d reports, want one each", cfg.CommonCallers-1, n)
	}
	cfg.CommonCallers = 0
	if n := len(run(newBeaconing(cfg), calls(8)...)); n != 8 {
		t.Errorf("common_callers 0: 8 callers raised %d reports, want 8", n)
	}
}

func TestAllowlistNamesAddressesFromDNSAnswers(t *testing.T) {
	d := newAllowlist(defaultAllowlistConfig())
	// Every hour the device asks for pool.ntp.org and polls the server
	// it was given: a different one of thousands each time.
	ntp := func(h int, server string) []*schema.Session {
		at := time.Duration(h) * time.Hour
		return []*schema.Session{
			sess("10.10.0.5", "10.0.0.53", 53, at, udp, func(s *schema.Session) {
				s.L7 = &schema.L7{DNS: &schema.DNS{Query: "pool.ntp.org", QType: "A", Answers: []string{server}}}
			}),
			sess("10.10.0.5", server, 123, at+time.Second, udp),
		}
	}
	var rs []detect.Report
	for h := range 48 {
		rs = append(rs, run(d, ntp(h, fmt.Sprintf("198.51.100.%d", 1+h))...)...)
	}
	none(t, rs)
	// An address no answer gave is still new.
	one(t, run(d, sess("10.10.0.5", "192.0.2.7", 123, 49*time.Hour, udp)), "new-destination|10.10.0.5", "ip:192.0.2.7")
}

func TestNightlyBackupIsNotExfiltration(t *testing.T) {
	// A database uploads about 3 GB to its bucket every night at two,
	// over eight connections to addresses that rotate behind the
	// bucket's name, and little else.
	days := func(n int, extra ...*schema.Session) []*schema.Session {
		var ss []*schema.Session
		for h := range n * 24 {
			at := time.Duration(h) * time.Hour
			ss = append(ss, sess("10.20.1.12", "52.46.0.1", 443, at, func(s *schema.Session) { s.OrigBytes = 5 << 20 }))
			if h%24 != 2 {
				continue
			}
			for i := range 8 {
				ss = append(ss, sess("10.20.1.12", fmt.Sprintf("52.218.%d.%d", h, i), 443, at+time.Duration(i)*time.Minute, func(s *schema.Session) {
					s.OrigBytes = uint64(3e9/8) + uint64(h)<<20
					s.L7 = &schema.L7{TLS: &schema.TLS{SNI: "backups.s3.eu-west-1.amazonaws.com"}}
				}))
			}
		}
		return append(ss, extra...)
	}
	none(t, run(newExfiltration(defaultExfilConfig()), days(4)...))

	// Twice the night's upload to the bucket is not a backup any more.
	big := sess("10.20.1.12", "52.218.200.1", 443, 4*24*time.Hour+14*time.Hour, func(s *schema.Session) {
		s.OrigBytes = 9e9
		s.L7 = &schema.L7{TLS: &schema.TLS{SNI: "backups.s3.eu-west-1.amazonaws.com"}}
	})
	r := one(t, run(newExfiltration(defaultExfilConfig()), days(4, big)...), "exfiltration|10.20.1.12")
	if r.Severity != detect.Medium || r.Values["recent_peak"] < 3e9 {
		t.Errorf("severity %s, values %v", r.Severity, r.Values)
	}
	// A gigabyte somewhere new, in the afternoon, is what to find.
	out := sess("10.20.1.12", "192.0.2.50", 443, 4*24*time.Hour+14*time.Hour, func(s *schema.Session) { s.OrigBytes = 1e9 })
	r = one(t, run(newExfiltration(defaultExfilConfig()), days(4, out)...), "exfiltration|10.20.1.12", "ip:192.0.2.50")
	if r.Severity != detect.High {
		t.Errorf("severity %s", r.Severity)
	}
}
