package dpi

import (
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// ntpMsg is a 48-byte header: LI 0, version, mode, stratum, poll,
// precision, and a transmit or origin timestamp.
func ntpMsg(version, mode, stratum, poll uint8, origin, transmit uint64) []byte {
	b := make([]byte, 48)
	b[0], b[1], b[2], b[3] = version<<3|mode, stratum, poll, 0xe9
	binary.BigEndian.PutUint32(b[4:], 0x0000_0a3c) // root delay 0.04 s
	binary.BigEndian.PutUint32(b[8:], 0x0000_1b00) // root dispersion
	binary.BigEndian.PutUint64(b[24:], origin)
	binary.BigEndian.PutUint64(b[40:], transmit)
	return b
}

const ntpT1 = 0xeb1c_3a2b_1234_5678 // 2024, seconds since 1900 and fraction

func ntpFlows() map[string]*Flow {
	return map[string]*Flow{
		"client and server": udpFlow([][]byte{ntpMsg(4, 3, 0, 6, 0, ntpT1)}, [][]byte{ntpMsg(4, 4, 2, 6, ntpT1, ntpT1+1000)}),
		"sntp request":      udpFlow([][]byte{append([]byte{0x1b}, make([]byte, 47)...)}, nil),
	}
}

func TestNTP(t *testing.T) {
	flows := ntpFlows()
	withMAC := append(ntpMsg(3, 3, 0, 10, 0, ntpT1), make([]byte, 20)...)
	tests := []struct {
		name  string
		f     *Flow
		score float64
		want  *schema.NTP
	}{
		{"client and server", flows["client and server"], 0.95, &schema.NTP{Version: 4, Mode: 3, Stratum: 0}},
		{"answer to another request", udpFlow([][]byte{ntpMsg(4, 3, 0, 6, 0, ntpT1)}, [][]byte{ntpMsg(4, 4, 2, 6, 1, 2)}), 0.7, &schema.NTP{Version: 4, Mode: 3}},
		{"sntp request", flows["sntp request"], 0.7, &schema.NTP{Version: 3, Mode: 3}},
		{"with a MAC", udpFlow([][]byte{withMAC}, nil), 0.7, &schema.NTP{Version: 3, Mode: 3}},
		{"server broadcast", udpFlow([][]byte{ntpMsg(4, 5, 3, 6, 0, ntpT1)}, nil), 0.7, &schema.NTP{Version: 4, Mode: 5, Stratum: 3}},
		{"control mode 6", udpFlow([][]byte{ntpMsg(2, 6, 0, 0, 0, 0)}, nil), 0, nil},
		{"version 0", udpFlow([][]byte{ntpMsg(0, 3, 0, 6, 0, ntpT1)}, nil), 0, nil},
		{"stratum 200", udpFlow([][]byte{ntpMsg(4, 4, 200, 6, 0, ntpT1)}, nil), 0, nil},
		{"short", udpFlow([][]byte{ntpMsg(4, 3, 0, 6, 0, ntpT1)[:40]}, nil), 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			score, l7 := run(ntpAnalyzer, tc.f)
			if score != tc.score {
				t.Fatalf("Match %v, want %v", score, tc.score)
			}
			if l7 == nil {
				return
			}
			if diff := cmp.Diff(tc.want, l7.NTP); diff != "" {
				t.Errorf("NTP (-want +got):\n%s", diff)
			}
		})
	}
}
