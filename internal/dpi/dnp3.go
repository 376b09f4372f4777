package dpi

import (
	"encoding/binary"
	"strconv"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// DNP3 (IEEE 1815-2012) over TCP or UDP: link frames with verified CRCs,
// their addresses, and the application function of each first segment.
// No Go library decodes DNP3 from bytes; the link header is ten bytes.
var dnp3Analyzer = Analyzer{
	App:    "dnp3",
	Proto:  0,
	Ports:  []uint16{20000},
	Match:  dnp3Match,
	Decode: dnp3Decode,
	Enough: wholeBuffer,
}

// dnp3CRCTable is the table of DNP3's CRC-16: polynomial 0x3D65,
// reflected (0xA6BC), initial value 0, result complemented (§9.2.6.2).
var dnp3CRCTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0xa6bc
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// DNP3CRC is DNP3's CRC-16 (CRC-16/DNP) of b, as the link layer carries
// it after the header and each data block (synth writes frames with it).
func DNP3CRC(b []byte) uint16 {
	var c uint16
	for _, x := range b {
		c = c>>8 ^ dnp3CRCTable[byte(c)^x]
	}
	return ^c
}

// dnp3Frame is a link frame's header and the first block of its user
// data (transport and application headers fit in it).
type dnp3Frame struct {
	dst, src uint16
	block    []byte // nil when the frame has no user data or the block's CRC failed
}

// dnp3Next reads the frame at the start of b and returns its size on the
// wire (user data comes in blocks of 16 bytes, each followed by a CRC).
func dnp3Next(b []byte) (fr dnp3Frame, size int, status int) {
	if len(b) < 10 {
		if (len(b) >= 1 && b[0] != 0x05) || (len(b) >= 2 && b[1] != 0x64) {
			return fr, 0, otBad
		}
		return fr, 0, otShort
	}
	if b[0] != 0x05 || b[1] != 0x64 || b[2] < 5 || DNP3CRC(b[:8]) != binary.LittleEndian.Uint16(b[8:10]) {
		return fr, 0, otBad
	}
	fr = dnp3Frame{dst: binary.LittleEndian.Uint16(b[4:6]), src: binary.LittleEndian.Uint16(b[6:8])}
	user := int(b[2]) - 5 // LEN counts control, addresses and user data
	size = 10 + user + 2*((user+15)/16)
	if first := min(user, 16); first > 0 && len(b) >= 10+first+2 {
		if blk := b[10 : 10+first]; DNP3CRC(blk) == binary.LittleEndian.Uint16(b[10+first:]) {
			fr.block = blk
		}
	}
	if len(b) < size {
		return fr, size, otShort
	}
	return fr, size, otOK
}

// dnp3Frames calls fn for each frame of a side whose header is valid,
// datagram by datagram for UDP, until a malformed one.
func dnp3Frames(s *Side, fn func(fr dnp3Frame)) (bad bool) {
	otMsgs(s, func(b []byte) bool {
		for len(b) > 0 {
			fr, size, status := dnp3Next(b)
			if status == otBad {
				bad = true
				return false
			}
			if size > 0 {
				fn(fr)
			}
			if status == otShort {
				return true
			}
			b = b[size:]
		}
		return true
	})
	return bad
}

func dnp3Match(f *Flow) float64 {
	n := 0
	count := func(dnp3Frame) { n++ }
	// A side whose first frame is malformed is not DNP3; later garbage
	// only ends the count.
	if dnp3Frames(&f.Orig, count) && n == 0 {
		return 0
	}
	before := n
	if dnp3Frames(&f.Resp, count) && n == before {
		return 0
	}
	switch {
	case n == 0:
		return 0
	case n == 1: // start bytes and a 16-bit CRC over the header already
		return 0.9
	}
	return 1
}

// dnp3Functions names the application function codes (§4.2.2.5).
var dnp3Functions = map[uint8]string{
	0: "confirm", 1: "read", 2: "write", 3: "select", 4: "operate",
	5: "direct_operate", 6: "direct_operate_nr", 7: "immed_freeze",
	8: "immed_freeze_nr", 9: "freeze_clear", 10: "freeze_clear_nr",
	11: "freeze_at_time", 12: "freeze_at_time_nr", 13: "cold_restart",
	14: "warm_restart", 15: "initialize_data", 16: "initialize_application",
	17: "start_application", 18: "stop_application", 19: "save_configuration",
	20: "enable_unsolicited", 21: "disable_unsolicited", 22: "assign_class",
	23: "delay_measure", 24: "record_current_time", 25: "open_file",
	26: "close_file", 27: "delete_file", 28: "get_file_info",
	29: "authenticate_file", 30: "abort_file", 31: "activate_config",
	32: "authenticate_req", 33: "authenticate_err",
	129: "response", 130: "unsolicited_response", 131: "authenticate_resp",
}

func dnp3Decode(f *Flow, l7 *schema.L7) {
	in := otIndustrial(l7, "dnp3")
	add := func(fr dnp3Frame) {
		// 0xFFF0–0xFFFF are broadcast and reserved addresses, not stations.
		for _, a := range [2]uint16{fr.dst, fr.src} {
			if a < 0xfff0 {
				otAddUnit(in, uint32(a))
			}
		}
		// Transport header: FIN, FIR, sequence. Only a first segment
		// starts with the application header: control, function, and for
		// responses the internal indications.
		b := fr.block
		if len(b) < 3 || b[0]&0x40 == 0 {
			return
		}
		fc := b[2]
		name, ok := dnp3Functions[fc]
		if !ok {
			name = "unknown_" + strconv.Itoa(int(fc))
		}
		otAddFunction(in, name)
		// IIN2 bits 0–2: function not supported, object unknown,
		// parameter error — the outstation's way of refusing.
		if (fc == 129 || fc == 130) && len(b) >= 5 && b[4]&0x07 != 0 {
			in.Exceptions++
		}
	}
	dnp3Frames(&f.Orig, add)
	dnp3Frames(&f.Resp, add)
}
