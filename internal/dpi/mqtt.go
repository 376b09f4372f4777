package dpi

import (
	"encoding/binary"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// MQTT (OASIS MQTT 3.1.1 and 5.0; IBM MQIsdp 3.1): the client's CONNECT
// and the server's CONNACK.
//
// Hand-written rather than a library decoder: eclipse/paho.mqtt.golang's
// packets knows only 3.1/3.1.1 (an MQTT 5 CONNECT's properties would be
// read as the client id) and allocates the remaining length the header
// announces, up to 256 MiB, before reading; paho.golang and mochi-mqtt
// decode from a slice but only unapproved copies are served to us. A
// CONNECT is a dozen fields, read here in place.
var mqttAnalyzer = Analyzer{
	App:    "mqtt",
	Proto:  6,
	Ports:  []uint16{1883}, // 8883 is MQTT over TLS, the TLS analyzer's
	Match:  mqttMatch,
	Decode: mqttDecode,
}

// mqttConnect is what a CONNECT told; the password is skipped, never kept.
type mqttConnect struct {
	level              uint8
	clientID, username []byte
	hasUser            bool
	whole              bool // parsed to the end, not cut short
}

// mqttHeader reads a fixed header: packet type, flags and the remaining
// length (a varint of at most four bytes, MQTT 3.1.1 §2.2.3); n is the
// header's size. ok is false when b is too short or the varint too long.
func mqttHeader(b []byte) (typ, flags byte, rem, n int, ok bool) {
	if len(b) < 2 {
		return 0, 0, 0, 0, false
	}
	rem, m, ok := mqttVarint(b[1:])
	return b[0] >> 4, b[0] & 0x0f, rem, 1 + m, ok
}

func mqttVarint(b []byte) (v, n int, ok bool) {
	for i := 0; i < 4 && i < len(b); i++ {
		v |= int(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1, true
		}
	}
	return 0, 0, false
}

// mqttReader reads the fields of a packet body; after the body ran out
// every read fails, and ok stays false.
type mqttReader struct {
	b  []byte
	ok bool
}

func (r *mqttReader) byte() byte {
	if !r.ok || len(r.b) < 1 {
		r.ok = false
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *mqttReader) skip(n int) {
	if !r.ok || n < 0 || len(r.b) < n {
		r.ok = false
		return
	}
	r.b = r.b[n:]
}

// str reads a length-prefixed UTF-8 string or binary field (§1.5.3).
func (r *mqttReader) str() []byte {
	if !r.ok || len(r.b) < 2 {
		r.ok = false
		return nil
	}
	n := int(binary.BigEndian.Uint16(r.b))
	if len(r.b) < 2+n {
		r.ok = false
		return nil
	}
	v := r.b[2 : 2+n]
	r.b = r.b[2+n:]
	return v
}

// props skips an MQTT 5 property list: a varint length, then that many bytes.
func (r *mqttReader) props() {
	if !r.ok {
		return
	}
	n, m, ok := mqttVarint(r.b)
	if !ok {
		r.ok = false
		return
	}
	r.b = r.b[m:]
	r.skip(n)
}

// mqttParseConnect reads a CONNECT at the start of b. ok says that its
// header, protocol name and level are right, whatever came after.
func mqttParseConnect(b []byte) (c mqttConnect, ok bool) {
	typ, flags, rem, n, ok := mqttHeader(b)
	// 10 bytes is the smallest variable header: "MQTT", level, flags, keep-alive.
	if !ok || typ != 1 || flags != 0 || rem < 10 {
		return c, false
	}
	body := b[n:]
	if len(body) > rem {
		body = body[:rem]
	}
	r := mqttReader{b: body, ok: true}
	name := string(r.str())
	// Mosquitto bridges set bit 7 of the level ("try_private"); it is not
	// part of the version.
	c.level = r.byte() & 0x7f
	cflags := r.byte()
	switch {
	case !r.ok:
		return c, false
	case name == "MQTT" && (c.level == 4 || c.level == 5):
	case name == "MQIsdp" && c.level == 3:
	default:
		return c, false
	}
	// Bit 0 is reserved and a will QoS of 3 does not exist (§3.1.2.3, .6).
	if cflags&0x01 != 0 || cflags&0x18 == 0x18 {
		return c, false
	}
	r.skip(2) // keep-alive
	if c.level == 5 {
		r.props()
	}
	c.clientID = r.str()
	if cflags&0x04 != 0 { // will flag
		if c.level == 5 {
			r.props()
		}
		r.str() // will topic
		r.str() // will payload
	}
	if cflags&0x80 != 0 {
		c.username = r.str()
		c.hasUser = r.ok
	}
	if cflags&0x40 != 0 {
		r.str() // the password: skipped, never kept
	}
	c.whole = r.ok
	return c, true
}

// mqttConnAck returns the return code (3.1.1) or reason code (5.0) of a
// CONNACK at the start of b.
func mqttConnAck(b []byte) (code uint8, ok bool) {
	typ, flags, rem, n, ok := mqttHeader(b)
	if !ok || typ != 2 || flags != 0 || rem < 2 || len(b) < n+2 {
		return 0, false
	}
	if b[n]&0xfe != 0 { // only "session present" may be set in the ack flags
		return 0, false
	}
	return b[n+1], true
}

// mqttChain counts the well-formed control packets b starts with, for a
// session whose CONNECT was not captured (the sensor started later). It
// returns 0 at the first malformed one.
func mqttChain(b []byte) int {
	count := 0
	for len(b) > 0 && count < 16 {
		typ, flags, rem, n, ok := mqttHeader(b)
		if !ok || typ == 0 {
			return 0
		}
		switch typ {
		case 3: // PUBLISH: any flags but QoS 3
			ok = flags&0x06 != 0x06
		case 6, 8, 10: // PUBREL, SUBSCRIBE, UNSUBSCRIBE
			ok = flags == 0x02
		case 12, 13: // PINGREQ, PINGRESP carry nothing
			ok = flags == 0 && rem == 0
		default:
			ok = flags == 0
		}
		if !ok {
			return 0
		}
		if len(b) < n+rem {
			break // cut at the buffer's end
		}
		b = b[n+rem:]
		count++
	}
	return count
}

func mqttMatch(f *Flow) float64 {
	if c, ok := mqttParseConnect(f.Orig.Data); ok {
		if c.whole {
			return 1
		}
		return 0.9
	}
	if len(f.Orig.Data) > 0 {
		if mqttChain(f.Orig.Data) >= 3 {
			return 0.3
		}
		return 0
	}
	if _, ok := mqttConnAck(f.Resp.Data); ok && mqttChain(f.Resp.Data) >= 2 {
		return 0.3
	}
	return 0
}

func mqttDecode(f *Flow, l7 *schema.L7) {
	var m schema.MQTT
	c, connect := mqttParseConnect(f.Orig.Data)
	if connect {
		m.ProtocolLevel = c.level
		m.ClientID = otText(c.clientID)
		if c.hasUser {
			m.Username = otText(c.username)
		}
	}
	code, ack := mqttConnAck(f.Resp.Data)
	if ack {
		m.ConnAck = &code
	}
	if connect || ack {
		l7.MQTT = &m
	}
}
