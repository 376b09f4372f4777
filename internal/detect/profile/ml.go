package profile

import (
	"math"
	"time"
)

// baseline is a device's learned behaviour for one metric, on log1p of
// the values: traffic and counts vary by orders of magnitude, and on a
// log scale a doubling is the same step for a quiet device as for a
// busy one. Training takes the exact mean and variance (Welford) of
// every datapoint for Config.MLTraining and at least MLMinDatapoints;
// afterwards the baseline follows the metric as exponentially weighted
// mean and variance, each datapoint clipped to three spreads first, so
// that an anomaly barely moves the baseline it is measured against
// while a lasting change is learnt within about 1/MLAlpha datapoints.
type baseline struct {
	first   time.Time
	n       int
	mean    float64
	m2      float64 // sum of squared deviations, while training
	vari    float64 // variance, once trained
	trained bool
}

// ready says whether the baseline has trained long enough at t.
func (b *baseline) ready(t time.Time, cfg *Config) bool {
	return b.trained || b.n >= cfg.MLMinDatapoints && t.Sub(b.first) >= cfg.MLTraining
}

// spread is the baseline's standard deviation, never under minSpread:
// a device whose metric never moved must not alarm at the first small
// change.
func (b *baseline) spread(minSpread float64) float64 {
	v := b.vari
	if !b.trained && b.n > 1 {
		v = b.m2 / float64(b.n-1)
	}
	return max(math.Sqrt(v), minSpread)
}

// z is how many spreads v lies from the baseline, signed.
func (b *baseline) z(v float64, minSpread float64) float64 {
	return (logValue(v) - b.mean) / b.spread(minSpread)
}

// update learns the datapoint v at t; ready is what ready said before.
func (b *baseline) update(t time.Time, v float64, ready bool, cfg *Config) {
	x := logValue(v)
	if !ready {
		if b.n == 0 {
			b.first = t
		}
		b.n++
		d := x - b.mean
		b.mean += d / float64(b.n)
		b.m2 += d * (x - b.mean)
		return
	}
	if !b.trained {
		b.vari, b.trained = b.m2/float64(max(b.n-1, 1)), true
	}
	s := b.spread(cfg.MLMinSpread)
	x = min(max(x, b.mean-3*s), b.mean+3*s)
	d := x - b.mean
	b.mean += cfg.MLAlpha * d
	b.vari = (1 - cfg.MLAlpha) * (b.vari + cfg.MLAlpha*d*d)
	b.n++
}

func logValue(v float64) float64 { return math.Log1p(max(v, 0)) }
