package behave

import (
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// exfilDay sends bytes from 10.0.0.5 to its usual server once an hour
// for hours hours, then last to dst in the hour after.
func exfilDay(hours int, last uint64, dst string) []*schema.Session {
	var ss []*schema.Session
	for h := range hours {
		ss = append(ss, sess("10.0.0.5", "198.51.100.10", 443, time.Duration(h)*time.Hour,
			func(s *schema.Session) { s.OrigBytes = uint64(10<<20 + h%3<<20) }))
	}
	return append(ss, sess("10.0.0.5", dst, 443, time.Duration(hours)*time.Hour+time.Minute,
		func(s *schema.Session) { s.OrigBytes = last }))
}

func TestExfiltration(t *testing.T) {
	cfg := defaultExfilConfig()
	t.Run("burst to a new destination fires high", func(t *testing.T) {
		r := one(t, run(newExfiltration(cfg), exfilDay(30, 2<<30, "203.0.113.77")...), "exfiltration|10.0.0.5",
			"ip:10.0.0.5", "ip:203.0.113.77")
		if r.Severity != detect.High || r.Values["bytes"] != 2<<30 || r.Values["baseline_mean"] > 12<<20 {
			t.Errorf("severity %s values %v", r.Severity, r.Values)
		}
	})
	t.Run("burst to the usual destination is medium", func(t *testing.T) {
		r := one(t, run(newExfiltration(cfg), exfilDay(30, 2<<30, "198.51.100.10")...), "exfiltration|10.0.0.5")
		if r.Severity != detect.Medium {
			t.Errorf("severity %s", r.Severity)
		}
	})
	t.Run("within baseline", func(t *testing.T) {
		none(t, run(newExfiltration(cfg), exfilDay(30, 12<<20, "203.0.113.77")...))
	})
	t.Run("above baseline but under the floor", func(t *testing.T) {
		none(t, run(newExfiltration(cfg), exfilDay(30, 90<<20, "203.0.113.77")...))
	})
	t.Run("during warm-up", func(t *testing.T) {
		none(t, run(newExfiltration(cfg), exfilDay(10, 2<<30, "203.0.113.77")...))
	})
	t.Run("interim records count once", func(t *testing.T) {
		ss := exfilDay(30, 0, "203.0.113.77")
		ss = ss[:len(ss)-1]
		// A 60 MB/hour stream for 3 hours: cumulative interim records.
		for i := range 3 {
			s := sess("10.0.0.5", "198.51.100.10", 443, 30*time.Hour, func(s *schema.Session) {
				s.UID, s.Seq, s.Final, s.OrigBytes = "Clong", uint32(i), i == 2, uint64(i+1)*60<<20
			})
			s.End = t0.Add(time.Duration(30+i) * time.Hour)
			ss = append(ss, s)
		}
		none(t, run(newExfiltration(cfg), ss...))
	})
	t.Run("inbound traffic does not count", func(t *testing.T) {
		ss := exfilDay(30, 0, "203.0.113.77")
		ss[len(ss)-1] = sess("203.0.113.77", "10.0.0.5", 443, 30*time.Hour, func(s *schema.Session) { s.OrigBytes = 2 << 30 })
		none(t, run(newExfiltration(cfg), ss...))
	})
}

func TestExfiltrationMemoryCap(t *testing.T) {
	cfg := defaultExfilConfig()
	cfg.MaxSources, cfg.MaxDestinations = 10, 5
	d := newExfiltration(cfg)
	for i := range 100 {
		run(d, sess("10.0.1."+itoa3(i), "198.51.100."+itoa3(i), 443, 0), sess("10.0.0.1", "203.0.113."+itoa3(i), 443, 0))
	}
	if len(d.sources) > 10 || d.Evictions() == 0 {
		t.Errorf("%d sources, %d evictions", len(d.sources), d.Evictions())
	}
	for _, src := range d.sources {
		if len(src.known) > 5 {
			t.Errorf("%d destinations remembered, want at most 5", len(src.known))
		}
	}
}
