package dpi

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// otAnalyzers are the IoT and OT protocols (MQTT, Modbus/TCP, DNP3, …).
var otAnalyzers = []Analyzer{
	mqttAnalyzer,
	modbusAnalyzer,
	dnp3Analyzer,
	bacnetAnalyzer,
	s7commAnalyzer,
	s7plusAnalyzer,
}

// Bounds on what one session adds to schema.Industrial, so a chatty or
// hostile peer cannot grow a record without limit.
const (
	otMaxFunctions = 32
	otMaxUnits     = 64
	otMaxText      = 128 // bytes of a device-supplied string
)

// Outcomes of reading the next PDU off a stream.
const (
	otOK    = iota
	otShort // the data ends inside the PDU: no evidence either way
	otBad   // not this protocol's header
)

// otIndustrial returns l7.Industrial, creating it for protocol.
func otIndustrial(l7 *schema.L7, protocol string) *schema.Industrial {
	if l7.Industrial == nil {
		l7.Industrial = &schema.Industrial{Protocol: protocol}
	}
	return l7.Industrial
}

// otAddFunction appends name unless it is already listed, keeping the
// order of first use.
func otAddFunction(in *schema.Industrial, name string) {
	if name == "" || len(in.Functions) >= otMaxFunctions || slices.Contains(in.Functions, name) {
		return
	}
	in.Functions = append(in.Functions, name)
}

// otAddUnit appends a unit id or address unless it is already listed.
func otAddUnit(in *schema.Industrial, u uint32) {
	if len(in.Units) >= otMaxUnits || slices.Contains(in.Units, u) {
		return
	}
	in.Units = append(in.Units, u)
}

// otSet sets *dst to v when *dst is still empty: the first answer wins, so
// a later, partial one does not overwrite a complete one.
func otSet(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// otText turns a device-supplied string into something safe to store and
// show: cut at the first NUL (fixed-width fields are NUL padded), invalid
// UTF-8 and control characters dropped, spaces trimmed, length bounded.
func otText(b []byte) string {
	if i := slices.Index(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) > 4*otMaxText {
		b = b[:4*otMaxText]
	}
	s := strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(string(b), ""))
	s = strings.TrimSpace(s)
	for len(s) > otMaxText {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// otMsgs calls fn with each datagram of a UDP side, or once with the whole
// stream of a TCP side, until fn returns false. Unlike Side.Msgs it checks
// Ends, so a malformed Side cannot make a decoder panic.
func otMsgs(s *Side, fn func(msg []byte) bool) {
	if len(s.Ends) == 0 {
		if len(s.Data) > 0 {
			fn(s.Data)
		}
		return
	}
	start := 0
	for _, end := range s.Ends {
		if end < start || end > len(s.Data) {
			return
		}
		if !fn(s.Data[start:end]) {
			return
		}
		start = end
	}
}

// wholeBuffer is the Enough of the OT protocols: what identifies the
// device (an S7 SZL read, Modbus Read Device Identification) and the
// functions that matter (writes, stops) come after the first exchange, so
// these flows use their whole buffer rather than stop at a sure match.
func wholeBuffer(*Flow) bool { return false }
