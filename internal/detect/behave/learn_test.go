package behave

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestNewPort(t *testing.T) {
	cfg := defaultNewPortConfig()
	day := func(opts ...func(*schema.Session)) []*schema.Session {
		var ss []*schema.Session
		for h := range 30 {
			ss = append(ss, sess("10.0.0.7", "10.0.0.10", 443, time.Duration(h)*time.Hour, opts...))
		}
		return ss
	}
	t.Run("new service after learning fires", func(t *testing.T) {
		cam := func(s *schema.Session) { s.Resp.Asset = "cam-1" }
		ss := append(day(cam), sess("10.0.0.7", "10.0.0.10", 4444, 31*time.Hour, cam))
		one(t, run(newNewPort(cfg), ss...), "new-listening-port|cam-1|4444/tcp", "ip:10.0.0.10", "asset:cam-1", "port:4444")
	})
	t.Run("refused probes prove nothing", func(t *testing.T) {
		none(t, run(newNewPort(cfg), append(day(), sess("10.0.0.7", "10.0.0.10", 4444, 31*time.Hour, refused))...))
	})
	t.Run("ports seen while learning", func(t *testing.T) {
		ss := append(day(), sess("10.0.0.7", "10.0.0.10", 8443, time.Hour), sess("10.0.0.8", "10.0.0.10", 8443, 31*time.Hour))
		none(t, run(newNewPort(cfg), ss...))
	})
	t.Run("dynamic ports and external servers are not watched", func(t *testing.T) {
		ss := append(day(), sess("10.0.0.7", "10.0.0.10", 50123, 31*time.Hour), sess("10.0.0.7", "198.51.100.1", 8080, 31*time.Hour))
		none(t, run(newNewPort(cfg), ss...))
	})
	t.Run("flow-record reply shows the server", func(t *testing.T) {
		s := sess("10.0.0.10", "10.0.0.7", 51000, 31*time.Hour, func(s *schema.Session) {
			s.Orig.Port, s.Flow, s.ConnState, s.History = 2222, &schema.Flow{Action: "accept"}, "OTH", ""
		})
		one(t, run(newNewPort(cfg), append(day(), s)...), "new-listening-port|10.0.0.10|2222/tcp")
	})
	t.Run("memory cap", func(t *testing.T) {
		c := cfg
		c.MaxDevices, c.MaxPortsPerDevice = 3, 2
		d := newNewPort(c)
		for i := range 10 {
			run(d, sess("10.0.0.7", fmt.Sprintf("10.0.1.%d", i), 80, 0), sess("10.0.0.7", "10.0.1.9", uint16(100+i), 0))
		}
		if len(d.devices) > 3 || d.Evictions() == 0 {
			t.Errorf("%d devices, %d evictions", len(d.devices), d.Evictions())
		}
		for _, dev := range d.devices {
			if len(dev.ports) > 2 {
				t.Errorf("%d ports learnt", len(dev.ports))
			}
		}
	})
}

func TestAllowlist(t *testing.T) {
	cfg := defaultAllowlistConfig()
	sni := func(name string) func(*schema.Session) {
		return func(s *schema.Session) { s.L7 = &schema.L7{TLS: &schema.TLS{SNI: name}} }
	}
	day := func() []*schema.Session {
		var ss []*schema.Session
		for h := range 30 {
			ss = append(ss, sess("10.0.0.50", "198.51.100.5", 8883, time.Duration(h)*time.Hour),
				sess("10.0.0.50", "203.0.113.1", 443, time.Duration(h)*time.Hour, sni("a1.iot.vendor.example")))
		}
		return ss
	}
	t.Run("new destination after learning fires", func(t *testing.T) {
		ss := append(day(), sess("10.0.0.50", "192.0.2.66", 23, 31*time.Hour))
		one(t, run(newAllowlist(cfg), ss...), "new-destination|10.0.0.50", "ip:10.0.0.50", "ip:192.0.2.66", "port:23")
	})
	t.Run("new name fires once", func(t *testing.T) {
		ss := append(day(), sess("10.0.0.50", "203.0.113.1", 443, 31*time.Hour, sni("evil.example.net")),
			sess("10.0.0.50", "203.0.113.2", 443, 32*time.Hour, sni("evil.example.net")))
		one(t, run(newAllowlist(cfg), ss...), "new-destination|10.0.0.50", "domain:example.net")
	})
	t.Run("a device's new destinations are one finding", func(t *testing.T) {
		ss := day()
		for i := range 10 {
			ss = append(ss, sess("10.0.0.50", fmt.Sprintf("192.0.2.%d", 10+i), 22, 31*time.Hour+time.Duration(i)*time.Second))
		}
		rs := run(newAllowlist(cfg), ss...)
		if len(rs) != 10 {
			t.Fatalf("%d reports, want one a new destination", len(rs))
		}
		for i, r := range rs {
			if r.DedupeKey != "new-destination|10.0.0.50" || !slices.Contains(r.Entities, fmt.Sprintf("ip:192.0.2.%d", 10+i)) {
				t.Errorf("report %d: key %q, entities %v", i, r.DedupeKey, r.Entities)
			}
		}
		last := rs[len(rs)-1]
		if last.Values["new_destinations"] != 10 || last.Values["known_destinations"] != 2 {
			t.Errorf("values %v, want 10 new and 2 known", last.Values)
		}
		if last.Summary != "10.0.0.50 contacted ip:192.0.2.19 on 22/tcp: 10 destinations new since the 2 learnt in its first 24h0m0s" {
			t.Errorf("summary %q", last.Summary)
		}
	})
	t.Run("learned destinations, another name of a learnt domain, a new address behind a learnt name", func(t *testing.T) {
		ss := append(day(), sess("10.0.0.50", "198.51.100.5", 8883, 31*time.Hour),
			sess("10.0.0.50", "203.0.113.99", 443, 31*time.Hour, sni("a2.iot.vendor.example")))
		none(t, run(newAllowlist(cfg), ss...))
	})
	t.Run("diverse devices are not watched", func(t *testing.T) {
		var ss []*schema.Session
		for i := range 100 {
			ss = append(ss, sess("10.0.0.60", fmt.Sprintf("198.51.100.%d", i), 443, time.Duration(i)*time.Minute))
		}
		ss = append(ss, sess("10.0.0.60", "192.0.2.66", 443, 48*time.Hour))
		none(t, run(newAllowlist(cfg), ss...))
	})
	t.Run("memory cap", func(t *testing.T) {
		c := cfg
		c.MaxDevices = 10
		d := newAllowlist(c)
		for i := range 100 {
			run(d, sess(fmt.Sprintf("10.0.3.%d", i), "198.51.100.1", 443, 0))
		}
		if len(d.devices) > 10 || d.Evictions() != 90 {
			t.Errorf("%d devices, %d evictions", len(d.devices), d.Evictions())
		}
	})
	t.Run("only tagged devices when tags are set", func(t *testing.T) {
		c := cfg
		c.DeviceTags = []string{"iot"}
		none(t, run(newAllowlist(c), append(day(), sess("10.0.0.50", "192.0.2.66", 23, 31*time.Hour))...))
		tagged := day()
		tagged = append(tagged, sess("10.0.0.50", "192.0.2.66", 23, 31*time.Hour))
		for _, s := range tagged {
			s.Orig.Tags = []string{"building-a", "iot"}
		}
		one(t, run(newAllowlist(c), tagged...), "new-destination|10.0.0.50")
	})
}

func TestFanOut(t *testing.T) {
	cfg := defaultFanOutConfig()
	learnt := func() []*schema.Session {
		var ss []*schema.Session
		for i := range 100 {
			ss = append(ss, sess("10.0.0.5", fmt.Sprintf("198.51.100.%d", i), 443, time.Duration(i)*30*time.Second))
		}
		return ss
	}
	burst := func(n int, from string) []*schema.Session {
		var ss []*schema.Session
		for i := range n {
			ss = append(ss, sess("10.0.0.5", fmt.Sprintf(from, i), 445, 2*time.Hour+time.Duration(i)*time.Second))
		}
		return ss
	}
	t.Run("burst of new hosts fires", func(t *testing.T) {
		one(t, run(newFanOut(cfg), append(learnt(), burst(60, "203.0.%d.9")...)...), "fan-out|10.0.0.5", "ip:10.0.0.5")
	})
	t.Run("learnt hosts are not new", func(t *testing.T) {
		none(t, run(newFanOut(cfg), append(learnt(), burst(100, "198.51.100.%d")...)...))
	})
	t.Run("below threshold", func(t *testing.T) {
		none(t, run(newFanOut(cfg), append(learnt(), burst(49, "203.0.%d.9")...)...))
	})
	t.Run("internal destinations do not count", func(t *testing.T) {
		none(t, run(newFanOut(cfg), append(learnt(), burst(60, "10.9.%d.9")...)...))
	})
	t.Run("memory cap", func(t *testing.T) {
		c := cfg
		c.MaxSources, c.MaxDestinations = 4, 50
		d := newFanOut(c)
		run(d, burst(200, "203.0.%d.9")...)
		for i := range 10 {
			run(d, sess(fmt.Sprintf("10.0.2.%d", i), "198.51.100.1", 443, 0))
		}
		if len(d.sources) > 4 || d.Evictions() == 0 {
			t.Errorf("%d sources, %d evictions", len(d.sources), d.Evictions())
		}
		for _, src := range d.sources {
			if len(src.known) > 50 {
				t.Errorf("%d destinations remembered", len(src.known))
			}
		}
	})
}
