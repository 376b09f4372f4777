package dpi

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// TestDNP3CRC checks the CRC against frames sent by public DNP3 probes:
// nmap's dnp3-info "request link status" to address 0, and a warm restart
// request from master 2 to outstation 1 (user data de ce 0e).
func TestDNP3CRC(t *testing.T) {
	for _, frame := range []string{"056405c900000000364c", "056405c901000000de8e", "056408c401000200390ddece0e6cd1"} {
		b := otHex(t, frame)
		if got := DNP3CRC(b[:8]); got != binary.LittleEndian.Uint16(b[8:10]) {
			t.Errorf("%s: header CRC %04x", frame, got)
		}
		if len(b) > 10 {
			if got := DNP3CRC(b[10 : len(b)-2]); got != binary.LittleEndian.Uint16(b[len(b)-2:]) {
				t.Errorf("%s: block CRC %04x", frame, got)
			}
		}
	}
}

// dnp3Build lays out a link frame (IEEE 1815 §9.2): start bytes, LEN,
// control, destination and source (little-endian), header CRC, then the
// user data in blocks of 16 bytes, each with its CRC.
func dnp3Build(ctrl byte, dst, src uint16, user string) string {
	u, err := hex.DecodeString(strings.ReplaceAll(user, " ", ""))
	if err != nil {
		panic(err)
	}
	b := []byte{0x05, 0x64, byte(5 + len(u)), ctrl, byte(dst), byte(dst >> 8), byte(src), byte(src >> 8)}
	b = binary.LittleEndian.AppendUint16(b, DNP3CRC(b))
	for len(u) > 0 {
		n := min(16, len(u))
		b = append(b, u[:n]...)
		b = binary.LittleEndian.AppendUint16(b, DNP3CRC(u[:n]))
		u = u[n:]
	}
	return hex.EncodeToString(b)
}

// dnp3Cases: control 0xC4 is a master's unconfirmed user data, 0x44 an
// outstation's; user data is a transport byte (0xC0 FIN|FIR), an
// application control (0xC0–0xCF), the function and, in responses, IIN.
func dnp3Cases() []otCase {
	read := dnp3Build(0xc4, 10, 1, "c0 c1 01 3c0106")                                     // read class 0
	resp := dnp3Build(0x44, 1, 10, "c0 c1 81 0000 010200000101")                          // response, binary inputs
	refused := dnp3Build(0x44, 1, 10, "c1 c2 81 0001")                                    // IIN2.0 function not supported
	poll := dnp3Build(0xc4, 10, 1, "c2 c3 01 3c0206")                                     // read class 1
	operate := dnp3Build(0xc4, 10, 1, "c3 c4 05 0c0117 01 00 03 01 e8030000 00000000 00") // CROB
	write := dnp3Build(0xc4, 10, 1, "c4 c5 02 3201 07 01 0102030405060708090a0b0c0d")     // time, two blocks
	cold := dnp3Build(0xc4, 10, 1, "c5 c6 0d")
	badHeader := read[:16] + "0000" + read[20:]
	badBlock := read[:len(read)-4] + "0000"
	short := []byte{0x05, 0x64, 0x04, 0xc4, 0x0a, 0x00, 0x01, 0x00} // LEN 4, CRC right
	lenBelow5 := hex.EncodeToString(binary.LittleEndian.AppendUint16(short, DNP3CRC(short)))
	return []otCase{
		{
			name:  "request link status, answered (nmap dnp3-info probe)",
			orig:  "056405c901000000de8e",
			resp:  dnp3Build(0x0b, 0, 1, ""),
			match: 1,
			want:  &schema.Industrial{Protocol: "dnp3", Units: []uint32{1, 0}},
		},
		{
			name:  "warm restart (public probe bytes)",
			orig:  "056408c401000200390ddece0e6cd1",
			match: 0.9,
			want:  &schema.Industrial{Protocol: "dnp3", Functions: []string{"warm_restart"}, Units: []uint32{1, 2}},
		},
		{
			name: "class 0 read answered, then refused", orig: read, resp: resp + refused, match: 1,
			want: &schema.Industrial{Protocol: "dnp3", Functions: []string{"read", "response"}, Units: []uint32{10, 1}, Exceptions: 1},
		},
		{
			name: "UDP poll and operate", orig: poll + "," + operate, resp: resp, udp: true, match: 1,
			want: &schema.Industrial{Protocol: "dnp3", Functions: []string{"read", "direct_operate", "response"}, Units: []uint32{10, 1}},
		},
		{
			name: "frame over two blocks then cold restart", orig: write + cold, match: 1,
			want: &schema.Industrial{Protocol: "dnp3", Functions: []string{"write", "cold_restart"}, Units: []uint32{10, 1}},
		},
		{
			name: "block CRC wrong: addresses only", orig: badBlock, match: 0.9,
			want: &schema.Industrial{Protocol: "dnp3", Units: []uint32{10, 1}},
		},
		{
			name: "stream cut after the header", orig: read[:20], cut: true, match: 0.9,
			want: &schema.Industrial{Protocol: "dnp3", Units: []uint32{10, 1}},
		},
		{name: "header CRC wrong", orig: badHeader},
		{name: "LEN below 5", orig: lenBelow5},
		{name: "Modbus request", orig: "000100000006110300 6b0003"},
		{name: "random bytes", orig: "8f3a1c99e0447b21d5c3a8b7f0e1d2c3b4a59687"},
	}
}

func TestDNP3(t *testing.T) { otTable(t, dnp3Analyzer, dnp3Cases()) }

func dnp3Seeds(t testing.TB) []otSeed { return otCaseSeeds(t, dnp3Cases()) }

func TestDNP3CRCCheckValue(t *testing.T) {
	// CRC-16/DNP's check value (the CRC of "123456789").
	if got := DNP3CRC([]byte("123456789")); got != 0xea82 {
		t.Errorf("crc %#04x, want 0xea82", got)
	}
}
