package dpi

import (
	"encoding/binary"
	"strconv"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Modbus/TCP (Modbus Application Protocol V1.1b3 and Modbus Messaging on
// TCP/IP V1.0b): the MBAP header, function codes, unit ids, exception
// responses and Read Device Identification answers.
//
// Hand-written: simonvetter/modbus is a client/server library with no
// decoder for captured bytes, and gopacket's ModbusTCP wants exactly one
// ADU per buffer, while a reassembled stream holds many; the MBAP header
// is seven bytes, split here in place.
var modbusAnalyzer = Analyzer{
	App:    "modbus",
	Proto:  6,
	Ports:  []uint16{502},
	Match:  modbusMatch,
	Decode: modbusDecode,
	Enough: wholeBuffer,
}

type modbusADU struct {
	tid  uint16
	unit uint8
	fc   uint8
	data []byte // the PDU after the function code
}

// modbusNext splits the ADU at the start of b; status is otOK, otShort
// or otBad.
func modbusNext(b []byte) (adu modbusADU, rest []byte, status int) {
	if len(b) < 6 {
		if len(b) >= 3 && (b[2] != 0 || len(b) >= 4 && b[3] != 0) {
			return adu, nil, otBad
		}
		return adu, nil, otShort
	}
	// The length counts the unit id, the function code and the data; an
	// ADU is at most 260 bytes (§4.1 of the TCP guide), so 254 at most.
	n := int(binary.BigEndian.Uint16(b[4:6]))
	if binary.BigEndian.Uint16(b[2:4]) != 0 || n < 2 || n > 254 {
		return adu, nil, otBad
	}
	if len(b) < 6+n {
		return adu, nil, otShort
	}
	adu = modbusADU{
		tid:  binary.BigEndian.Uint16(b[0:2]),
		unit: b[6],
		fc:   b[7],
		data: b[8 : 6+n],
	}
	return adu, b[6+n:], otOK
}

// modbusFunctions names the public function codes (§5.1); user-defined
// codes 65–72 and 100–110 are valid but unnamed.
var modbusFunctions = map[uint8]string{
	1:  "read_coils",
	2:  "read_discrete_inputs",
	3:  "read_holding_registers",
	4:  "read_input_registers",
	5:  "write_single_coil",
	6:  "write_single_register",
	7:  "read_exception_status",
	8:  "diagnostics",
	11: "get_comm_event_counter",
	12: "get_comm_event_log",
	15: "write_multiple_coils",
	16: "write_multiple_registers",
	17: "report_server_id",
	20: "read_file_record",
	21: "write_file_record",
	22: "mask_write_register",
	23: "read_write_multiple_registers",
	24: "read_fifo_queue",
	43: "encapsulated_interface_transport",
}

func modbusValidFunction(fc uint8) bool {
	fc &= 0x7f
	_, named := modbusFunctions[fc]
	return named || (fc >= 65 && fc <= 72) || (fc >= 100 && fc <= 110)
}

func modbusFunctionName(adu modbusADU) string {
	fc := adu.fc & 0x7f
	if fc == 43 && len(adu.data) > 0 && adu.fc&0x80 == 0 {
		switch adu.data[0] { // the MEI type
		case 0x0e:
			return "read_device_identification"
		case 0x0d:
			return "canopen_general_reference"
		}
	}
	if name, ok := modbusFunctions[fc]; ok {
		return name
	}
	return "unknown_" + strconv.Itoa(int(fc))
}

// modbusSide counts the valid ADUs a side starts with (up to max); bad is
// true when its first ADU is not Modbus at all.
func modbusSide(b []byte, max int) (n int, first modbusADU, bad bool) {
	for i := 0; i < max && len(b) > 0; i++ {
		adu, rest, status := modbusNext(b)
		if status == otOK && (!modbusValidFunction(adu.fc) ||
			// An exception response is the exception code alone.
			adu.fc&0x80 != 0 && len(adu.data) != 1) {
			status = otBad
		}
		if status != otOK {
			return n, first, n == 0 && status == otBad
		}
		if n == 0 {
			first = adu
		}
		n++
		b = rest
	}
	return n, first, false
}

func modbusMatch(f *Flow) float64 {
	no, firstO, badO := modbusSide(f.Orig.Data, 4)
	nr, firstR, badR := modbusSide(f.Resp.Data, 4)
	if badO || badR || no+nr == 0 {
		return 0
	}
	n := no + nr
	if no > 0 && nr > 0 && firstO.tid == firstR.tid && firstO.unit == firstR.unit {
		n++ // a response echoing the request's transaction and unit
	}
	return [...]float64{0, 0.55, 0.7, 0.85, 1}[min(n, 4)]
}

func modbusDecode(f *Flow, l7 *schema.L7) {
	in := otIndustrial(l7, "modbus")
	for _, side := range []*Side{&f.Orig, &f.Resp} {
		b := side.Data
		for len(b) > 0 {
			adu, rest, status := modbusNext(b)
			if status != otOK {
				break
			}
			b = rest
			otAddUnit(in, uint32(adu.unit))
			otAddFunction(in, modbusFunctionName(adu))
			if adu.fc&0x80 != 0 {
				in.Exceptions++
			} else if adu.fc == 43 && side == &f.Resp {
				modbusDeviceID(in, adu.data)
			}
		}
	}
}

// modbusDeviceID reads a Read Device Identification response (§6.21):
// MEI type 0x0E, read code, conformity level, more follows, next object
// id, object count, then (id, length, value) objects.
func modbusDeviceID(in *schema.Industrial, d []byte) {
	if len(d) < 6 || d[0] != 0x0e {
		return
	}
	count := int(d[5])
	d = d[6:]
	var productName, modelName string
	for i := 0; i < count && len(d) >= 2; i++ {
		id, n := d[0], int(d[1])
		if len(d) < 2+n {
			break
		}
		v := otText(d[2 : 2+n])
		d = d[2+n:]
		switch id {
		case 0:
			otSet(&in.Vendor, v) // VendorName
		case 1:
			otSet(&in.Product, v) // ProductCode
		case 2:
			otSet(&in.Version, v) // MajorMinorRevision
		case 4:
			productName = v
		case 5:
			modelName = v
		}
	}
	otSet(&in.Name, productName)
	otSet(&in.Name, modelName)
}
