package netflow

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/netsampler/goflow2/v2/decoders/netflowlegacy"

	"github.com/osprey-ndr/osprey/internal/schema"
)

const (
	v5HeaderLen = 24
	v5RecordLen = 48
)

// netflow5 decodes a NetFlow v5 datagram: a fixed header and fixed
// records, so no template and no exporter state.
func (d *Decoder) netflow5(e *export, out []schema.Session) []schema.Session {
	p := e.payload
	if len(p) < v5HeaderLen {
		d.reject(e, reasonShort, 0, "header", fmt.Errorf("%d bytes, header needs %d", len(p), v5HeaderLen))
		return out
	}
	held := (len(p) - v5HeaderLen) / v5RecordLen
	if n := int(binary.BigEndian.Uint16(p[2:])); n > held {
		d.reject(e, reasonLength, v5HeaderLen+held*v5RecordLen, "count", fmt.Errorf("count says %d records, datagram holds %d", n, held))
		// goflow2 sizes its record slice by the count: give it the true
		// one rather than let a bad count cost 3 MB.
		d.scratch = append(d.scratch[:0], p...)
		binary.BigEndian.PutUint16(d.scratch[2:], uint16(held))
		p = d.scratch
	}
	d.buf = *bytes.NewBuffer(p[2:]) // goflow2's DecodeMessage starts after the version
	if err := netflowlegacy.DecodeMessage(&d.buf, &d.v5); err != nil {
		d.reject(e, reasonMalformed, 0, "", err)
		return out
	}
	h := &d.v5
	e.exportNs = int64(h.UnixSecs)*1e9 + int64(h.UnixNSecs)
	e.uptimeMs, e.uptime = h.SysUptime, true
	e.seq = h.FlowSequence
	e.domain = uint32(h.EngineType)<<8 | uint32(h.EngineId)
	// The top two bits are the sampling mode, the other 14 the interval;
	// 0 is what unsampled exporters send.
	e.rate = max(uint64(h.SamplingInterval&0x3fff), 1)
	r := &d.rec
	for i := range int(h.Count) {
		v := &h.Records[i]
		*r = record{
			src: v5Addr(v.SrcAddr), dst: v5Addr(v.DstAddr), srcPort: v.SrcPort, dstPort: v.DstPort,
			proto: v.Proto, tcpFlags: v.TCPFlags, pkts: uint64(v.DPkts), bytes: uint64(v.DOctets),
			inIf: uint32(v.Input), outIf: uint32(v.Output), startUp: v.First, endUp: v.Last,
			has: hasStartUp | hasEndUp,
		}
		out = d.appendSession(out, e, r)
	}
	return out
}

func v5Addr(a netflowlegacy.IPAddress) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
}
