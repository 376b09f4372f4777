package netflow

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/netsampler/goflow2/v2/decoders/sflow"

	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// sflowHeaderLen is the datagram header up to the samples with an IPv4
// agent address; an IPv6 one adds 12 bytes.
const sflowHeaderLen = 28

// sflow decodes an sFlow v5 datagram. A flow sample is one sampled
// packet: it becomes a one-packet record, scaled by the sample's rate and
// dated at the datagram's arrival (sFlow says nothing more precise).
// Counter and drop samples give no session.
func (d *Decoder) sflow(e *export, out []schema.Session) []schema.Session {
	p := e.payload
	if len(p) < sflowHeaderLen {
		d.reject(e, reasonShort, 0, "header", fmt.Errorf("%d bytes, header needs %d", len(p), sflowHeaderLen))
		return out
	}
	if off, err := checkExpanded(p); err != nil {
		d.reject(e, reasonMalformed, off, "flow records", err)
		return out
	}
	d.buf = *bytes.NewBuffer(p[4:]) // goflow2's DecodeMessage starts after the version
	d.sf = sflow.Packet{}
	err := sflow.DecodeMessage(&d.buf, &d.sf)
	h := &d.sf
	if a, ok := netip.AddrFromSlice(h.AgentIP); ok {
		e.exporter = a.Unmap()
	}
	e.domain, e.seq, e.uptimeMs = h.SubAgentId, h.SequenceNumber, h.Uptime
	off := sflowHeaderLen - 4 + len(h.AgentIP)
	decoded := 0
	for _, s := range h.Samples {
		switch s := s.(type) {
		case sflow.FlowSample:
			out = d.flowSample(e, s.SamplingRate, ifIndex(s.Input), ifIndex(s.Output), s.Records, out)
			off += 8 + int(s.Header.Length)
		case sflow.ExpandedFlowSample:
			in, o := uint32(0), uint32(0)
			if s.InputIfFormat == 0 {
				in = s.InputIfValue
			}
			if s.OutputIfFormat == 0 {
				o = s.OutputIfValue
			}
			out = d.flowSample(e, s.SamplingRate, in, o, s.Records, out)
			off += 8 + int(s.Header.Length)
		case sflow.CounterSample:
			d.m.skipped[reasonCounters].Inc()
			off += 8 + int(s.Header.Length)
		case sflow.DropSample:
			d.m.skipped[reasonDropSample].Inc()
			off += 8 + int(s.Header.Length)
		default: // nil: not decoded
			continue
		}
		decoded++
	}
	switch {
	case err != nil:
		d.reject(e, reasonMalformed, off, "sample", err)
	case decoded < int(h.SamplesCount):
		d.reject(e, reasonLength, off, "samples", fmt.Errorf("header says %d samples, datagram holds %d", h.SamplesCount, decoded))
	}
	return out
}

// maxFlowRecords is goflow2's own bound on a flow sample's records.
const maxFlowRecords = 1000

// checkExpanded looks at the record count of every expanded flow sample
// before goflow2 does: goflow2 bounds the count of the other sample kinds
// but sizes an expanded flow sample's record slice by its count as sent,
// so one datagram could ask for a 100 GB allocation.
func checkExpanded(p []byte) (int, error) {
	off := 8
	if be32(p, 4) == 2 {
		off += 16
	} else {
		off += 4
	}
	n := be32(p, off+12)
	off += 16
	for range min(n, maxFlowRecords) {
		format, length := be32(p, off), be32(p, off+4)
		if format == sflow.SAMPLE_FORMAT_EXPANDED_FLOW {
			if c := be32(p, off+8+40); c > maxFlowRecords {
				return off + 8 + 40, fmt.Errorf("expanded flow sample of %d records (at most %d)", c, maxFlowRecords)
			}
		}
		if length > uint32(len(p)) {
			break
		}
		off += 8 + int(length)
	}
	return 0, nil
}

// be32 reads a big-endian uint32 at off, 0 past the end of p.
func be32(p []byte, off int) uint32 {
	if off < 0 || off+4 > len(p) {
		return 0
	}
	return binary.BigEndian.Uint32(p[off:])
}

// ifIndex reads a compact flow sample's interface: the top two bits are
// a format, and only format 0 holds an ifIndex.
func ifIndex(v uint32) uint32 {
	if v>>30 != 0 {
		return 0
	}
	return v
}

// sampledProtocol maps sFlow header_protocol values to link types.
func sampledProtocol(p uint32) (decode.LinkType, bool) {
	switch p {
	case 1:
		return decode.LinkEthernet, true
	case 11:
		return decode.LinkIPv4, true
	case 12:
		return decode.LinkIPv6, true
	}
	return 0, false
}

// flowSample turns one flow sample into a record from its sampled header
// or, without one, from its IPv4/IPv6 record, adding MACs and VLANs from
// the Ethernet and extended switch records.
func (d *Decoder) flowSample(e *export, rate, in, outIf uint32, recs []sflow.FlowRecord, out []schema.Session) []schema.Session {
	r := &d.rec
	*r = record{inIf: in, outIf: outIf, pkts: 1}
	ip := false
	for _, fr := range recs {
		switch v := fr.Data.(type) {
		case sflow.SampledHeader:
			link, ok := sampledProtocol(v.Protocol)
			if !ok || ip {
				continue
			}
			p := &d.pkt
			if d.pd.Decode(v.HeaderData, link, nil, p); p.IPVersion == 0 {
				continue // what was decoded before an error stays in p
			}
			ip = true
			r.src, r.dst, r.proto, r.bytes = p.Src, p.Dst, p.IPProto, uint64(p.IPLen)
			r.srcPort, r.dstPort, r.tcpFlags = p.SrcPort, p.DstPort, p.TCPFlags
			r.icmpType, r.icmpCode = p.ICMPType, p.ICMPCode
			r.has |= hasICMP
			if p.HasEthernet {
				r.srcMAC, r.dstMAC = p.SrcMAC, p.DstMAC
				r.has |= hasSrcMAC | hasDstMAC
			}
			if p.NumVLANs > 0 {
				r.vlan, r.has = p.VLANs[0], r.has|hasVLAN
			}
			if p.NumVLANs > 1 {
				r.innerVLAN, r.has = p.VLANs[1], r.has|hasInnerVLAN
			}
		case sflow.SampledIPv4:
			if !ip {
				ip = true
				d.sampledIP(r, &v.SampledIPBase)
			}
		case sflow.SampledIPv6:
			if !ip {
				ip = true
				d.sampledIP(r, &v.SampledIPBase)
			}
		case sflow.SampledEthernet:
			if r.has&hasSrcMAC == 0 && len(v.SrcMac) == 6 && len(v.DstMac) == 6 {
				r.srcMAC, r.dstMAC = [6]byte(v.SrcMac), [6]byte(v.DstMac)
				r.has |= hasSrcMAC | hasDstMAC
			}
		case sflow.ExtendedSwitch:
			if r.has&hasVLAN == 0 && v.SrcVlan != 0 {
				r.vlan, r.has = uint16(v.SrcVlan), r.has|hasVLAN
			}
		}
	}
	if !ip {
		d.m.skipped[reasonNotSampleIP].Inc()
		return out
	}
	e.rate = uint64(rate)
	return d.appendSession(out, e, r)
}

func (d *Decoder) sampledIP(r *record, v *sflow.SampledIPBase) {
	r.src, _ = netip.AddrFromSlice(v.SrcIP)
	r.dst, _ = netip.AddrFromSlice(v.DstIP)
	r.src, r.dst = r.src.Unmap(), r.dst.Unmap()
	r.proto, r.bytes = uint8(v.Protocol), uint64(v.Length)
	r.srcPort, r.dstPort, r.tcpFlags = uint16(v.SrcPort), uint16(v.DstPort), uint8(v.TcpFlags)
	if r.proto == 1 || r.proto == 58 {
		// sFlow's IP records carry the ICMP type and code in the ports.
		r.icmpType, r.icmpCode, r.has = uint8(v.SrcPort), uint8(v.DstPort), r.has|hasICMP
	}
}
