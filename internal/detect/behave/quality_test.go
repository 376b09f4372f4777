package behave

import (
	"fmt"
	"testing"
	"time"

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
