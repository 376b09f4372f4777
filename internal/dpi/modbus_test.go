package dpi

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

type otCase struct {
	name       string
	orig, resp string // hex; for UDP, datagrams separated by ","
	udp        bool
	cut        bool // the client side was cut at the buffer limit
	match      float64
	want       *schema.Industrial
}

// modbusCases follow the Modbus Application Protocol V1.1b3 examples:
// §6.3 (read holding registers 108–110 and its answer), §6.5 (write coil
// 173 ON), §7 (exception 02) and §6.21 (Read Device Identification, basic
// and regular streams); each PDU behind the seven-byte MBAP header
// (transaction, protocol 0, length, unit).
var modbusCases = []otCase{
	{
		name:  "read holding registers, answered",
		orig:  "0001 0000 0006 11 | 03 006b 0003",
		resp:  "0001 0000 0009 11 | 03 06 022b 0000 0064",
		match: 0.85,
		want:  &schema.Industrial{Protocol: "modbus", Functions: []string{"read_holding_registers"}, Units: []uint32{17}},
	},
	{
		name:  "write single coil refused with an exception",
		orig:  "0002 0000 0006 01 | 05 00ac ff00",
		resp:  "0002 0000 0003 01 | 85 02",
		match: 0.85,
		want:  &schema.Industrial{Protocol: "modbus", Functions: []string{"write_single_coil"}, Units: []uint32{1}, Exceptions: 1},
	},
	{
		name: "read device identification, basic then regular",
		orig: "0003 0000 0005 01 | 2b 0e 01 00 | 0004 0000 0005 01 | 2b 0e 02 00",
		resp: "0003 0000 0030 01 | 2b 0e 01 01 00 00 03 | 00 12 5363686e656964657220456c656374726963 | 01 0c 424d58205033342032303230 | 02 04 76322e37 |" +
			"0004 0000 0030 01 | 2b 0e 02 02 00 00 03 | 03 0a 7777772e73652e636f6d | 04 0c 4d6f6469636f6e204d333430 | 05 0c 424d58205033342032303230",
		match: 1,
		want: &schema.Industrial{
			Protocol: "modbus", Functions: []string{"read_device_identification"}, Units: []uint32{1},
			Vendor: "Schneider Electric", Product: "BMX P34 2020", Version: "v2.7", Name: "Modicon M340",
		},
	},
	{
		name:  "pipelined requests, user-defined code, unit 255",
		orig:  "0010 0000 0006 ff | 04 0000 000a | 0011 0000 0006 ff | 41 0000 0001 | 0012 0000 0006 ff | 10 0001 0001",
		match: 0.85,
		want:  &schema.Industrial{Protocol: "modbus", Functions: []string{"read_input_registers", "unknown_65", "write_multiple_registers"}, Units: []uint32{255}},
	},
	{
		name:  "stream cut inside the second ADU",
		orig:  "0001 0000 0006 01 | 01 0000 0010 | 0002 0000 0006 01 | 01",
		cut:   true,
		match: 0.55,
		want:  &schema.Industrial{Protocol: "modbus", Functions: []string{"read_coils"}, Units: []uint32{1}},
	},
	{name: "protocol id not zero", orig: "0001 0001 0006 01 | 03 0000 0001"},
	{name: "length beyond an ADU", orig: "0001 0000 0106 01 | 03 0000 0001"},
	{name: "function code zero", orig: "0001 0000 0006 01 | 00 0000 0001"},
	{name: "exception with a body", resp: "0001 0000 0005 01 | 83 02 0000"},
	{name: "DNP3 link frame", orig: "056405c900000000364c"},
	{name: "HTTP request", orig: "474554202f20485454502f312e310d0a0d0a"},
	{name: "random bytes", orig: "8f3a1c99e0447b21d5c3a8b7f0e1d2c3b4a59687"},
}

func (c otCase) flow(t testing.TB) *Flow {
	var f *Flow
	if c.udp {
		f = otUDP(otDatagrams(t, c.orig), otDatagrams(t, c.resp))
	} else {
		f = otTCP(otHex(t, c.orig), otHex(t, c.resp))
	}
	f.Orig.Complete = !c.cut
	return f
}

func otDatagrams(t testing.TB, s string) [][]byte {
	var msgs [][]byte
	for _, m := range strings.Split(s, ",") {
		if b := otHex(t, m); len(b) > 0 {
			msgs = append(msgs, b)
		}
	}
	return msgs
}

// otTable runs cases against an analyzer.
func otTable(t *testing.T, a Analyzer, cases []otCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, l7 := otRun(t, a, c.flow(t))
			if m != c.match {
				t.Errorf("Match = %v, want %v", m, c.match)
			}
			if c.match == 0 {
				return
			}
			if diff := cmp.Diff(c.want, l7.Industrial); diff != "" {
				t.Errorf("Industrial (-want +got):\n%s", diff)
			}
		})
	}
}

func TestModbus(t *testing.T) {
	otTable(t, modbusAnalyzer, modbusCases)
}

// otCaseSeeds turns cases into fuzz seeds; a UDP case's datagrams are
// cut back apart at the size of its first one.
func otCaseSeeds(t testing.TB, cases []otCase) []otSeed {
	var seeds []otSeed
	for _, c := range cases {
		s := otSeed{name: c.name, orig: otHex(t, strings.ReplaceAll(c.orig, ",", "")), resp: otHex(t, strings.ReplaceAll(c.resp, ",", ""))}
		if c.udp {
			first := append(otDatagrams(t, c.orig), otDatagrams(t, c.resp)...)[0]
			s.chunk = uint16(len(first))
		}
		seeds = append(seeds, s)
	}
	return seeds
}

func modbusSeeds(t testing.TB) []otSeed { return otCaseSeeds(t, modbusCases) }
