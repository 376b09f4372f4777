package netflow

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/netsampler/goflow2/v2/decoders/netflowlegacy"
	"github.com/netsampler/goflow2/v2/decoders/sflow"

	"github.com/osprey-ndr/osprey/internal/collect"
	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// Decoder turns exporter datagrams into sessions. goflow2's decoders
// parse the packets and templates; the records are mapped to sessions
// here rather than through goflow2's producer/proto, which fills a
// protobuf FlowMessage per record (from a pool, through a reflective
// mapping) only for us to copy it again, and keeps its own per-exporter
// sampling state that does not know observation domains.
//
// Decoders of one Collector share the exporters' templates and sampling
// rates; a Decoder itself belongs to one goroutine.
type Decoder struct {
	x           *exporters
	m           *metrics
	rejects     collect.Rejects
	defaultRate uint64

	// Reused for every datagram.
	ts      templateSystem
	buf     bytes.Buffer
	scratch []byte
	v5      netflowlegacy.PacketNetFlowV5
	sf      sflow.Packet
	rec     record
	pd      *decode.Decoder // sFlow sampled headers
	pkt     decode.Packet
	flows   []schema.Flow // see newFlow
}

// NewDecoder returns a Decoder with exporter state of its own and metrics
// registered nowhere, for tests, benchmarks and replaying captures.
// rejects may be nil.
func NewDecoder(cfg Config, rejects collect.Rejects) *Decoder {
	x := newExporters(cfg.MaxExporters, cfg.MaxTemplates)
	m, _ := newMetrics(nil, x) // cannot fail without a registry
	return newDecoder(cfg, x, m, rejects)
}

func newDecoder(cfg Config, x *exporters, m *metrics, rejects collect.Rejects) *Decoder {
	return &Decoder{
		x: x, m: m, rejects: rejects, defaultRate: cfg.DefaultSamplingRate,
		ts: templateSystem{maxTemplates: cfg.MaxTemplates},
		// No tunnel ports: an sFlow sample is accounted as the packet on
		// the wire, not what it may encapsulate.
		pd: decode.NewDecoder(decode.Config{}),
	}
}

// accept is the set of protocols a listen port takes.
type accept uint8

const (
	acceptNetFlow accept = 1 << iota // v5, v9 and IPFIX
	acceptSFlow
	acceptAll = acceptNetFlow | acceptSFlow
)

// DecodePacket appends the sessions of one datagram, sent by exporter and
// received at now, to out. Bad parts of it go to the Decoder's Rejects;
// the good ones are still decoded.
func (d *Decoder) DecodePacket(exporter netip.AddrPort, payload []byte, now time.Time, out []schema.Session) []schema.Session {
	return d.decode(exporter, payload, now, acceptAll, out)
}

func (d *Decoder) decode(from netip.AddrPort, payload []byte, now time.Time, acc accept, out []schema.Session) []schema.Session {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	d.m.bytes.Add(float64(len(payload)))
	e := export{proto: unknownProtocol, from: from, exporter: from.Addr(), payload: payload, exportNs: now.UnixNano()}
	if len(payload) < 4 {
		d.m.datagrams[unknownProtocol].Inc()
		d.reject(&e, reasonShort, 0, "version", fmt.Errorf("%d-byte datagram", len(payload)))
		return out
	}
	want := acceptNetFlow
	switch {
	case binary.BigEndian.Uint32(payload) == 5:
		e.proto, want = sflow5, acceptSFlow
	case binary.BigEndian.Uint16(payload) == 5:
		e.proto = netflow5
	case binary.BigEndian.Uint16(payload) == 9:
		e.proto = netflow9
	case binary.BigEndian.Uint16(payload) == 10:
		e.proto = ipfix
	default:
		d.m.datagrams[unknownProtocol].Inc()
		d.reject(&e, reasonVersion, 0, "version", fmt.Errorf("version %d is not NetFlow v5/v9, IPFIX or sFlow v5", binary.BigEndian.Uint16(payload)))
		return out
	}
	d.m.datagrams[e.proto].Inc()
	if acc&want == 0 {
		d.reject(&e, reasonWrongPort, 0, "version", fmt.Errorf("%s datagram on a port for %s", e.proto, acc))
		return out
	}
	switch e.proto {
	case netflow5:
		return d.netflow5(&e, out)
	case sflow5:
		return d.sflow(&e, out)
	}
	return d.templated(&e, out)
}

func (a accept) String() string {
	switch a {
	case acceptNetFlow:
		return "NetFlow/IPFIX"
	case acceptSFlow:
		return "sFlow"
	}
	return "any protocol"
}

// reject reports bad input at offset off of the datagram.
func (d *Decoder) reject(e *export, reason string, off int, field string, err error) {
	if c := d.m.bad[reason]; c != nil {
		c.Inc()
	}
	d.report(e, off, field, err)
}

func (d *Decoder) report(e *export, off int, field string, err error) {
	if d.rejects == nil {
		return
	}
	d.rejects.Reject(collect.BadInput{
		Kind: "netflow", Source: "udp://" + e.from.String(), Offset: int64(off),
		Field: field, Err: fmt.Errorf("%s: %w", e.proto, err), Raw: e.payload[:min(len(e.payload), collect.MaxRaw)],
	})
}

// exporterState locks and returns the sender's state, or reports that no
// more exporters can be remembered.
func (d *Decoder) exporterState(e *export) *exporter {
	x := d.x.get(e.from.Addr())
	if x == nil {
		d.reject(e, reasonExporters, 0, "", fmt.Errorf("%d exporters are known already (max_exporters)", d.x.max))
		return nil
	}
	x.mu.Lock()
	return x
}
