package behave

import (
	"fmt"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestHorizontalScan(t *testing.T) {
	cfg := defaultScanConfig()
	sweep := func(n int, opts ...func(*schema.Session)) []*schema.Session {
		var ss []*schema.Session
		for i := range n {
			ss = append(ss, sess("10.0.0.5", fmt.Sprintf("10.0.%d.%d", 1+i/200, 1+i%200), 22, time.Duration(i)*100*time.Millisecond, opts...))
		}
		return ss
	}
	t.Run("refused sweep fires", func(t *testing.T) {
		r := one(t, run(newHorizontalScan(cfg), sweep(60, refused)...), "horizontal-scan|10.0.0.5|22/tcp", "ip:10.0.0.5", "port:22")
		if r.Values["hosts"] != 50 || r.Values["unanswered"] != 50 {
			t.Errorf("values %v", r.Values)
		}
	})
	t.Run("below threshold", func(t *testing.T) {
		none(t, run(newHorizontalScan(cfg), sweep(49, refused)...))
	})
	t.Run("answered fleet login is not a scan", func(t *testing.T) {
		none(t, run(newHorizontalScan(cfg), sweep(200)...))
	})
	t.Run("slower than the window", func(t *testing.T) {
		ss := sweep(100, refused)
		for i, s := range ss {
			s.Start = t0.Add(time.Duration(i) * 2 * time.Second)
			s.End = s.Start
		}
		none(t, run(newHorizontalScan(cfg), ss...))
	})
	t.Run("interim records are not new attempts", func(t *testing.T) {
		ss := sweep(60, refused)
		for _, s := range ss[:20] {
			s.Seq = 1
		}
		none(t, run(newHorizontalScan(cfg), ss...))
	})
}

func TestVerticalScan(t *testing.T) {
	cfg := defaultScanConfig()
	probe := func(n int, opts ...func(*schema.Session)) []*schema.Session {
		var ss []*schema.Session
		for i := range n {
			ss = append(ss, sess("10.0.0.5", "10.0.9.9", uint16(1+i), time.Duration(i)*10*time.Millisecond, opts...))
		}
		return ss
	}
	t.Run("refused ports fire", func(t *testing.T) {
		one(t, run(newVerticalScan(cfg), probe(1000, refused)...), "vertical-scan|10.0.0.5|10.0.9.9", "ip:10.0.0.5", "ip:10.0.9.9")
	})
	t.Run("below threshold", func(t *testing.T) {
		none(t, run(newVerticalScan(cfg), probe(49, refused)...))
	})
	t.Run("flow-record replies are not probes", func(t *testing.T) {
		// A server's answers in flow records carry many client ports.
		var ss []*schema.Session
		for i := range 100 {
			s := sess("10.0.9.9", "10.0.0.5", uint16(50000+i), time.Duration(i)*time.Millisecond, refused)
			s.Orig.Port, s.Flow = 443, &schema.Flow{Action: "accept"}
			ss = append(ss, s)
		}
		none(t, run(newVerticalScan(defaultScanConfig()), ss...))
	})
}

func TestScanMemoryCap(t *testing.T) {
	cfg := defaultScanConfig()
	cfg.MaxKeys = 10
	d := newHorizontalScan(cfg)
	for i := range 1000 {
		run(d, sess(fmt.Sprintf("10.1.%d.%d", i/250, i%250), "10.0.0.1", 22, time.Duration(i)*time.Millisecond, refused))
	}
	if len(d.w.keys) > 10 || d.Evictions() != 990 {
		t.Errorf("%d keys, %d evictions; want at most 10 and 990", len(d.w.keys), d.Evictions())
	}
}

func TestScanExpiresBySessionTime(t *testing.T) {
	d := newHorizontalScan(defaultScanConfig())
	run(d, sess("10.0.0.5", "10.0.0.6", 22, 0, refused))
	d.Tick(t0.Add(30*time.Second), nil)
	if len(d.w.keys) != 1 {
		t.Fatalf("expired before the window closed in session time")
	}
	d.Tick(t0.Add(5*time.Minute), nil)
	if len(d.w.keys) != 0 {
		t.Fatalf("kept %d keys after the window closed", len(d.w.keys))
	}
}
