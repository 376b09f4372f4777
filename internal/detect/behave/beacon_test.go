package behave

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestBeaconing(t *testing.T) {
	cfg := defaultBeaconConfig()
	calls := func(n int, gap func(i int) time.Duration, opts ...func(*schema.Session)) []*schema.Session {
		var ss []*schema.Session
		at := time.Duration(0)
		for i := range n {
			ss = append(ss, sess("10.0.0.5", "198.51.100.20", 443, at, opts...))
			at += gap(i)
		}
		return ss
	}
	rng := rand.New(rand.NewPCG(1, 2))
	jitter := func(i int) time.Duration { return 60*time.Second + time.Duration(rng.IntN(3000))*time.Millisecond }
	t.Run("regular calls with a little jitter fire", func(t *testing.T) {
		r := one(t, run(newBeaconing(cfg), calls(12, jitter)...), "beaconing|10.0.0.5|198.51.100.20|443",
			"ip:10.0.0.5", "ip:198.51.100.20", "port:443")
		if r.Values["score"] < cfg.Threshold || r.Values["median_interval_seconds"] < 60 {
			t.Errorf("values %v", r.Values)
		}
	})
	t.Run("keyed by server name", func(t *testing.T) {
		i := 0
		sni := func(s *schema.Session) {
			i++
			s.Resp.IP = s.Resp.IP.Next() // rotating addresses behind one name
			s.L7 = &schema.L7{TLS: &schema.TLS{SNI: "c2.example"}}
		}
		one(t, run(newBeaconing(cfg), calls(10, func(int) time.Duration { return 5 * time.Minute }, sni)...),
			"beaconing|10.0.0.5|c2.example|443", "domain:c2.example")
	})
	t.Run("irregular browsing does not", func(t *testing.T) {
		// Bursts of page loads seconds apart between reading pauses.
		irregular := func(i int) time.Duration {
			if rng.IntN(3) > 0 {
				return time.Duration(1+rng.IntN(5)) * time.Second
			}
			return time.Duration(1+rng.ExpFloat64()*600) * time.Second
		}
		none(t, run(newBeaconing(cfg), calls(32, irregular)...))
	})
	t.Run("too few connections", func(t *testing.T) {
		none(t, run(newBeaconing(cfg), calls(9, jitter)...))
	})
	t.Run("internal scrapes are ignored", func(t *testing.T) {
		none(t, run(newBeaconing(cfg), calls(20, jitter, func(s *schema.Session) { s.Resp.IP = s.Orig.IP.Next() })...))
	})
	t.Run("windows of one flow-log connection are one call", func(t *testing.T) {
		none(t, run(newBeaconing(cfg), calls(20, jitter, func(s *schema.Session) {
			s.Orig.Port, s.Flow = 40001, &schema.Flow{Action: "accept"}
		})...))
	})
}

func TestBeaconingMemoryCap(t *testing.T) {
	cfg := defaultBeaconConfig()
	cfg.MaxPairs = 100
	d := newBeaconing(cfg)
	for i := range 1000 {
		run(d, sess("10.0.0.5", "198.51.100.1", uint16(1000+i), time.Duration(i)*time.Second))
	}
	// 900 pairs and 900 destinations (the caller counts) dropped.
	if len(d.pairs) > 100 || len(d.callers) > 100 || d.Evictions() != 1800 {
		t.Errorf("%d pairs, %d destinations, %d evictions", len(d.pairs), len(d.callers), d.Evictions())
	}
	d.Tick(t0.Add(1000*time.Second+cfg.Idle+time.Second), nil)
	if len(d.pairs) != 0 || len(d.callers) != 0 {
		t.Errorf("%d pairs, %d destinations left after idle in session time", len(d.pairs), len(d.callers))
	}
}
