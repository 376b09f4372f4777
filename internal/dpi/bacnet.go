package dpi

import (
	"encoding/binary"
	"strconv"
	"unicode/utf16"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// BACnet/IP (ANSI/ASHRAE 135, Annex J and clauses 6, 20, 21): BVLC, NPDU
// and APDU headers, service names, I-Am, and the device's own answers to
// ReadProperty and ReadPropertyMultiple about its name, model, vendor,
// firmware and serial number. No maintained Go decoder works on captured
// bytes, so the few tags needed are read here.
var bacnetAnalyzer = Analyzer{
	App:    "bacnet",
	Proto:  17,
	Ports:  []uint16{47808},
	Match:  bacnetMatch,
	Decode: bacnetDecode,
	Enough: bacnetEnough,
}

// bacnetEnough waits for the answer to a confirmed request (a
// ReadProperty ACK names the device); unconfirmed services (Who-Is,
// I-Am) are broadcasts whose replies come on other flows.
func bacnetEnough(f *Flow) bool {
	if len(f.Resp.Data) > 0 {
		return true
	}
	confirmed := false
	f.Orig.Msgs(func(b []byte) bool {
		if m, ok := bacnetParse(b); ok && m.apdu != nil && m.apdu[0]>>4 == 0 {
			confirmed = true
		}
		return !confirmed
	})
	return !confirmed
}

// bacnetMsg is one BACnet/IP datagram split into its layers.
type bacnetMsg struct {
	bvlc   byte   // BVLC function
	result uint16 // BVLC-Result code
	netMsg int    // network layer message type, or -1
	apdu   []byte // nil when the datagram carries no APDU
}

// bacnetParse splits a datagram; ok is false when it is not BACnet/IP.
func bacnetParse(b []byte) (m bacnetMsg, ok bool) {
	m.netMsg = -1
	// Type 0x81 is BACnet/IP; the length covers the whole datagram.
	if len(b) < 4 || b[0] != 0x81 || b[1] > 0x0c || int(binary.BigEndian.Uint16(b[2:4])) != len(b) {
		return m, false
	}
	m.bvlc = b[1]
	var npdu []byte
	switch m.bvlc {
	case 0x00: // BVLC-Result
		if len(b) != 6 {
			return m, false
		}
		m.result = binary.BigEndian.Uint16(b[4:6])
		return m, true
	case 0x04: // Forwarded-NPDU: the original sender's address and port first
		if len(b) < 10 {
			return m, false
		}
		npdu = b[10:]
	case 0x09, 0x0a, 0x0b: // Distribute-Broadcast, Original-Unicast, Original-Broadcast
		npdu = b[4:]
	default: // broadcast distribution and foreign device table management
		return m, true
	}
	// NPDU (clause 6.2): version 1, control, optional destination and
	// source network addresses, hop count with a destination.
	if len(npdu) < 2 || npdu[0] != 0x01 || npdu[1]&0x50 != 0 {
		return m, false
	}
	ctrl, off := npdu[1], 2
	if ctrl&0x20 != 0 { // DNET, DLEN, DADR
		if len(npdu) < off+3 {
			return m, false
		}
		off += 3 + int(npdu[off+2])
	}
	if ctrl&0x08 != 0 { // SNET, SLEN, SADR; SLEN 0 is invalid
		if len(npdu) < off+3 || npdu[off+2] == 0 {
			return m, false
		}
		off += 3 + int(npdu[off+2])
	}
	if ctrl&0x20 != 0 {
		off++ // hop count
	}
	if off >= len(npdu) {
		return m, false
	}
	if ctrl&0x80 != 0 { // a network layer message, not an APDU
		m.netMsg = int(npdu[off])
		return m, true
	}
	m.apdu = npdu[off:]
	_, ok = bacnetParseAPDU(m.apdu)
	return m, ok
}

// bacnetAPDU is an APDU's header (clause 20.1).
type bacnetAPDU struct {
	typ     byte // 0 confirmed request … 7 abort
	service int  // service choice, or -1
	args    []byte
	later   bool // a second or later segment: args do not start a service
}

func bacnetParseAPDU(a []byte) (p bacnetAPDU, ok bool) {
	if len(a) < 2 {
		return p, false
	}
	p.typ, p.service = a[0]>>4, -1
	seg := a[0]&0x08 != 0
	var off int // offset of the service choice
	switch p.typ {
	case 0: // confirmed request: flags, max segments/APDU, invoke id, [sequence, window]
		off = 3
		if seg {
			off = 5
			p.later = len(a) > 3 && a[3] != 0
		}
	case 1: // unconfirmed request
		off = 1
	case 2, 5: // simple ACK, error: invoke id, service
		off = 2
	case 3: // complex ACK: flags, invoke id, [sequence, window]
		off = 2
		if seg {
			off = 4
			p.later = len(a) > 2 && a[2] != 0
		}
	case 4, 6, 7: // segment ACK, reject, abort
		return p, len(a) >= 3
	default:
		return p, false
	}
	if len(a) <= off {
		return p, false
	}
	p.service, p.args = int(a[off]), a[off+1:]
	return p, true
}

func bacnetMatch(f *Flow) float64 {
	n := 0
	for _, s := range []*Side{&f.Orig, &f.Resp} {
		bad, first := false, true
		otMsgs(s, func(b []byte) bool {
			if _, ok := bacnetParse(b); !ok {
				bad = first
				return false
			}
			first = false
			n++
			return n < 4
		})
		if bad {
			return 0
		}
	}
	switch n {
	case 0:
		return 0
	case 1: // type, function, exact length and NPDU version already agree
		return 0.9
	}
	return 1
}

// bacnetIdent gathers what a device said about itself; a vendor name
// read from the device beats the registry's name for its vendor id.
type bacnetIdent struct {
	vendorID, vendorName, name, model, firmware, appVersion, serial string
}

func bacnetDecode(f *Flow, l7 *schema.L7) {
	in := otIndustrial(l7, "bacnet")
	var id bacnetIdent
	for _, s := range []*Side{&f.Orig, &f.Resp} {
		otMsgs(s, func(b []byte) bool {
			if m, ok := bacnetParse(b); ok {
				bacnetMessage(in, &id, m)
			}
			return true
		})
	}
	otSet(&in.Vendor, id.vendorName)
	otSet(&in.Vendor, id.vendorID)
	otSet(&in.Product, id.model)
	otSet(&in.Version, id.firmware)
	otSet(&in.Version, id.appVersion)
	otSet(&in.Name, id.name)
	otSet(&in.Serial, id.serial)
}

func bacnetMessage(in *schema.Industrial, id *bacnetIdent, m bacnetMsg) {
	switch {
	case m.netMsg >= 0:
		otAddFunction(in, bacnetNetworkName(m.netMsg))
		return
	case m.apdu == nil:
		otAddFunction(in, bacnetBVLCNames[m.bvlc])
		if m.bvlc == 0x00 && m.result != 0 {
			in.Exceptions++ // a NAK from a BBMD
		}
		return
	}
	p, _ := bacnetParseAPDU(m.apdu)
	if p.typ >= 5 { // error, reject, abort
		in.Exceptions++
	}
	if p.service < 0 {
		return
	}
	if p.typ == 1 {
		otAddFunction(in, bacnetName(bacnetUnconfirmed, p.service))
		if p.service == 0 {
			bacnetIAm(in, id, p.args)
		}
		return
	}
	otAddFunction(in, bacnetName(bacnetConfirmed, p.service))
	if p.typ == 3 && !p.later {
		switch p.service {
		case 12:
			bacnetReadPropertyAck(in, id, p.args)
		case 14:
			bacnetReadPropertyMultipleAck(in, id, p.args)
		}
	}
}

// bacnetIAm reads I-Am (clause 16.1): the device's object identifier,
// max APDU length, segmentation support and vendor id, all application
// tagged. Only the instance and the vendor fit schema.Industrial; the
// other two are checked for shape.
func bacnetIAm(in *schema.Industrial, id *bacnetIdent, b []byte) {
	want := [4]byte{12, 2, 9, 2} // object id, unsigned, enumerated, unsigned
	var vals [4][]byte
	for i, w := range want {
		t, n, ok := bacnetTag(b)
		if !ok || t.context || t.num != w || t.open || t.close {
			return
		}
		vals[i], b = t.data, b[n:]
	}
	typ, inst, ok := bacnetObject(vals[0])
	vendor, vok := bacnetUint(vals[3])
	if !ok || !vok || typ != bacnetDevice {
		return
	}
	otAddUnit(in, inst)
	otSet(&id.vendorID, bacnetVendor(vendor))
}

// bacnetDevice is the object type of the Device object.
const bacnetDevice = 8

// bacnetReadPropertyAck reads a ReadProperty-ACK (clause 15.5): object
// identifier [0], property identifier [1], optional array index [2], and
// the value between opening and closing tags [3].
func bacnetReadPropertyAck(in *schema.Industrial, id *bacnetIdent, b []byte) {
	t, n, ok := bacnetTag(b)
	if !ok || !t.context || t.num != 0 {
		return
	}
	typ, inst, ok := bacnetObject(t.data)
	if !ok || typ != bacnetDevice {
		return
	}
	otAddUnit(in, inst)
	b = b[n:]
	if t, n, ok = bacnetTag(b); !ok || !t.context || t.num != 1 {
		return
	}
	prop, ok := bacnetUint(t.data)
	if !ok {
		return
	}
	b = b[n:]
	if t, n, ok = bacnetTag(b); ok && t.context && t.num == 2 && !t.open {
		b = b[n:] // array index
		t, n, ok = bacnetTag(b)
	}
	if !ok || !t.open || t.num != 3 {
		return
	}
	bacnetProperty(id, prop, b[n:])
}

// bacnetReadPropertyMultipleAck reads a ReadPropertyMultiple-ACK (clause
// 15.7): per object, its identifier [0] and a list [1] of property [2],
// optional index [3], and a value [4] or an error [5].
func bacnetReadPropertyMultipleAck(in *schema.Industrial, id *bacnetIdent, b []byte) {
	for ok := true; ok && len(b) > 0; {
		b, ok = bacnetRPMObject(in, id, b)
	}
}

// bacnetRPMObject reads one object's results and returns what follows.
func bacnetRPMObject(in *schema.Industrial, id *bacnetIdent, b []byte) ([]byte, bool) {
	t, n, ok := bacnetTag(b)
	if !ok || !t.context || t.num != 0 {
		return nil, false
	}
	typ, inst, ok := bacnetObject(t.data)
	if !ok {
		return nil, false
	}
	if typ == bacnetDevice {
		otAddUnit(in, inst)
	}
	b = b[n:]
	if t, n, ok = bacnetTag(b); !ok || !t.open || t.num != 1 {
		return nil, false
	}
	b = b[n:]
	var prop uint32
	for {
		if t, n, ok = bacnetTag(b); !ok {
			return nil, false
		}
		b = b[n:]
		primitive := t.context && !t.open && !t.close
		switch {
		case t.close && t.num == 1:
			return b, true
		case primitive && t.num == 2:
			prop, _ = bacnetUint(t.data)
		case primitive && t.num == 3: // array index
		case t.open && (t.num == 4 || t.num == 5): // value or error
			if t.num == 4 && typ == bacnetDevice {
				bacnetProperty(id, prop, b)
			}
			if b, ok = bacnetSkip(b, t.num); !ok {
				return nil, false
			}
		default:
			return nil, false
		}
	}
}

// bacnetProperty keeps the value starting b when prop is one of the
// Device object's identification properties.
func bacnetProperty(id *bacnetIdent, prop uint32, b []byte) {
	t, _, ok := bacnetTag(b)
	if !ok || t.context || t.open || t.close {
		return
	}
	if prop == 120 { // vendor-identifier
		if v, ok := bacnetUint(t.data); ok && t.num == 2 {
			otSet(&id.vendorID, bacnetVendor(v))
		}
		return
	}
	if t.num != 7 { // character string
		return
	}
	s := bacnetString(t.data)
	switch prop {
	case 77: // object-name
		otSet(&id.name, s)
	case 70: // model-name
		otSet(&id.model, s)
	case 121: // vendor-name
		otSet(&id.vendorName, s)
	case 44: // firmware-revision
		otSet(&id.firmware, s)
	case 12: // application-software-version
		otSet(&id.appVersion, s)
	case 372: // serial-number (Addendum 135-2010ak)
		otSet(&id.serial, s)
	}
}

// bacnetTagged is one tag (clause 20.2.1): its number, class, and value
// bytes; open and close mark the constructed-data delimiters of context
// tags.
type bacnetTagged struct {
	num                  uint8
	context, open, close bool
	data                 []byte
}

func bacnetTag(b []byte) (t bacnetTagged, n int, ok bool) {
	if len(b) < 1 {
		return t, 0, false
	}
	t.num, t.context = b[0]>>4, b[0]&0x08 != 0
	lvt, off := int(b[0]&0x07), 1
	if t.num == 15 { // extended tag number
		if len(b) < 2 {
			return t, 0, false
		}
		t.num, off = b[1], 2
	}
	switch {
	case t.context && lvt == 6:
		t.open = true
		return t, off, true
	case t.context && lvt == 7:
		t.close = true
		return t, off, true
	case !t.context && t.num == 1: // application boolean: the value is in lvt
		return t, off, true
	case lvt == 5: // extended length: one byte, or 254 + two, or 255 + four
		if len(b) < off+1 {
			return t, 0, false
		}
		lvt, off = int(b[off]), off+1
		switch lvt {
		case 254:
			if len(b) < off+2 {
				return t, 0, false
			}
			lvt, off = int(binary.BigEndian.Uint16(b[off:])), off+2
		case 255:
			if len(b) < off+4 {
				return t, 0, false
			}
			l := binary.BigEndian.Uint32(b[off:])
			if uint64(l) > uint64(len(b)) {
				return t, 0, false
			}
			lvt, off = int(l), off+4
		}
	}
	if len(b)-off < lvt {
		return t, 0, false
	}
	t.data = b[off : off+lvt]
	return t, off + lvt, true
}

// bacnetSkip returns what follows the closing tag num that ends the
// constructed value starting b, skipping nested ones.
func bacnetSkip(b []byte, num uint8) ([]byte, bool) {
	depth := 0
	for len(b) > 0 {
		t, n, ok := bacnetTag(b)
		if !ok {
			return nil, false
		}
		b = b[n:]
		switch {
		case t.open:
			depth++
		case t.close && depth == 0:
			return b, t.num == num
		case t.close:
			depth--
		}
	}
	return nil, false
}

// bacnetObject splits an object identifier: 10 bits of type, 22 of instance.
func bacnetObject(b []byte) (typ uint16, inst uint32, ok bool) {
	if len(b) != 4 {
		return 0, 0, false
	}
	v := binary.BigEndian.Uint32(b)
	return uint16(v >> 22), v & 0x3fffff, true
}

func bacnetUint(b []byte) (uint32, bool) {
	if len(b) < 1 || len(b) > 4 {
		return 0, false
	}
	var v uint32
	for _, x := range b {
		v = v<<8 | uint32(x)
	}
	return v, true
}

// bacnetString decodes a CharacterString: a character set byte, then
// the text in UTF-8 (0), UCS-2 (4) or ISO 8859-1 (5); others are dropped.
func bacnetString(b []byte) string {
	if len(b) < 1 {
		return ""
	}
	switch b[0] {
	case 0:
		return otText(b[1:])
	case 4:
		u := make([]uint16, 0, len(b)/2)
		for i := 1; i+1 < len(b); i += 2 {
			u = append(u, binary.BigEndian.Uint16(b[i:]))
		}
		return otText([]byte(string(utf16.Decode(u))))
	case 5:
		r := make([]rune, len(b)-1)
		for i, x := range b[1:] {
			r[i] = rune(x)
		}
		return otText([]byte(string(r)))
	}
	return ""
}

func bacnetName(names []string, service int) string {
	if service < len(names) {
		return names[service]
	}
	return "unknown-" + strconv.Itoa(service)
}

// bacnetConfirmed names BACnetConfirmedServiceChoice (clause 21).
var bacnetConfirmed = []string{
	"acknowledge-alarm", "confirmed-cov-notification", "confirmed-event-notification",
	"get-alarm-summary", "get-enrollment-summary", "subscribe-cov", "atomic-read-file",
	"atomic-write-file", "add-list-element", "remove-list-element", "create-object",
	"delete-object", "read-property", "read-property-conditional", "read-property-multiple",
	"write-property", "write-property-multiple", "device-communication-control",
	"confirmed-private-transfer", "confirmed-text-message", "reinitialize-device",
	"vt-open", "vt-close", "vt-data", "authenticate", "request-key", "read-range",
	"life-safety-operation", "subscribe-cov-property", "get-event-information",
	"subscribe-cov-property-multiple", "confirmed-cov-notification-multiple",
	"confirmed-audit-notification", "audit-log-query",
}

// bacnetUnconfirmed names BACnetUnconfirmedServiceChoice.
var bacnetUnconfirmed = []string{
	"i-am", "i-have", "unconfirmed-cov-notification", "unconfirmed-event-notification",
	"unconfirmed-private-transfer", "unconfirmed-text-message", "time-synchronization",
	"who-has", "who-is", "utc-time-synchronization", "write-group",
	"unconfirmed-cov-notification-multiple", "unconfirmed-audit-notification",
	"who-am-i", "you-are",
}

// bacnetBVLCNames names the BVLC functions that carry no NPDU (Annex J.2).
var bacnetBVLCNames = map[byte]string{
	0x00: "bvlc-result", 0x01: "write-bdt", 0x02: "read-bdt", 0x03: "read-bdt-ack",
	0x05: "register-foreign-device", 0x06: "read-fdt", 0x07: "read-fdt-ack",
	0x08: "delete-fdt-entry", 0x0c: "secure-bvll",
}

// bacnetNetworkName names network layer messages (clause 6.2.4).
func bacnetNetworkName(t int) string {
	names := []string{
		"who-is-router-to-network", "i-am-router-to-network", "i-could-be-router-to-network",
		"reject-message-to-network", "router-busy-to-network", "router-available-to-network",
		"initialize-routing-table", "initialize-routing-table-ack",
		"establish-connection-to-network", "disconnect-connection-to-network",
	}
	switch {
	case t < len(names):
		return names[t]
	case t == 0x12:
		return "what-is-network-number"
	case t == 0x13:
		return "network-number-is"
	}
	return "network-message-" + strconv.Itoa(t)
}

// bacnetVendor names a vendor id. The ASHRAE registry has well over a
// thousand entries; these are the building automation vendors met most
// often, and any other id reads "vendor-N", which the registry resolves.
func bacnetVendor(id uint32) string {
	if name, ok := bacnetVendors[id]; ok {
		return name
	}
	return "vendor-" + strconv.FormatUint(uint64(id), 10)
}

var bacnetVendors = map[uint32]string{
	0: "ASHRAE", 2: "Trane", 3: "McQuay International", 5: "Johnson Controls",
	6: "American Auto-Matrix", 7: "Siemens", 8: "Delta Controls", 9: "Siemens",
	10: "Tour Andover Controls", 11: "TAC", 14: "Cimetrics", 16: "Carrier",
	17: "Honeywell", 18: "Alerton", 24: "Automated Logic", 28: "KMC Controls",
	35: "Reliable Controls", 36: "Tridium", 53: "Daikin", 74: "KNX Association",
	77: "Carel", 80: "Sauter", 91: "Trend Control Systems", 105: "Priva",
	127: "ABB", 160: "Rockwell Automation", 178: "LOYTEC", 187: "Softing",
	190: "Danfoss", 191: "Eaton", 222: "WAGO", 226: "Phoenix Contact",
	227: "Grundfos", 245: "Contemporary Controls", 246: "Intesis",
	260: "BACnet Stack at SourceForge", 264: "Regin", 313: "Siemens",
	335: "Schneider Electric", 364: "Distech Controls", 415: "Beckhoff",
	423: "Belimo", 432: "LG Electronics",
}
