package dpi

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// S7comm, Siemens' protocol for S7-300/400 (and 1200/1500 in legacy
// mode), over ISO-on-TCP: TPKT (RFC 1006), COTP (ISO 8073) and the S7
// header. The PLC's module and component identification come from SZL
// reads (SZL ids 0x0011 and 0x001C). S7comm-plus, the 1200/1500 protocol
// with protocol id 0x72, is labelled apart. Neither has a public
// specification; the layouts follow Wireshark's dissectors' field names,
// and no Go library decodes them from captured bytes.
var s7commAnalyzer = Analyzer{
	App:    "s7comm",
	Proto:  6,
	Ports:  []uint16{102},
	Match:  s7Match,
	Decode: s7Decode,
	Enough: wholeBuffer,
}

var s7plusAnalyzer = Analyzer{
	App:    "s7comm-plus",
	Proto:  6,
	Ports:  []uint16{102},
	Match:  s7plusMatch,
	Decode: s7plusDecode,
	Enough: wholeBuffer,
}

// COTP TPDU types (ISO 8073 §13), high nibble of the type byte.
const (
	cotpCR = 0xe0 // connection request
	cotpCC = 0xd0 // connection confirm
	cotpDT = 0xf0 // data
)

// s7TPDU is one TPKT-framed COTP TPDU.
type s7TPDU struct {
	typ    byte
	params []byte // CR, CC: the variable part
	eot    bool   // DT: last unit of the S7 PDU
	data   []byte // DT: user data, cut when the stream is
}

// s7Next reads the TPKT and COTP headers at the start of b and returns
// the TPKT's size, with status otOK, otShort or otBad.
func s7Next(b []byte) (p s7TPDU, size int, status int) {
	if len(b) < 7 {
		if (len(b) >= 1 && b[0] != 3) || (len(b) >= 2 && b[1] != 0) {
			return p, 0, otBad
		}
		return p, 0, otShort
	}
	// TPKT: version 3, reserved, length of the whole packet.
	size = int(binary.BigEndian.Uint16(b[2:4]))
	li := int(b[4]) // COTP header length, not counting itself
	if b[0] != 3 || b[1] != 0 || size < 7 || li < 2 || 5+li > size {
		return p, 0, otBad
	}
	end := min(size, len(b))
	if 5+li > end {
		return p, size, otShort
	}
	p.typ = b[5] & 0xf0
	switch p.typ {
	case cotpDT:
		if li != 2 {
			return p, 0, otBad
		}
		p.eot, p.data = b[6]&0x80 != 0, b[7:end]
	case cotpCR, cotpCC:
		if li < 6 {
			return p, 0, otBad
		}
		p.params = b[11 : 5+li]
	case 0x80, 0xc0, 0x10, 0x20, 0x50, 0x60, 0x70: // DR, DC, ED, EA, RJ, AK, ER
	default:
		return p, 0, otBad
	}
	if len(b) < size {
		return p, size, otShort
	}
	return p, size, otOK
}

// s7Walk calls fn with each TPDU of a side and whether it starts an S7
// PDU (a DT after one that ended a PDU); it returns true when the side's
// first TPDU is malformed.
func s7Walk(s *Side, fn func(p s7TPDU, start bool)) (bad bool) {
	b, start := s.Data, true
	for first := true; len(b) > 0; first = false {
		p, size, status := s7Next(b)
		if status == otBad {
			return first
		}
		if size == 0 {
			return false
		}
		fn(p, start && p.typ == cotpDT)
		if p.typ == cotpDT {
			start = p.eot
		}
		if status == otShort {
			return false
		}
		b = b[size:]
	}
	return false
}

// s7PDU is an S7 header (protocol id 0x32) with its parameter and data parts.
type s7PDU struct {
	rosctr      byte // 1 job, 2 ack, 3 ack_data, 7 userdata
	err         uint16
	param, data []byte // cut when the stream is
	whole       bool   // the lengths add up to what was captured
}

func s7Parse(b []byte) (p s7PDU, ok bool) {
	if len(b) < 10 || b[0] != 0x32 || b[2] != 0 || b[3] != 0 {
		return p, false
	}
	p.rosctr = b[1]
	hdr := 10
	switch p.rosctr {
	case 1, 7:
	case 2, 3: // acks carry an error class and code
		hdr = 12
		if len(b) < hdr {
			return p, false
		}
		p.err = binary.BigEndian.Uint16(b[10:12])
	default:
		return p, false
	}
	plen, dlen := int(binary.BigEndian.Uint16(b[6:8])), int(binary.BigEndian.Uint16(b[8:10]))
	total := hdr + plen + dlen
	p.whole = total == len(b)
	if total < len(b) {
		return p, false
	}
	b = b[hdr:]
	p.param = b[:min(plen, len(b))]
	p.data = b[len(p.param):min(plen+dlen, len(b))]
	return p, true
}

// s7TSAPs returns the source and destination TSAPs of a CR or CC.
func s7TSAPs(params []byte) (src, dst []byte) {
	for len(params) >= 2 && len(params) >= 2+int(params[1]) {
		v := params[2 : 2+params[1]]
		switch params[0] {
		case 0xc1:
			src = v
		case 0xc2:
			dst = v
		}
		params = params[2+len(v):]
	}
	return src, dst
}

// s7Evidence sums up what a flow shows of S7comm and S7comm-plus.
type s7Evidence struct {
	bad             bool // a side starts with something else
	classicCR, cc   bool // COTP connect with S7-style two-byte TSAPs; its confirm
	plusCR          bool // … with the "SIMATIC-ROOT-…" TSAPs of S7comm-plus
	s7, s7Whole     int  // S7 PDUs, and those whose lengths agree with the COTP framing
	plus, plusWhole int  // S7comm-plus PDUs, and those with a known opcode
}

func s7Inspect(f *Flow) (e s7Evidence) {
	look := func(p s7TPDU, start bool) {
		switch {
		case p.typ == cotpCR:
			_, dst := s7TSAPs(p.params)
			// The first byte of an S7 TSAP is the connection type: PG, OP
			// or S7 basic.
			e.classicCR = e.classicCR || len(dst) == 2 && dst[0] >= 1 && dst[0] <= 3
			e.plusCR = e.plusCR || bytes.HasPrefix(dst, []byte("SIMATIC-ROOT"))
		case p.typ == cotpCC:
			e.cc = true
		case start:
			if s, ok := s7Parse(p.data); ok {
				e.s7++
				if s.whole == p.eot {
					e.s7Whole++
				}
			} else if op, _, ok := s7plusParse(p.data); ok {
				e.plus++
				if op != 0 {
					e.plusWhole++
				}
			}
		}
	}
	e.bad = s7Walk(&f.Orig, look) || s7Walk(&f.Resp, look)
	return e
}

func s7Match(f *Flow) float64 {
	e := s7Inspect(f)
	switch {
	case e.bad || e.plus > e.s7:
		return 0
	case e.s7Whole > 0:
		return 1
	case e.s7 > 0:
		return 0.8
	case e.classicCR && e.cc:
		return 0.6
	case e.classicCR:
		return 0.5 // IEC 61850 MMS also opens with a COTP connect on 102
	}
	return 0
}

// s7Functions names job and ack_data function codes.
var s7Functions = map[byte]string{
	0x00: "cpu_services", 0x04: "read_var", 0x05: "write_var",
	0x1a: "request_download", 0x1b: "download_block", 0x1c: "download_ended",
	0x1d: "start_upload", 0x1e: "upload", 0x1f: "end_upload",
	0x28: "plc_control", 0x29: "plc_stop", 0xf0: "setup_communication",
}

// s7PIServices names the program invocation services of plc_control that
// matter most: starting the PLC and changing its blocks.
var s7PIServices = map[string]string{
	"P_PROGRAM": "plc_start", "_INSE": "insert_block", "_DELE": "delete_block",
	"_MODU": "copy_ram_to_rom", "_GARB": "compress_memory",
}

// s7Userdata names userdata functions by group (low nibble of the type
// byte) and subfunction.
var s7Userdata = map[[2]byte]string{
	{1, 1}: "programmer_command", {2, 1}: "cyclic_data",
	{3, 1}: "list_blocks", {3, 2}: "list_blocks_of_type", {3, 3}: "get_block_info",
	{4, 1}: "read_szl", {4, 2}: "message_service", {4, 3}: "diagnostic_message",
	{5, 1}: "plc_password", {5, 2}: "clear_password",
	{7, 1}: "read_clock", {7, 2}: "set_clock", {7, 3}: "read_clock", {7, 4}: "set_clock",
}

// s7Ident gathers the PLC's identification from SZL answers; an order
// code beats the module type name as the product.
type s7Ident struct {
	orderCode, moduleType, moduleName, firmware, plcName, serial, copyright string
}

func s7Decode(f *Flow, l7 *schema.L7) {
	in := otIndustrial(l7, "s7comm")
	var id s7Ident
	for _, side := range []*Side{&f.Orig, &f.Resp} {
		s7Walk(side, func(p s7TPDU, start bool) {
			if s, ok := s7Parse(p.data); start && ok {
				s7Message(in, &id, s)
			}
		})
	}
	otSet(&in.Product, id.orderCode)
	otSet(&in.Product, id.moduleType)
	otSet(&in.Version, id.firmware)
	otSet(&in.Name, id.plcName)
	otSet(&in.Name, id.moduleName)
	otSet(&in.Serial, id.serial)
	if strings.Contains(id.copyright, "Siemens") || strings.HasPrefix(id.orderCode, "6ES7") {
		otSet(&in.Vendor, "Siemens")
	}
}

func s7Message(in *schema.Industrial, id *s7Ident, s s7PDU) {
	if s.err != 0 {
		in.Exceptions++
	}
	switch s.rosctr {
	case 1, 3:
		if len(s.param) == 0 {
			return
		}
		fc := s.param[0]
		name, ok := s7Functions[fc]
		if !ok {
			name = "unknown_" + strconv.Itoa(int(fc))
		}
		if fc == 0x28 {
			// The job names its service; the ack does not repeat it, and
			// the job already listed it.
			if s.rosctr == 3 {
				return
			}
			if pi, ok := s7PIServices[s7PIService(s.param)]; ok {
				name = pi
			}
		}
		otAddFunction(in, name)
	case 7:
		s7UserdataMessage(in, id, s)
	}
}

// s7PIService returns the service name of a plc_control job: function,
// seven unknown bytes, a parameter block with its length, then the name
// with its length.
func s7PIService(param []byte) string {
	if len(param) < 10 {
		return ""
	}
	off := 10 + int(binary.BigEndian.Uint16(param[8:10]))
	if off >= len(param) {
		return ""
	}
	n := int(param[off])
	if off+1+n > len(param) {
		return ""
	}
	return string(param[off+1 : off+1+n])
}

// s7UserdataMessage reads a userdata PDU. Its parameter: head 00 01 12,
// length, method, type<<4|group, subfunction, sequence, and in responses
// (length 8) data unit reference, last data unit and an error code.
func s7UserdataMessage(in *schema.Industrial, id *s7Ident, s s7PDU) {
	p := s.param
	if len(p) < 8 || p[0] != 0x00 || p[1] != 0x01 || p[2] != 0x12 {
		return
	}
	group, sub := p[5]&0x0f, p[6]
	name, ok := s7Userdata[[2]byte{group, sub}]
	if !ok {
		name = "userdata_" + strconv.Itoa(int(group)) + "_" + strconv.Itoa(int(sub))
	}
	otAddFunction(in, name)
	if p[3] == 8 && len(p) >= 12 && binary.BigEndian.Uint16(p[10:12]) != 0 {
		in.Exceptions++
		return
	}
	// A read_szl response (type 8): data is return code (0xFF is
	// success), transport size, length, then the SZL.
	if group == 4 && sub == 1 && p[5]>>4 == 8 && len(s.data) >= 4 && s.data[0] == 0xff {
		s7SZL(id, s.data[4:])
	}
}

// s7SZL reads an SZL answer: id, index, element length, element count,
// then the elements. 0x0011 and 0x001C are module and component
// identification; the high byte selects a partial list of the same records.
func s7SZL(id *s7Ident, d []byte) {
	if len(d) < 8 {
		return
	}
	szl, size, count := binary.BigEndian.Uint16(d[0:2])&0xff, int(binary.BigEndian.Uint16(d[4:6])), int(binary.BigEndian.Uint16(d[6:8]))
	d = d[8:]
	for i := 0; i < count && size > 2 && len(d) >= size; i++ {
		e := d[:size]
		d = d[size:]
		index := binary.BigEndian.Uint16(e[0:2])
		switch {
		case szl == 0x11 && size == 28:
			// Index, 20 characters of order code, module type, then
			// hardware or firmware version: 'V', major, minor, patch.
			switch index {
			case 1:
				otSet(&id.orderCode, otText(e[2:22]))
			case 7:
				if e[24] == 'V' {
					otSet(&id.firmware, "V"+strconv.Itoa(int(e[25]))+"."+strconv.Itoa(int(e[26]))+"."+strconv.Itoa(int(e[27])))
				}
			}
		case szl == 0x1c && size == 34:
			text := otText(e[2:34])
			switch index {
			case 1:
				otSet(&id.plcName, text)
			case 2:
				otSet(&id.moduleName, text)
			case 4:
				otSet(&id.copyright, text)
			case 5:
				otSet(&id.serial, text)
			case 7:
				otSet(&id.moduleType, text)
			}
		}
	}
}

// s7plusParse reads an S7comm-plus header: protocol id 0x72, version,
// data length; version 3 puts a 32-byte integrity digest (with its length
// byte) first. The data starts with an opcode (0x31 request, 0x32
// response, 0x33 notification), two reserved bytes and the function. op
// is 0 when the PDU is a keep-alive or too short to tell.
func s7plusParse(b []byte) (op byte, fn uint16, ok bool) {
	if len(b) < 4 || b[0] != 0x72 {
		return 0, 0, false
	}
	ver, n := b[1], int(binary.BigEndian.Uint16(b[2:4]))
	if (ver < 1 || ver > 3) && ver != 0xfe && ver != 0xff {
		return 0, 0, false
	}
	d := b[4:]
	if n < len(d) {
		d = d[:n]
	}
	if ver == 3 && len(d) > 33 && d[0] == 0x20 {
		d = d[33:]
	}
	if len(d) >= 5 && d[0] >= 0x31 && d[0] <= 0x33 {
		return d[0], binary.BigEndian.Uint16(d[3:5]), true
	}
	return 0, 0, true
}

// s7plusFunctions names S7comm-plus function codes.
var s7plusFunctions = map[uint16]string{
	0x04b1: "error", 0x04bb: "explore", 0x04ca: "create_object", 0x04d4: "delete_object",
	0x04f2: "set_variable", 0x04fc: "get_variable", 0x0506: "add_link", 0x051a: "remove_link",
	0x0524: "get_link", 0x0542: "set_multi_variables", 0x054c: "get_multi_variables",
	0x0556: "begin_sequence", 0x0560: "end_sequence", 0x056b: "invoke",
	0x057c: "set_var_sub_streamed", 0x0586: "get_var_sub_streamed",
}

func s7plusMatch(f *Flow) float64 {
	e := s7Inspect(f)
	switch {
	case e.bad || e.s7 > e.plus:
		return 0
	case e.plusWhole > 0:
		return 1
	case e.plus > 0:
		return 0.8
	case e.plusCR:
		return 0.5
	}
	return 0
}

func s7plusDecode(f *Flow, l7 *schema.L7) {
	in := otIndustrial(l7, "s7comm-plus")
	for _, side := range []*Side{&f.Orig, &f.Resp} {
		s7Walk(side, func(p s7TPDU, start bool) {
			op, fn, ok := s7plusParse(p.data)
			if !start || !ok || op == 0 {
				return
			}
			name, known := s7plusFunctions[fn]
			if !known {
				name = "unknown_0x" + strconv.FormatUint(uint64(fn), 16)
			}
			otAddFunction(in, name)
			if fn == 0x04b1 {
				in.Exceptions++
			}
		})
	}
}
