package netflow

import (
	"encoding/binary"
	"net/netip"
)

// Builders of exporter datagrams for tests, fuzz seeds and benchmarks.

var be = binary.BigEndian

// exportSec is the export time of built datagrams (2023-11-14T22:13:20Z).
const exportSec = 1_700_000_000

// v5Datagram has n records of 10.0.0.1:1000+i → 192.0.2.1:80 TCP, 10
// packets and 1500 bytes each, that ran from uptime 40 s to 90 s; the
// exporter's uptime is 100 s.
func v5Datagram(n int, interval uint16) []byte {
	b := be.AppendUint16(nil, 5)
	b = be.AppendUint16(b, uint16(n))
	b = be.AppendUint32(b, 100_000)   // sysUptime
	b = be.AppendUint32(b, exportSec) // unix_secs
	b = be.AppendUint32(b, 0)         // unix_nsecs
	b = be.AppendUint32(b, 7)         // flow_sequence
	b = append(b, 1, 2)               // engine type and id
	b = be.AppendUint16(b, interval)
	for i := range n {
		b = append(b, 10, 0, 0, 1, 192, 0, 2, 1, 0, 0, 0, 0)
		b = be.AppendUint16(b, 3) // input
		b = be.AppendUint16(b, 4) // output
		b = be.AppendUint32(b, 10)
		b = be.AppendUint32(b, 1500)
		b = be.AppendUint32(b, 40_000) // first
		b = be.AppendUint32(b, 90_000) // last
		b = be.AppendUint16(b, uint16(1000+i))
		b = be.AppendUint16(b, 80)
		b = append(b, 0, 0x1b, 6, 0)
		b = append(b, make([]byte, 8)...) // AS, masks, padding
	}
	return b
}

// field is a template field: element id and length.
type field struct{ ie, length uint16 }

// set wraps a set body with its header.
func set(id uint16, body []byte) []byte {
	b := be.AppendUint16(nil, id)
	b = be.AppendUint16(b, uint16(4+len(body)))
	return append(b, body...)
}

func templateBody(id uint16, fields []field) []byte {
	b := be.AppendUint16(nil, id)
	b = be.AppendUint16(b, uint16(len(fields)))
	for _, f := range fields {
		b = be.AppendUint16(b, f.ie)
		b = be.AppendUint16(b, f.length)
	}
	return b
}

// v9Datagram wraps sets in a NetFlow v9 header (uptime 100 s, source id
// domain).
func v9Datagram(domain uint32, sets ...[]byte) []byte {
	b := be.AppendUint16(nil, 9)
	b = be.AppendUint16(b, uint16(len(sets)))
	b = be.AppendUint32(b, 100_000)
	b = be.AppendUint32(b, exportSec)
	b = be.AppendUint32(b, 1)
	b = be.AppendUint32(b, domain)
	for _, s := range sets {
		b = append(b, s...)
	}
	return b
}

// ipfixDatagram wraps sets in an IPFIX header.
func ipfixDatagram(domain uint32, sets ...[]byte) []byte {
	n := 16
	for _, s := range sets {
		n += len(s)
	}
	b := be.AppendUint16(nil, 10)
	b = be.AppendUint16(b, uint16(n))
	b = be.AppendUint32(b, exportSec)
	b = be.AppendUint32(b, 1)
	b = be.AppendUint32(b, domain)
	for _, s := range sets {
		b = append(b, s...)
	}
	return b
}

// v9Fields is the template of v9Record: addresses, ports, protocol,
// counters, uptime times, interfaces and a sampler id.
var v9Fields = []field{{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {6, 1}, {2, 4}, {1, 4}, {22, 4}, {21, 4}, {10, 2}, {14, 2}, {48, 1}}

func v9Record(src netip.Addr, sport uint16, sampler byte) []byte {
	b := src.AsSlice()
	b = append(b, 192, 0, 2, 1)
	b = be.AppendUint16(b, sport)
	b = be.AppendUint16(b, 443)
	b = append(b, 6, 0x12)
	b = be.AppendUint32(b, 2)    // packets
	b = be.AppendUint32(b, 120)  // bytes
	b = be.AppendUint32(b, 95e3) // first
	b = be.AppendUint32(b, 99e3) // last
	b = be.AppendUint16(b, 5)
	b = be.AppendUint16(b, 6)
	return append(b, sampler)
}

// v9SamplerOptions is an options template (id 257, scope: system) with a
// sampler id and its random interval, and a data set giving sampler id
// the rate.
func v9SamplerOptions(id byte, rate uint32) (tmpl, data []byte) {
	t := be.AppendUint16(nil, 257)
	t = be.AppendUint16(t, 4) // scope length
	t = be.AppendUint16(t, 8) // option length
	for _, f := range []field{{1, 4}, {48, 1}, {50, 4}} {
		t = be.AppendUint16(t, f.ie)
		t = be.AppendUint16(t, f.length)
	}
	d := append(be.AppendUint32(nil, 0), id)
	d = be.AppendUint32(d, rate)
	return set(1, t), set(257, d)
}

// ipfixFields is the template of ipfixRecord: IPv6 addresses, absolute
// millisecond times, MACs, a VLAN and the sampling packet interval and
// space.
var ipfixFields = []field{{27, 16}, {28, 16}, {7, 2}, {11, 2}, {4, 1}, {2, 8}, {1, 8}, {152, 8}, {153, 8}, {56, 6}, {80, 6}, {58, 2}, {61, 1}, {305, 4}, {306, 4}}

func ipfixRecord(sport uint16) []byte {
	b := netip.MustParseAddr("2001:db8::1").AsSlice()
	b = append(b, netip.MustParseAddr("2001:db8::2").AsSlice()...)
	b = be.AppendUint16(b, sport)
	b = be.AppendUint16(b, 53)
	b = append(b, 17)
	b = be.AppendUint64(b, 1)
	b = be.AppendUint64(b, 80)
	b = be.AppendUint64(b, exportSec*1000-5000) // start
	b = be.AppendUint64(b, exportSec*1000-1000) // end
	b = append(b, 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2)
	b = be.AppendUint16(b, 42)
	b = append(b, 1)           // egress
	b = be.AppendUint32(b, 1)  // samplingPacketInterval
	b = be.AppendUint32(b, 99) // samplingPacketSpace
	return b
}

// sflowDatagram has one flow sample (rate 512, sequence seq) of an
// Ethernet frame with a VLAN tag carrying IPv4 TCP 10.1.1.1:1234 →
// 10.2.2.2:22, SYN, IP length 60.
func sflowDatagram(samples int) []byte {
	frame := []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x81, 0, 0, 7, 0x08, 0}
	ip := []byte{0x45, 0, 0, 60, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 1, 1, 1, 10, 2, 2, 2}
	tcp := make([]byte, 20)
	be.PutUint16(tcp, 1234)
	be.PutUint16(tcp[2:], 22)
	tcp[12], tcp[13] = 5<<4, 0x02
	frame = append(append(frame, ip...), tcp...)
	rec := be.AppendUint32(nil, 1)                 // header_protocol: Ethernet
	rec = be.AppendUint32(rec, uint32(len(frame))) // frame_length
	rec = be.AppendUint32(rec, 0)                  // stripped
	rec = be.AppendUint32(rec, uint32(len(frame))) // header length
	rec = append(rec, frame...)
	sample := be.AppendUint32(nil, 1) // sample sequence
	sample = be.AppendUint32(sample, 3)
	sample = be.AppendUint32(sample, 512) // sampling rate
	sample = be.AppendUint32(sample, 512*1000)
	sample = be.AppendUint32(sample, 0)
	sample = be.AppendUint32(sample, 3) // input
	sample = be.AppendUint32(sample, 4) // output
	sample = be.AppendUint32(sample, 1) // records
	sample = be.AppendUint32(sample, 1) // raw packet header
	sample = be.AppendUint32(sample, uint32(len(rec)))
	sample = append(sample, rec...)
	b := be.AppendUint32(nil, 5)
	b = be.AppendUint32(b, 1)
	b = append(b, 192, 0, 2, 99) // agent
	b = be.AppendUint32(b, 0)    // sub-agent
	b = be.AppendUint32(b, 11)   // sequence
	b = be.AppendUint32(b, 5000) // uptime
	b = be.AppendUint32(b, uint32(samples))
	for range samples {
		b = be.AppendUint32(b, 1) // flow sample
		b = be.AppendUint32(b, uint32(len(sample)))
		b = append(b, sample...)
	}
	return b
}

// expandedFlowSample is an sFlow datagram with one expanded flow sample
// that claims records records and holds none.
func expandedFlowSample(records uint32) []byte {
	b := be.AppendUint32(nil, 5)
	b = be.AppendUint32(b, 1)
	b = append(b, 192, 0, 2, 99)
	b = be.AppendUint32(b, 0)
	b = be.AppendUint32(b, 1)
	b = be.AppendUint32(b, 5000)
	b = be.AppendUint32(b, 1) // samples
	b = be.AppendUint32(b, 3) // expanded flow sample
	b = be.AppendUint32(b, 44)
	b = append(b, make([]byte, 40)...)
	return be.AppendUint32(b, records)
}
