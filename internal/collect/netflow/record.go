package netflow

import (
	"encoding/binary"
	"net/netip"

	"github.com/osprey-ndr/osprey/internal/meter"
)

// record is one flow as an exporter described it, before it becomes a
// Session. The decoders fill it in place (it is reset, not reallocated,
// for each record) so that decoding allocates nothing per record.
type record struct {
	src, dst           netip.Addr
	srcPort, dstPort   uint16
	proto              uint8
	tcpFlags           uint8
	icmpType, icmpCode uint8
	direction          uint8 // IPFIX flowDirection + 1: 0 unknown, 1 ingress, 2 egress
	pkts, bytes        uint64
	revPkts, revBytes  uint64 // RFC 5103 biflows: the reverse direction
	revFlags           uint8
	inIf, outIf        uint32
	physIn, physOut    uint32
	srcMAC, dstMAC     [6]byte
	postSrc, postDst   [6]byte // post-NAT / egress MACs, used when the others are absent
	vlan, innerVLAN    uint16

	// Times as the record gives them; times() resolves them.
	startUp, endUp           uint32 // ms of the exporter's sysUpTime
	startNs, endNs           int64  // absolute, Unix ns
	startDeltaUs, endDeltaUs uint32 // µs before the export time
	sysInitMs                int64  // IPFIX systemInitTimeMilliseconds

	// Sampling as the record gives it (a data record or an options record).
	interval, pktInterval, pktSpace uint64
	samplerID                       uint64

	has uint32 // which optional values are set (has* bits)
}

const (
	hasICMP = 1 << iota
	hasSrcMAC
	hasDstMAC
	hasPostSrc
	hasPostDst
	hasVLAN
	hasInnerVLAN
	hasStartUp
	hasEndUp
	hasStartNs
	hasEndNs
	hasStartDelta
	hasEndDelta
	hasSysInit
	hasInterval
	hasPktInterval
	hasPktSpace
	hasSampler
)

// IPFIX information elements (RFC 7012, iana.org/assignments/ipfix);
// NetFlow v9 field types share the numbers below 128 and most above.
const (
	ieOctetDeltaCount           = 1
	iePacketDeltaCount          = 2
	ieProtocolIdentifier        = 4
	ieTCPControlBits            = 6
	ieSourceTransportPort       = 7
	ieSourceIPv4Address         = 8
	ieIngressInterface          = 10
	ieDestinationTransportPort  = 11
	ieDestinationIPv4Address    = 12
	ieEgressInterface           = 14
	ieFlowEndSysUpTime          = 21
	ieFlowStartSysUpTime        = 22
	iePostOctetDeltaCount       = 23 // NetFlow v9 OUT_BYTES
	iePostPacketDeltaCount      = 24 // NetFlow v9 OUT_PKTS
	ieSourceIPv6Address         = 27
	ieDestinationIPv6Address    = 28
	ieICMPTypeCodeIPv4          = 32
	ieSamplingInterval          = 34
	ieSamplerID                 = 48 // NetFlow v9 FLOW_SAMPLER_ID
	ieSamplerRandomInterval     = 50
	ieSourceMacAddress          = 56
	iePostDestinationMacAddress = 57
	ieVlanID                    = 58
	iePostVlanID                = 59
	ieFlowDirection             = 61
	ieDestinationMacAddress     = 80
	iePostSourceMacAddress      = 81
	ieOctetTotalCount           = 85
	iePacketTotalCount          = 86
	ieICMPTypeCodeIPv6          = 139
	ieFlowStartSeconds          = 150
	ieFlowEndSeconds            = 151
	ieFlowStartMilliseconds     = 152
	ieFlowEndMilliseconds       = 153
	ieFlowStartMicroseconds     = 154
	ieFlowEndMicroseconds       = 155
	ieFlowStartNanoseconds      = 156
	ieFlowEndNanoseconds        = 157
	ieFlowStartDeltaMicrosecs   = 158
	ieFlowEndDeltaMicrosecs     = 159
	ieSystemInitTimeMillis      = 160
	ieICMPTypeIPv4              = 176
	ieICMPCodeIPv4              = 177
	ieICMPTypeIPv6              = 178
	ieICMPCodeIPv6              = 179
	ieDot1qVlanID               = 243
	ieDot1qCustomerVlanID       = 245
	ieIngressPhysicalInterface  = 252
	ieEgressPhysicalInterface   = 253
	ieSelectorID                = 302
	ieSamplingPacketInterval    = 305
	ieSamplingPacketSpace       = 306
)

// ieLength is the length an element must have when it is not an unsigned
// integer (those may use reduced-size encoding, RFC 7011 6.2); a
// template that gives another length is rejected.
func ieLength(ie uint16) int {
	switch ie {
	case ieSourceIPv4Address, ieDestinationIPv4Address:
		return 4
	case ieSourceIPv6Address, ieDestinationIPv6Address:
		return 16
	case ieSourceMacAddress, ieDestinationMacAddress, iePostSourceMacAddress, iePostDestinationMacAddress:
		return 6
	case ieFlowStartMicroseconds, ieFlowEndMicroseconds, ieFlowStartNanoseconds, ieFlowEndNanoseconds:
		return 8
	}
	return 0
}

// uintBE reads an unsigned integer of 1 to 8 bytes.
func uintBE(v []byte) uint64 {
	var n uint64
	for _, b := range v {
		n = n<<8 | uint64(b)
	}
	return n
}

// ntpEpoch is 1900-01-01 in Unix seconds: IPFIX's micro- and nanosecond
// timestamps count from there (RFC 7011 6.1.9).
const ntpEpoch = 2208988800

func ntpNs(v []byte) int64 {
	sec := int64(binary.BigEndian.Uint32(v)) - ntpEpoch
	frac := uint64(binary.BigEndian.Uint32(v[4:]))
	return sec*1e9 + int64(frac*1e9>>32)
}

// set stores one field of a NetFlow v9 or IPFIX record. v has the length
// the template gave, which compile has checked for elements that need
// one. Enterprise-specific elements are ignored (the caller skips them).
func (r *record) set(ie uint16, v []byte) {
	if len(v) == 0 || len(v) > 8 && ieLength(ie) == 0 {
		return // absent (variable length 0) or no integer we know of
	}
	switch ie {
	case ieOctetDeltaCount:
		r.bytes = uintBE(v)
	case iePacketDeltaCount:
		r.pkts = uintBE(v)
	case ieOctetTotalCount, iePostOctetDeltaCount:
		if r.bytes == 0 {
			r.bytes = uintBE(v)
		}
	case iePacketTotalCount, iePostPacketDeltaCount:
		if r.pkts == 0 {
			r.pkts = uintBE(v)
		}
	case ieProtocolIdentifier:
		r.proto = uint8(uintBE(v))
	case ieTCPControlBits:
		r.tcpFlags = uint8(uintBE(v)) // IPFIX has 16 bits; the low 8 are the classic flags
	case ieSourceTransportPort:
		r.srcPort = uint16(uintBE(v))
	case ieDestinationTransportPort:
		r.dstPort = uint16(uintBE(v))
	case ieSourceIPv4Address:
		setAddr(&r.src, netip.AddrFrom4([4]byte(v)))
	case ieDestinationIPv4Address:
		setAddr(&r.dst, netip.AddrFrom4([4]byte(v)))
	case ieSourceIPv6Address:
		setAddr(&r.src, netip.AddrFrom16([16]byte(v)).Unmap())
	case ieDestinationIPv6Address:
		setAddr(&r.dst, netip.AddrFrom16([16]byte(v)).Unmap())
	case ieIngressInterface:
		r.inIf = uint32(uintBE(v))
	case ieEgressInterface:
		r.outIf = uint32(uintBE(v))
	case ieIngressPhysicalInterface:
		r.physIn = uint32(uintBE(v))
	case ieEgressPhysicalInterface:
		r.physOut = uint32(uintBE(v))
	case ieICMPTypeCodeIPv4, ieICMPTypeCodeIPv6:
		tc := uintBE(v)
		r.icmpType, r.icmpCode, r.has = uint8(tc>>8), uint8(tc), r.has|hasICMP
	case ieICMPTypeIPv4, ieICMPTypeIPv6:
		r.icmpType, r.has = uint8(uintBE(v)), r.has|hasICMP
	case ieICMPCodeIPv4, ieICMPCodeIPv6:
		r.icmpCode, r.has = uint8(uintBE(v)), r.has|hasICMP
	case ieSourceMacAddress:
		r.srcMAC, r.has = [6]byte(v), r.has|hasSrcMAC
	case ieDestinationMacAddress:
		r.dstMAC, r.has = [6]byte(v), r.has|hasDstMAC
	case iePostSourceMacAddress:
		r.postSrc, r.has = [6]byte(v), r.has|hasPostSrc
	case iePostDestinationMacAddress:
		r.postDst, r.has = [6]byte(v), r.has|hasPostDst
	case ieVlanID, ieDot1qVlanID:
		r.vlan, r.has = uint16(uintBE(v)), r.has|hasVLAN
	case ieDot1qCustomerVlanID:
		r.innerVLAN, r.has = uint16(uintBE(v)), r.has|hasInnerVLAN
	case ieFlowDirection:
		r.direction = uint8(uintBE(v)&1) + 1
	case ieFlowStartSysUpTime:
		r.startUp, r.has = uint32(uintBE(v)), r.has|hasStartUp
	case ieFlowEndSysUpTime:
		r.endUp, r.has = uint32(uintBE(v)), r.has|hasEndUp
	case ieFlowStartSeconds:
		r.startNs, r.has = int64(uintBE(v))*1e9, r.has|hasStartNs
	case ieFlowEndSeconds:
		r.endNs, r.has = int64(uintBE(v))*1e9, r.has|hasEndNs
	case ieFlowStartMilliseconds:
		r.startNs, r.has = int64(uintBE(v))*1e6, r.has|hasStartNs
	case ieFlowEndMilliseconds:
		r.endNs, r.has = int64(uintBE(v))*1e6, r.has|hasEndNs
	case ieFlowStartMicroseconds, ieFlowStartNanoseconds:
		r.startNs, r.has = ntpNs(v), r.has|hasStartNs
	case ieFlowEndMicroseconds, ieFlowEndNanoseconds:
		r.endNs, r.has = ntpNs(v), r.has|hasEndNs
	case ieFlowStartDeltaMicrosecs:
		r.startDeltaUs, r.has = uint32(uintBE(v)), r.has|hasStartDelta
	case ieFlowEndDeltaMicrosecs:
		r.endDeltaUs, r.has = uint32(uintBE(v)), r.has|hasEndDelta
	case ieSystemInitTimeMillis:
		r.sysInitMs, r.has = int64(uintBE(v)), r.has|hasSysInit
	case ieSamplingInterval, ieSamplerRandomInterval:
		r.interval, r.has = uintBE(v), r.has|hasInterval
	case ieSamplingPacketInterval:
		r.pktInterval, r.has = uintBE(v), r.has|hasPktInterval
	case ieSamplingPacketSpace:
		r.pktSpace, r.has = uintBE(v), r.has|hasPktSpace
	case ieSamplerID, ieSelectorID:
		r.samplerID, r.has = uintBE(v), r.has|hasSampler
	}
}

// setAddr keeps the first specified address: templates that carry both
// IPv4 and IPv6 fields leave the unused ones zero.
func setAddr(a *netip.Addr, v netip.Addr) {
	if !a.IsValid() || a.IsUnspecified() {
		*a = v
	}
}

// penReverse is the enterprise number of RFC 5103's reverse elements: a
// biflow record counts the reverse direction in the same element ids
// under this number.
const penReverse = 29305

// setReverse stores a reverse element of a biflow record.
func (r *record) setReverse(ie uint16, v []byte) {
	if len(v) == 0 || len(v) > 8 {
		return
	}
	switch ie {
	case ieOctetDeltaCount, ieOctetTotalCount:
		r.revBytes = uintBE(v)
	case iePacketDeltaCount, iePacketTotalCount:
		r.revPkts = uintBE(v)
	case ieTCPControlBits:
		r.revFlags = uint8(uintBE(v))
	}
}

// reverse turns a biflow record into its reverse direction.
func (r *record) reverse() {
	r.src, r.dst = r.dst, r.src
	r.srcPort, r.dstPort = r.dstPort, r.srcPort
	r.srcMAC, r.dstMAC = r.dstMAC, r.srcMAC
	r.postSrc, r.postDst = r.postDst, r.postSrc
	r.has = r.has&^(hasSrcMAC|hasDstMAC|hasPostSrc|hasPostDst) |
		r.has&hasSrcMAC<<1 | r.has&hasDstMAC>>1 | r.has&hasPostSrc<<1 | r.has&hasPostDst>>1
	r.inIf, r.outIf = r.outIf, r.inIf
	r.physIn, r.physOut = r.physOut, r.physIn
	r.pkts, r.bytes, r.tcpFlags = r.revPkts, r.revBytes, r.revFlags
	r.revPkts, r.revBytes = 0, 0
	if r.proto == 1 || r.proto == 58 {
		typ, code := r.icmp()
		if cp, oneWay := meter.ICMPCounterpart(r.proto == 58, typ, code); !oneWay {
			typ = cp
		}
		r.icmpType, r.icmpCode, r.has = typ, code, r.has|hasICMP
	}
}

// icmp returns the record's ICMP type and code. NetFlow v5 and many v9
// exporters put them in the destination port.
func (r *record) icmp() (typ, code uint8) {
	if r.has&hasICMP != 0 {
		return r.icmpType, r.icmpCode
	}
	return uint8(r.dstPort >> 8), uint8(r.dstPort)
}

// rate is the sampling rate the record states, 1 in N, or 0.
// samplingPacketInterval/Space select Interval packets out of every
// Interval+Space (RFC 5477), so the rate is (Interval+Space)/Interval.
func (r *record) rate() uint64 {
	switch {
	case r.has&hasInterval != 0 && r.interval > 0:
		return r.interval
	case r.has&hasPktInterval != 0 && r.pktInterval > 0:
		return (r.pktInterval + r.pktSpace) / r.pktInterval
	}
	return 0
}
