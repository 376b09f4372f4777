package profile

import (
	"math/rand/v2"
	"slices"
	"time"
)

// statsBuckets splits the statistics window: old datapoints leave the
// population a bucket at a time.
const statsBuckets = 12

// population is the sample behind one statistical behaviour (per
// tenant): the datapoints of the devices the profile targets over the
// trailing window, kept as a reservoir sample per bucket so memory is
// bounded whatever the fleet's size. Each kept value stands for
// seen/len(vals) datapoints of its bucket when the percentile is taken.
type population struct {
	p          float64
	width      time.Duration
	perBucket  int
	minDevices int
	minPoints  int
	buckets    [statsBuckets]bucket
	rng        *rand.Rand // seeded: the same input gives the same sample
	threshold  float64
	ready      bool
	dirty      bool
	checked    time.Time // the bucket period of the last recompute
}

// due says whether the percentile may have changed since the last
// recompute: new datapoints, or a bucket aged out of the window.
func (s *population) due(now time.Time) bool {
	return s.dirty || !now.Truncate(s.width).Equal(s.checked)
}

type bucket struct {
	start   time.Time
	seen    int
	vals    []float64
	devices map[uint64]struct{} // at most minDevices: only whether there are enough matters
}

func newPopulation(p float64, cfg *Config) *population {
	return &population{p: p, width: cfg.StatsWindow / statsBuckets, perBucket: cfg.StatsSample / statsBuckets,
		minDevices: cfg.StatsMinDevices, minPoints: cfg.StatsMinDatapoints, rng: rand.New(rand.NewPCG(1, 2))}
}

// add puts one device's datapoint in the sample. Datapoints older than
// their bucket's current period are dropped.
func (s *population) add(t time.Time, v float64, device uint64) {
	start := t.Truncate(s.width)
	i := start.UnixNano() / int64(s.width) % statsBuckets
	b := &s.buckets[(i+statsBuckets)%statsBuckets] // times before 1970 give negative remainders
	switch {
	case start.Before(b.start):
		return
	case start.After(b.start):
		b.start, b.seen, b.vals = start, 0, b.vals[:0]
		clear(b.devices)
	}
	b.seen++
	if len(b.vals) < s.perBucket {
		b.vals = append(b.vals, v)
	} else if j := s.rng.IntN(b.seen); j < s.perBucket {
		b.vals[j] = v
	}
	if b.devices == nil {
		b.devices = make(map[uint64]struct{}, s.minDevices)
	}
	if len(b.devices) < s.minDevices {
		b.devices[device] = struct{}{}
	}
	s.dirty = true
}

// recompute takes the percentile over the buckets still in the window
// at now; it is not ready until enough devices and datapoints are in.
func (s *population) recompute(now time.Time) {
	type weighted struct{ v, w float64 }
	var all []weighted
	var total float64
	seen := 0
	devices := map[uint64]struct{}{}
	oldest := now.Add(-s.width * statsBuckets)
	for i := range s.buckets {
		b := &s.buckets[i]
		if b.seen == 0 || !b.start.Add(s.width).After(oldest) {
			continue
		}
		w := float64(b.seen) / float64(len(b.vals))
		for _, v := range b.vals {
			all = append(all, weighted{v, w})
		}
		total += float64(b.seen)
		seen += b.seen
		for d := range b.devices {
			if len(devices) < s.minDevices {
				devices[d] = struct{}{}
			}
		}
	}
	s.dirty, s.checked = false, now.Truncate(s.width)
	s.ready = seen >= s.minPoints && len(devices) >= s.minDevices
	if !s.ready {
		return
	}
	slices.SortFunc(all, func(a, b weighted) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	rank, acc := s.p*total, 0.0
	s.threshold = all[len(all)-1].v
	for _, x := range all {
		acc += x.w
		if acc >= rank {
			s.threshold = x.v
			return
		}
	}
}
