package profile

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

const authP90 = `{"name":"auth","metric":"aws:num-authorization-failures","criteria":{"comparisonOperator":"less-than-equals","statisticalThreshold":{"statistic":"p90"},"durationSeconds":300}}`

// fleet reports rounds of auth failures, five minutes apart: n devices
// report 4 or 5, and "odd" reports odd. (With a spread-out fleet p90
// flags its top tenth by definition; here the fleet agrees.)
func fleet(d *Detector, rounds, n int, odd float64) []detect.Report {
	var out []detect.Report
	for r := range rounds {
		at := time.Duration(r) * 5 * time.Minute
		var ms []*schema.DeviceMetric
		for i := range n {
			ms = append(ms, metric(fmt.Sprintf("dev-%d", i), "aws:num-authorization-failures", at, float64(4+i%2)))
		}
		ms = append(ms, metric("odd", "aws:num-authorization-failures", at, odd))
		out = append(out, feed(d, ms...)...)
	}
	return out
}

func TestStatisticalThreshold(t *testing.T) {
	t.Run("outlier above p90", func(t *testing.T) {
		d := newDetector(t, DefaultConfig(), profileJSON(authP90))
		rs := fleet(d, 4, 10, 50)
		if len(rs) == 0 {
			t.Fatal("no report")
		}
		for _, r := range rs {
			if r.Entities[0] != "thing:odd" || r.Values["threshold"] != 5 || r.Values["value"] != 50 {
				t.Errorf("report %+v", r)
			}
		}
	})
	t.Run("no outlier", func(t *testing.T) {
		d := newDetector(t, DefaultConfig(), profileJSON(authP90))
		if rs := fleet(d, 4, 10, 5); len(rs) != 0 {
			t.Errorf("%d reports, first %+v", len(rs), rs[0])
		}
	})
	t.Run("too few devices", func(t *testing.T) {
		d := newDetector(t, DefaultConfig(), profileJSON(authP90))
		if rs := fleet(d, 20, 3, 50); len(rs) != 0 {
			t.Errorf("fired with 4 devices: %+v", rs[0])
		}
	})
	t.Run("population ages out", func(t *testing.T) {
		cfg := DefaultConfig()
		d := newDetector(t, cfg, profileJSON(authP90))
		fleet(d, 2, 10, 5)
		var none []detect.Report
		d.Tick(t0.Add(cfg.StatsWindow+time.Hour), func(r detect.Report) { none = append(none, r) })
		p := d.pops[d.popKeys[0]]
		if p.ready || len(none) != 0 {
			t.Errorf("population still ready after the window: %+v", p)
		}
	})
}

func TestPopulationBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.StatsSample = 120
	p := newPopulation(0.5, &cfg)
	for i := range 100000 {
		p.add(t0.Add(time.Duration(i)*time.Millisecond), float64(i%1000), uint64(i%50))
	}
	p.recompute(t0.Add(100 * time.Second))
	kept := 0
	for _, b := range p.buckets {
		kept += len(b.vals)
	}
	if kept > 120 || !p.ready || math.Abs(p.threshold-500) > 150 {
		t.Errorf("kept %d values, ready %v, median %v", kept, p.ready, p.threshold)
	}
}

func TestPopulationOddTimes(t *testing.T) {
	cfg := DefaultConfig()
	p := newPopulation(0.5, &cfg)
	for _, at := range []time.Time{{}, time.Unix(-1e9, 0), time.Unix(1<<40, 0)} {
		p.add(at, 1, 1) // must not panic
	}
}

const mlBehaviours = `{"name":"low","metric":"aws:all-bytes-out","criteria":{"mlDetectionConfig":{"confidenceLevel":"LOW"}}},
	{"name":"medium","metric":"aws:all-bytes-out","criteria":{"mlDetectionConfig":{"confidenceLevel":"MEDIUM"}}},
	{"name":"high","metric":"aws:all-bytes-out","criteria":{"mlDetectionConfig":{"confidenceLevel":"HIGH"}}}`

// bytesOut is a device sending about 1 MB per five minutes with
// log-normal noise (10 %), for n datapoints from the start-th on, each
// times factor.
func bytesOut(rng *rand.Rand, start, n int, factor float64) []*schema.DeviceMetric {
	var ms []*schema.DeviceMetric
	for i := start; i < start+n; i++ {
		v := 1e6 * math.Exp(0.1*rng.NormFloat64()) * factor
		ms = append(ms, metric("cam-1", "aws:all-bytes-out", time.Duration(i)*5*time.Minute, v))
	}
	return ms
}

func mlDetector(t *testing.T) *Detector {
	cfg := DefaultConfig()
	cfg.MLTraining = 24 * time.Hour
	return newDetector(t, cfg, profileJSON(mlBehaviours))
}

// byRule counts reports per rule.
func byRule(rs []detect.Report) map[string]int {
	n := map[string]int{}
	for _, r := range rs {
		n[r.Rule]++
	}
	return n
}

func TestML(t *testing.T) {
	const day = 288 // five-minute datapoints
	t.Run("normal noise raises nothing", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 1))
		d := mlDetector(t)
		if rs := feed(d, bytesOut(rng, 0, 5*day, 1)...); len(rs) != 0 {
			t.Errorf("%d reports on noise: %v", len(rs), byRule(rs))
		}
	})
	t.Run("nothing during training", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(2, 2))
		d := mlDetector(t)
		ms := append(bytesOut(rng, 0, 50, 1), bytesOut(rng, 50, 10, 100)...)
		if rs := feed(d, ms...); len(rs) != 0 {
			t.Errorf("%d reports while training", len(rs))
		}
	})
	t.Run("step change raises at every confidence", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 3))
		d := mlDetector(t)
		feed(d, bytesOut(rng, 0, 2*day, 1)...)
		n := byRule(feed(d, bytesOut(rng, 2*day, 3, 20)...))
		if n["P/low"] != 3 || n["P/medium"] != 3 || n["P/high"] != 3 {
			t.Errorf("reports per rule %v, want 3 each", n)
		}
	})
	t.Run("confidence ordering", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(4, 4))
		d := mlDetector(t)
		feed(d, bytesOut(rng, 0, 2*day, 1)...)
		// Steps of growing size, each followed by a return to normal.
		var ms []*schema.DeviceMetric
		at := 2 * day
		for _, f := range []float64{1.5, 2, 2.5, 3, 4, 5, 6, 8} {
			ms = append(ms, bytesOut(rng, at, 1, f)...)
			ms = append(ms, bytesOut(rng, at+1, 3, 1)...)
			at += 4
		}
		n := byRule(feed(d, ms...))
		if !(n["P/low"] > n["P/medium"] && n["P/medium"] > n["P/high"] && n["P/high"] > 0) {
			t.Errorf("reports per rule %v, want low > medium > high > 0", n)
		}
	})
	t.Run("a lasting change is learnt", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 5))
		d := mlDetector(t)
		feed(d, bytesOut(rng, 0, 2*day, 1)...)
		feed(d, bytesOut(rng, 2*day, 3*day, 4)...)
		if rs := feed(d, bytesOut(rng, 5*day, day, 4)...); len(rs) != 0 {
			t.Errorf("still %d reports a day into the new level: %v", len(rs), byRule(rs))
		}
	})
}
