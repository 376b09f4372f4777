package sensor

import (
	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/dpi"
	"github.com/osprey-ndr/osprey/internal/meter"
)

// Stats sums what every stage counted.
type Stats struct {
	Frames, Bytes uint64
	Decode        []decode.Stats
	Meter         []meter.Stats
	DPI           []dpi.Stats
}

// Frames returns the frames and bytes received so far; safe at any time.
func (s *Sensor) Frames() (frames, bytes uint64) {
	for i := range s.frames {
		frames += s.frames[i].Load()
		bytes += s.bytes[i].Load()
	}
	return frames, bytes
}

// Stats returns every stage's counters. Call it after Run has returned:
// the decoders and tables are not safe to read while they run.
func (s *Sensor) Stats() Stats {
	st := Stats{}
	st.Frames, st.Bytes = s.Frames()
	for _, d := range s.decoders {
		st.Decode = append(st.Decode, d.Stats())
	}
	for _, sh := range s.shards {
		st.Meter = append(st.Meter, sh.table.Stats())
		st.DPI = append(st.DPI, sh.table.DPIStats())
	}
	return st
}
