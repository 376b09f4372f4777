package netflow

import (
	"encoding/binary"
	"math"
	"math/bits"
	"net/netip"
	"time"

	"github.com/osprey-ndr/osprey/internal/meter"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// export is what one datagram says about all its records.
type export struct {
	proto    protocol
	from     netip.AddrPort // the datagram's sender
	exporter netip.Addr     // flow.exporter: the sender, or an sFlow agent's own address
	domain   uint32
	seq      uint32 // the datagram's sequence number
	exportNs int64  // export time from the header (arrival time for sFlow)
	uptimeMs uint32 // NetFlow v5/v9 sysUptime at export
	uptime   bool   // uptimeMs is set
	dom      *domain
	rate     uint64 // from the header (v5) or the sample (sFlow)
	payload  []byte
	index    uint32 // record number within the datagram, for the uid
}

// sessionFlowSlab is how many Flow values one allocation holds. Sessions
// point into the slab and a slab is never reused, so a sink may keep a
// session (and its Flow) as long as it likes.
const sessionFlowSlab = 256

func (d *Decoder) newFlow() *schema.Flow {
	if len(d.flows) == 0 {
		d.flows = make([]schema.Flow, sessionFlowSlab)
	}
	f := &d.flows[0]
	d.flows = d.flows[1:]
	return f
}

// appendSession turns r into a session, as docs/schema.md "Flow records"
// says: one direction of one window, the sender as orig, the counters
// scaled by the sampling rate.
func (d *Decoder) appendSession(out []schema.Session, e *export, r *record) []schema.Session {
	e.index++
	if !r.src.IsValid() && !r.dst.IsValid() {
		d.m.skipped[reasonNoAddress].Inc()
		return out
	}
	start, end := e.times(r)
	rate := d.rateOf(e, r)
	scale := max(rate, 1)
	op, rp := r.srcPort, r.dstPort
	if r.proto == 1 || r.proto == 58 {
		typ, code := r.icmp()
		op, rp = uint16(typ), uint16(code)
		if cp, oneWay := meter.ICMPCounterpart(r.proto == 58, typ, code); !oneWay {
			rp = uint16(cp)
		}
	}
	f := d.newFlow()
	*f = schema.Flow{
		TCPFlags: r.tcpFlags, Exporter: e.exporter, Domain: e.domain,
		InIf: r.inIf, OutIf: r.outIf, SamplingRate: rate,
	}
	if f.InIf == 0 {
		f.InIf = r.physIn
	}
	if f.OutIf == 0 {
		f.OutIf = r.physOut
	}
	switch r.direction {
	case 1:
		f.Direction = "ingress"
	case 2:
		f.Direction = "egress"
	}
	out = append(out, schema.Session{
		Version: schema.SessionVersion, Final: true, EndReason: "export",
		Source: e.proto.String(),
		Start:  time.Unix(0, start).UTC(), End: time.Unix(0, end).UTC(),
		Orig:  schema.Endpoint{IP: r.src, Port: op},
		Resp:  schema.Endpoint{IP: r.dst, Port: rp},
		Proto: r.proto, Transport: schema.Transport(r.proto),
		ConnState:   "OTH",
		OrigPkts:    scaled(r.pkts, scale),
		OrigIPBytes: scaled(r.bytes, scale),
		Flow:        f,
	})
	s := &out[len(out)-1]
	// Flow records cannot know the payload: docs/schema.md has orig_bytes
	// hold the IP bytes too, so that byte rankings work across sources.
	s.OrigBytes = s.OrigIPBytes
	switch {
	case r.has&hasSrcMAC != 0:
		s.Orig.MAC = schema.MAC(r.srcMAC)
	case r.has&hasPostSrc != 0:
		s.Orig.MAC = schema.MAC(r.postSrc)
	}
	switch {
	case r.has&hasDstMAC != 0:
		s.Resp.MAC = schema.MAC(r.dstMAC)
	case r.has&hasPostDst != 0:
		s.Resp.MAC = schema.MAC(r.postDst)
	}
	if r.has&hasVLAN != 0 {
		s.VLANs = []uint16{r.vlan}
		if r.has&hasInnerVLAN != 0 {
			s.VLANs = append(s.VLANs, r.innerVLAN)
		}
	}
	us, ue := start, end
	if e.proto == sflow5 {
		// A sample is dated at its arrival; the agent's uptime keeps the
		// uid the same when the datagram is sent again.
		us, ue = int64(e.uptimeMs), 0
	}
	s.UID = meter.UID(e.uid(r, us, ue))
	s.CommunityID = meter.CommunityID(s, 0)
	d.m.records[e.proto].Inc()
	return out
}

// scaled multiplies a counter by the sampling rate, saturating rather
// than wrapping around on absurd values.
func scaled(v, rate uint64) uint64 {
	hi, lo := bits.Mul64(v, rate)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}

// times resolves the record's start and end to Unix ns. NetFlow v5/v9
// give milliseconds of the exporter's uptime: the header says the uptime
// and the wall clock at export, so start = export - (uptime - first),
// computed in 32 bits so that an uptime wrapped past 2^32 ms still works.
// IPFIX gives absolute times, microseconds before the export time, or
// uptime milliseconds with the exporter's boot time (systemInitTime) in
// the record or an options record. A record without times is dated at
// its export.
func (e *export) times(r *record) (start, end int64) {
	s, sok := e.time(r, hasStartNs, hasStartDelta, hasStartUp, r.startNs, r.startDeltaUs, r.startUp)
	t, tok := e.time(r, hasEndNs, hasEndDelta, hasEndUp, r.endNs, r.endDeltaUs, r.endUp)
	switch {
	case sok && tok:
		return s, t
	case sok:
		return s, s
	case tok:
		return t, t
	}
	return e.exportNs, e.exportNs
}

func (e *export) time(r *record, abs, delta, up uint32, ns int64, deltaUs, upMs uint32) (int64, bool) {
	switch {
	case r.has&abs != 0:
		return ns, true
	case r.has&delta != 0:
		return e.exportNs - int64(deltaUs)*1e3, true
	case r.has&up != 0 && e.uptime:
		return e.exportNs - int64(int32(e.uptimeMs-upMs))*1e6, true
	case r.has&up != 0 && r.has&hasSysInit != 0:
		return (r.sysInitMs + int64(upMs)) * 1e6, true
	case r.has&up != 0 && e.dom != nil && e.dom.sysInitMs != 0:
		return (e.dom.sysInitMs + int64(upMs)) * 1e6, true
	}
	return 0, false
}

// rateOf picks the sampling rate of a record: its own, else its
// sampler's, else its observation domain's (options records), else the
// header's (v5) or sample's (sFlow), else the configured default. 0
// means unknown.
func (d *Decoder) rateOf(e *export, r *record) uint64 {
	if n := r.rate(); n > 0 {
		return n
	}
	if e.dom != nil {
		if n := e.dom.samplers[r.samplerID]; n > 0 && r.has&hasSampler != 0 {
			return n
		}
		if e.dom.rate > 0 {
			return e.dom.rate
		}
	}
	if e.rate > 0 {
		return e.rate
	}
	return d.defaultRate
}

// uid derives the session id from what identifies the record: the
// protocol, exporter, domain, flow key and window, and also the datagram's
// sequence number and the record's place in it, so that two identical
// records (an exporter may split a flow) get distinct ids while the same
// datagram sent twice gives the same ones.
func (e *export) uid(r *record, start, end int64) uint64 {
	h := mix(uint64(e.proto)+1, uint64(e.domain)<<32|uint64(e.seq))
	for _, a := range [...]netip.Addr{e.exporter, r.src, r.dst} {
		b := a.As16()
		h = mix(h, binary.LittleEndian.Uint64(b[:8]))
		h = mix(h, binary.LittleEndian.Uint64(b[8:]))
	}
	h = mix(h, uint64(r.srcPort)<<48|uint64(r.dstPort)<<32|uint64(r.proto)<<24|uint64(e.index))
	h = mix(h, uint64(r.inIf)<<32|uint64(r.outIf))
	h = mix(h, uint64(start))
	h = mix(h, uint64(end))
	if h == 0 {
		h = 1
	}
	return h
}

func mix(h, v uint64) uint64 {
	hi, lo := bits.Mul64(h^v, 0xa0761d6478bd642f)
	return hi ^ lo
}
