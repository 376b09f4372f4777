package profile

import "time"

// seriesLen bounds the datapoints a device keeps per metric for
// durationSeconds sums: an hour (AWS's longest duration) of 5-minute
// reports is 12. Shorter reporting periods sum the last 16 only.
const seriesLen = 16

// series is a device's recent datapoints of one metric, and its learnt
// baseline when an ML behaviour watches the metric.
type series struct {
	at   [seriesLen]int64 // Unix nanoseconds
	vals [seriesLen]float64
	head int // next slot to write
	n    int
	ml   baseline
}

func (s *series) add(t time.Time, v float64) {
	s.at[s.head], s.vals[s.head] = t.UnixNano(), v
	s.head = (s.head + 1) % seriesLen
	s.n = min(s.n+1, seriesLen)
}

// sum accumulates the datapoints in (t-d, t], as AWS accumulates a
// metric over durationSeconds.
func (s *series) sum(t time.Time, d time.Duration) float64 {
	to := t.UnixNano()
	from := to - int64(d)
	total := 0.0
	for i := range s.n {
		j := (s.head - 1 - i + seriesLen) % seriesLen
		if at := s.at[j]; at > from && at <= to {
			total += s.vals[j]
		}
	}
	return total
}
