// NTP (RFC 5905): the first byte and the stratum are all that is kept, so
// the header is read by hand.

package dpi

import (
	"bytes"

	"github.com/osprey-ndr/osprey/internal/schema"
)

var ntpAnalyzer = Analyzer{
	App: "ntp", Proto: 17, Ports: []uint16{123},
	Match: func(f *Flow) float64 {
		q, r := firstDatagram(&f.Orig), firstDatagram(&f.Resp)
		if !isNTP(q) && !(len(q) == 0 && isNTP(r)) {
			return 0
		}
		// A server answer echoes the client's transmit time as its origin time.
		if isNTP(q) && isNTP(r) && q[0]&7 == 3 && r[0]&7 == 4 && bytes.Equal(q[40:48], r[24:32]) {
			return 0.95
		}
		return 0.7
	},
	Decode: func(f *Flow, l7 *schema.L7) {
		m := firstDatagram(&f.Orig)
		if !isNTP(m) {
			m = firstDatagram(&f.Resp)
		}
		if isNTP(m) {
			l7.NTP = &schema.NTP{Version: m[0] >> 3 & 7, Mode: m[0] & 7, Stratum: m[1]}
		}
	},
}

// isNTP checks a 48-byte or longer header: version 1 to 4, mode 1 to 5
// (symmetric, client, server, broadcast), stratum at most 16, root delay
// and dispersion under 256 s and, from a client, a poll interval in the
// RFC's range.
func isNTP(b []byte) bool {
	if len(b) < 48 {
		return false
	}
	version, mode, stratum := b[0]>>3&7, b[0]&7, b[1]
	if version < 1 || version > 4 || mode < 1 || mode > 5 || stratum > 16 || b[4] != 0 || b[8] != 0 {
		return false
	}
	return mode != 3 || b[2] <= 17
}
