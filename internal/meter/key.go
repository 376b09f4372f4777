package meter

import (
	"encoding/binary"
	"math/bits"

	"github.com/osprey-ndr/osprey/internal/decode"
)

// flowKey identifies a flow in canonical order: (a, pa) is the smaller
// endpoint, so both directions of a conversation give the same key.
type flowKey struct {
	a, b   [16]byte
	pa, pb uint16
	vni    uint32
	mirror uint32 // interned pair of tunnel endpoint addresses (0 = none)
	proto  uint8
}

// endpoints of one packet, in packet direction, before canonical ordering.
type pktTuple struct {
	src, dst     [16]byte
	sport, dport uint16
	proto        uint8
	vni, mirror  uint32
	icmpOneWay   bool
}

// canonical returns the key and whether the packet's source is key.a.
func (t *pktTuple) canonical() (k flowKey, srcIsA bool) {
	c := compare16(&t.src, &t.dst)
	srcIsA = c < 0 || (c == 0 && t.sport <= t.dport)
	k.proto, k.vni, k.mirror = t.proto, t.vni, t.mirror
	if srcIsA {
		k.a, k.b, k.pa, k.pb = t.src, t.dst, t.sport, t.dport
	} else {
		k.a, k.b, k.pa, k.pb = t.dst, t.src, t.dport, t.sport
	}
	return k, srcIsA
}

// compare16 orders two addresses with two 64-bit compares instead of a
// bytes.Compare call: this runs for every packet.
func compare16(a, b *[16]byte) int {
	a0, b0 := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])
	if a0 != b0 {
		if a0 < b0 {
			return -1
		}
		return 1
	}
	a1, b1 := binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:])
	switch {
	case a1 < b1:
		return -1
	case a1 > b1:
		return 1
	}
	return 0
}

// eq compares keys field by field with word loads; struct == on a 48-byte
// key compiles to a memequal call, the largest single cost in profiles.
func (k *flowKey) eq(o *flowKey) bool {
	le := binary.LittleEndian
	return le.Uint64(k.a[:8]) == le.Uint64(o.a[:8]) && le.Uint64(k.a[8:]) == le.Uint64(o.a[8:]) &&
		le.Uint64(k.b[:8]) == le.Uint64(o.b[:8]) && le.Uint64(k.b[8:]) == le.Uint64(o.b[8:]) &&
		k.pa == o.pa && k.pb == o.pb && k.vni == o.vni && k.mirror == o.mirror && k.proto == o.proto
}

// hash mixes the key's words with seed (wyhash-style multiply-xorshift):
// inlined and allocation-free, unlike hash/maphash on a struct.
func (k *flowKey) hash(seed uint64) uint64 {
	h := seed ^ 0x9e3779b97f4a7c15
	h = mix(h, binary.LittleEndian.Uint64(k.a[0:8]))
	h = mix(h, binary.LittleEndian.Uint64(k.a[8:16]))
	h = mix(h, binary.LittleEndian.Uint64(k.b[0:8]))
	h = mix(h, binary.LittleEndian.Uint64(k.b[8:16]))
	h = mix(h, uint64(k.pa)|uint64(k.pb)<<16|uint64(k.proto)<<32)
	h = mix(h, uint64(k.vni)|uint64(k.mirror)<<32)
	return h ^ h>>29
}

func mix(h, v uint64) uint64 {
	hi, lo := bits.Mul64(h^v, 0xa0761d6478bd642f)
	return hi ^ lo
}

// FlowHash is symmetric (the same for both directions of a flow), so a
// sensor can shard packets over several Tables.
func FlowHash(p *decode.Packet) uint64 {
	var t pktTuple
	tupleOf(p, &t, 0)
	k, _ := t.canonical()
	return k.hash(0)
}

// tupleOf fills t from the innermost headers of p. ICMP types become
// ports as Zeek does: the type as source port and, for request/reply
// pairs, the counterpart type as destination port (else the code).
func tupleOf(p *decode.Packet, t *pktTuple, mirror uint32) {
	t.src, t.dst = p.Src.As16(), p.Dst.As16()
	t.proto = p.IPProto
	t.mirror = mirror
	t.vni = 0
	if p.NumTunnels > 0 {
		t.vni = p.Tunnels[p.NumTunnels-1].VNI
	}
	switch p.IPProto {
	case 1, 58:
		cp, oneWay := ICMPCounterpart(p.IPProto == 58, p.ICMPType, p.ICMPCode)
		t.sport, t.dport, t.icmpOneWay = uint16(p.ICMPType), uint16(cp), oneWay
	default:
		t.sport, t.dport = p.SrcPort, p.DstPort
	}
}

// ICMPCounterpart follows Zeek's ICMP4_counterpart/ICMP6_counterpart: the
// type answering typ and false, or code and true for a one-way type.
// Collectors orient ICMP records with it as the meter does.
func ICMPCounterpart(v6 bool, typ, code uint8) (uint8, bool) {
	if !v6 {
		switch typ {
		case 8:
			return 0, false
		case 0:
			return 8, false
		case 13:
			return 14, false
		case 14:
			return 13, false
		case 15:
			return 16, false
		case 16:
			return 15, false
		case 10:
			return 9, false
		case 9:
			return 10, false
		case 17:
			return 18, false
		case 18:
			return 17, false
		}
		return code, true
	}
	switch typ {
	case 128:
		return 129, false
	case 129:
		return 128, false
	case 133:
		return 134, false
	case 134:
		return 133, false
	case 135:
		return 136, false
	case 136:
		return 135, false
	case 130:
		return 131, false
	case 131:
		return 130, false
	case 139:
		return 140, false
	case 140:
		return 139, false
	case 144:
		return 145, false
	case 145:
		return 144, false
	}
	return code, true
}
