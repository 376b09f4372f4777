package synth

import (
	"encoding/binary"

	"github.com/osprey-ndr/osprey/internal/dpi"
)

// Payloads of the IoT mix's OT protocols: Modbus/TCP, S7comm, DNP3 and
// BACnet/IP. A request and its response derive their parameters from
// mix(conversation id, round), so that they match without state.

// modbus writes poll round i/2: the HMI's request (i even) or the PLC's
// response, each in an MBAP header with the round's transaction id.
func (g *gen) modbus(b []byte, c *conv, i int) []byte {
	plc := &modbusPLCs[c.peer]
	j, req := i/2, i%2 == 0
	h := mix(uint32(c.id), uint32(j))
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, c.id+uint16(j))
	b = append(b, 0, 0, 0, 0, byte(plc.unit)) // protocol 0; length below
	addr, n := uint16(h>>8)%2000, int(h>>20)
	switch op := h % 32; {
	case j == 0 && c.variant == 0 || op == 31:
		// Read Device Identification (43/14), basic objects.
		b = append(b, 0x2b, 0x0e, 0x01, 0x00)
		if !req {
			b[len(b)-1] = 0x01           // conformity level: basic, stream access
			b = append(b, 0x00, 0x00, 3) // no more follows, next object 0, 3 objects
			b = modbusObject(b, 0, "Schneider Electric")
			b = modbusObject(b, 1, plc.model)
			b = modbusObject(b, 2, plc.rev)
		}
	case op < 22: // Read Holding Registers
		n = 1 + n%16
		b = append(b, 0x03)
		if req {
			b = binary.BigEndian.AppendUint16(b, addr)
			b = binary.BigEndian.AppendUint16(b, uint16(n))
		} else {
			b = g.filler(append(b, byte(2*n)), g.noise, 2*n)
		}
	case op < 26: // Read Coils; the last byte's unused bits are zero
		n = 1 + n%32
		b = append(b, 0x01)
		if req {
			b = binary.BigEndian.AppendUint16(b, addr)
			b = binary.BigEndian.AppendUint16(b, uint16(n))
		} else {
			b = g.filler(append(b, byte((n+7)/8)), g.noise, (n+7)/8)
			if r := n % 8; r != 0 {
				b[len(b)-1] &= 1<<r - 1
			}
		}
	case op < 29: // Write Single Register: the response echoes the request
		b = append(b, 0x06)
		b = binary.BigEndian.AppendUint16(b, addr)
		b = binary.BigEndian.AppendUint16(b, uint16(h>>4))
	default: // Read Holding Registers past the PLC's map: exception 2
		if req {
			b = append(b, 0x03, 0x9c, byte(0x40+op), 0, 8)
		} else {
			b = append(b, 0x83, 0x02) // illegal data address
		}
	}
	binary.BigEndian.PutUint16(b[start+4:], uint16(len(b)-start-6))
	return b
}

func modbusObject(b []byte, id byte, s string) []byte {
	return append(append(b, id, byte(len(s))), s...)
}

// s7 writes message i of an HMI's S7 session with a PLC on ISO-on-TCP
// (TPKT, COTP): the COTP connection, Setup Communication, then jobs and
// their acknowledgements: Read Var, or first a read of SZL 0x0011 (module
// identification).
func (g *gen) s7(b []byte, c *conv, i int) []byte {
	start := len(b)
	b = append(b, 3, 0, 0, 0) // TPKT; length below
	switch i {
	case 0: // COTP CR: calling TSAP 0x0100, called 0x0102 (rack 0, slot 2), TPDU size 1024
		b = append(b, 17, 0xe0, 0, 0, byte(c.id>>8), byte(c.id), 0)
		b = append(b, 0xc0, 1, 0x0a, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2)
	case 1: // COTP CC
		b = append(b, 17, 0xd0, byte(c.id>>8), byte(c.id), 0x44, 0x31, 0)
		b = append(b, 0xc0, 1, 0x0a, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2)
	default:
		b = append(b, 2, 0xf0, 0x80) // COTP DT, last data unit
		b = g.s7PDU(b, c, i)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b
}

// s7PDU writes the S7 PDU of message i ≥ 2.
func (g *gen) s7PDU(b []byte, c *conv, i int) []byte {
	plc := &s7PLCs[c.peer]
	req := i%2 == 0
	ref := c.id + uint16(i/2)
	rosctr := byte(1) // job
	if !req {
		rosctr = 3 // ack-data
	}
	szl := i >= 4 && i < 6 && c.variant == 0
	if szl {
		rosctr = 7 // userdata
	}
	h := len(b)
	b = append(b, 0x32, rosctr, 0, 0, byte(ref>>8), byte(ref), 0, 0, 0, 0)
	if rosctr == 3 {
		b = append(b, 0, 0) // no error
	}
	p := len(b)
	var d int
	switch {
	case i < 4: // Setup Communication: 1 AMQ each way; the PLC cuts the PDU to 240
		b = append(b, 0xf0, 0, 0, 1, 0, 1, 0x01, 0xe0)
		if !req {
			b[len(b)-2], b[len(b)-1] = 0, 0xf0
		}
		d = len(b)
	case szl && req: // Read SZL 0x0011, index 0
		b = append(b, 0, 1, 0x12, 4, 0x11, 0x44, 0x01, 0)
		d = len(b)
		b = append(b, 0xff, 0x09, 0, 4, 0, 0x11, 0, 0)
	case szl:
		b = append(b, 0, 1, 0x12, 8, 0x12, 0x84, 0x01, 0x01, 0, 0, 0, 0)
		d = len(b)
		b = append(b, 0xff, 0x09, 0, 8+3*28, 0, 0x11, 0, 0, 0, 28, 0, 3)
		b = szlRecord(b, 1, plc.model, 0x0004, 0x0001)
		b = szlRecord(b, 6, plc.model, 0x0004, 0x0001)
		b = szlRecord(b, 7, "", 0x5603, 0x0206) // firmware V3.2.6
	default:
		// Read Var of 1 to 3 items: DB bytes, as an HMI polls tags.
		hh := mix(uint32(c.id), uint32(i/2))
		items := 1 + int(hh%3)
		b = append(b, 0x04, byte(items))
		if req {
			for k := range items {
				db, off, n := s7Item(hh, k)
				b = append(b, 0x12, 0x0a, 0x10, 0x02, 0, byte(n), byte(db>>8), byte(db), 0x84)
				b = append(b, byte(off>>13), byte(off>>5), byte(off<<3))
			}
			d = len(b)
			break
		}
		d = len(b)
		for k := range items {
			_, _, n := s7Item(hh, k)
			b = append(b, 0xff, 0x04, byte(n>>5), byte(n<<3)) // success, length in bits
			b = g.filler(b, g.noise, n)
			if n%2 == 1 && k < items-1 {
				b = append(b, 0) // fill byte before the next item
			}
		}
	}
	binary.BigEndian.PutUint16(b[h+6:], uint16(d-p))
	binary.BigEndian.PutUint16(b[h+8:], uint16(len(b)-d))
	return b
}

// s7Item is item k of a Read Var: DB number, byte offset and length.
func s7Item(h uint32, k int) (db, off, n int) {
	hk := mix(h, uint32(k))
	return 1 + int(hk%20), int(hk>>8) % 200, 2 + int(hk>>16)%15
}

// szlRecord appends a 28-byte record of SZL 0x0011: index, order code
// (MLFB, 20 characters), module type, versions.
func szlRecord(b []byte, index uint16, mlfb string, ausbg, ausbe uint16) []byte {
	b = binary.BigEndian.AppendUint16(b, index)
	b = append(b, mlfb...)
	for range 20 - len(mlfb) {
		b = append(b, ' ')
	}
	b = append(b, 0x00, 0xc0)
	b = binary.BigEndian.AppendUint16(b, ausbg)
	return binary.BigEndian.AppendUint16(b, ausbe)
}

// dnp3 writes poll round i/2 between the SCADA master and an RTU: a READ
// of class 1, 2, 3 and 0 (integrity, even rounds) or of the event classes,
// and the RESPONSE: static data, or none. The link layer carries a
// CRC-16/DNP after its header and after every 16 bytes of user data.
func (g *gen) dnp3(b []byte, c *conv, i int) []byte {
	rtu := &rtus[c.peer]
	j, req := i/2, i%2 == 0
	seq := byte(c.id) + byte(j)
	integrity := j%2 == 0
	u := append(g.frag[:0], 0xc0|seq&0x3f, 0xc0|seq&0x0f) // transport, application: FIR, FIN
	switch {
	case req:
		u = append(u, 0x01, 60, 2, 0x06, 60, 3, 0x06, 60, 4, 0x06) // READ g60v2..4, all objects
		if integrity {
			u = append(u, 60, 1, 0x06) // g60v1: class 0
		}
	case integrity:
		u = append(u, 0x81, 0, 0)       // RESPONSE, IIN
		u = append(u, 1, 2, 0x00, 0, 7) // g1v2: binary inputs 0..7 with flags
		for range 8 {
			u = append(u, 0x01|byte(g.rng.IntN(2))<<7)
		}
		u = append(u, 30, 1, 0x00, 0, 3) // g30v1: analog inputs 0..3, 32-bit with flag
		for range 4 {
			u = binary.LittleEndian.AppendUint32(append(u, 0x01), uint32(g.rng.IntN(5000)))
		}
	default:
		u = append(u, 0x81, 0, 0) // no events
	}
	g.frag = u
	ctrl, dst, src := byte(0xc4), rtu.unit, uint16(dnp3Master) // DIR, PRM, unconfirmed user data
	if !req {
		ctrl, dst, src = 0x44, dnp3Master, rtu.unit
	}
	h := len(b)
	b = append(b, 0x05, 0x64, byte(5+len(u)), ctrl, byte(dst), byte(dst>>8), byte(src), byte(src>>8))
	b = appendDNPCRC(b, h)
	for len(u) > 0 {
		k, s := min(16, len(u)), len(b)
		b = appendDNPCRC(append(b, u[:k]...), s)
		u = u[k:]
	}
	return b
}

// appendDNPCRC appends the CRC of b[from:], low byte first.
func appendDNPCRC(b []byte, from int) []byte {
	crc := dpi.DNP3CRC(b[from:])
	return append(b, byte(crc), byte(crc>>8))
}

// bacnetProps are the properties the BMS reads, in turn.
var bacnetProps = [...]byte{77, 70, 121} // object-name, model-name, vendor-name

// bacnet writes a Who-Is (step 0) and the I-Ams of the controllers, all
// global broadcasts; or a ReadProperty of a controller's device object
// (even steps) and its ComplexACK.
func bacnet(b []byte, c *conv) []byte {
	start := len(b)
	if c.variant < 2 {
		b = append(b, 0x81, 0x0b, 0, 0, 1, 0x20, 0xff, 0xff, 0, 0xff) // BVLC original-broadcast; NPDU to all networks
		if c.step == 0 {
			b = append(b, 0x10, 0x08) // Who-Is, no range
		} else {
			ctl := &controllers[(int(c.peer)+c.step-1)%len(controllers)]
			b = append(b, 0x10, 0x00, 0xc4) // I-Am, device object
			b = binary.BigEndian.AppendUint32(b, 8<<22|uint32(ctl.unit))
			b = append(b, 0x22, 0x05, 0xc4, 0x91, 0x03, 0x21, bacnetDelta) // max APDU 1476, no segmentation, vendor
		}
	} else {
		ctl := &controllers[c.peer]
		k := c.step / 2
		invoke := byte(c.id) + byte(k)
		b = append(b, 0x81, 0x0a, 0, 0, 1) // BVLC original-unicast; NPDU
		if c.step%2 == 0 {
			b = append(b, 0x04, 0x00, 0x05, invoke, 0x0c) // expects a reply; confirmed ReadProperty
		} else {
			b = append(b, 0x00, 0x30, invoke, 0x0c) // ComplexACK
		}
		b = append(b, 0x0c) // [0] object identifier
		b = binary.BigEndian.AppendUint32(b, 8<<22|uint32(ctl.unit))
		b = append(b, 0x19, bacnetProps[k]) // [1] property identifier
		if c.step%2 == 1 {
			v := [...]string{ctl.name, ctl.model, "Delta Controls"}[k]
			b = append(b, 0x3e) // [3] value
			if n := 1 + len(v); n <= 4 {
				b = append(b, 0x70|byte(n), 0)
			} else {
				b = append(b, 0x75, byte(n), 0) // character string, UTF-8
			}
			b = append(append(b, v...), 0x3f)
		}
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b
}
