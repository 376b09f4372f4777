package netflow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/netsampler/goflow2/v2/decoders/netflow"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// ErrTemplateUnknown is the error of a data set that came before its
// template: normal for a while after the collector or the exporter
// starts, until the exporter resends its templates.
var ErrTemplateUnknown = errors.New("template not yet known")

const (
	v9HeaderLen    = 20
	ipfixHeaderLen = 16
	setHeaderLen   = 4
)

// templated decodes a NetFlow v9 or IPFIX datagram. goflow2 walks the
// sets and stores the templates in the exporter's state; data sets come
// back raw (see templateSystem) and are read here, in datagram order, so
// that an options record applies to the data sets after it.
func (d *Decoder) templated(e *export, out []schema.Session) []schema.Session {
	p := e.payload
	version, hlen := uint16(9), v9HeaderLen
	if e.proto == ipfix {
		version, hlen = 10, ipfixHeaderLen
	}
	if len(p) < hlen {
		d.reject(e, reasonShort, 0, "header", fmt.Errorf("%d bytes, header needs %d", len(p), hlen))
		return out
	}
	if e.proto == ipfix {
		// goflow2 reads as far as the message length says, and a length
		// below the header's would wrap around.
		n := int(binary.BigEndian.Uint16(p[2:]))
		if n < hlen || n > len(p) {
			d.reject(e, reasonLength, 2, "length", fmt.Errorf("message length %d, datagram has %d bytes", n, len(p)))
			return out
		}
		p = p[:n]
	}
	x := d.exporterState(e)
	if x == nil {
		return out
	}
	defer x.mu.Unlock()
	d.ts.e, d.ts.rejected = x, d.ts.rejected[:0]
	// The header is read here and the sets handed to goflow2's
	// DecodeMessageCommon with no bound but the datagram: it takes a v9
	// header's count for a number of sets, while the count is of records,
	// and softflowd, for one, counts only data records, so goflow2 would
	// stop before the data sets of a short datagram.
	e.seq = binary.BigEndian.Uint32(p[hlen-8:])
	e.domain = binary.BigEndian.Uint32(p[hlen-4:])
	if e.proto == ipfix {
		e.exportNs = int64(binary.BigEndian.Uint32(p[4:])) * 1e9
	} else {
		e.uptimeMs, e.uptime = binary.BigEndian.Uint32(p[4:]), true
		e.exportNs = int64(binary.BigEndian.Uint32(p[8:])) * 1e9
	}
	d.buf = *bytes.NewBuffer(p[hlen:])
	sets, err := netflow.DecodeMessageCommon(&d.buf, &d.ts, e.domain, uint16(len(p)-hlen), version)
	e.dom = x.domain(version, e.domain)
	off := hlen
	for _, s := range sets {
		switch s := s.(type) {
		case netflow.TemplateFlowSet:
			for _, t := range s.Records {
				d.templateRejected(e, off, t.TemplateId)
			}
			off += int(s.Length)
		case netflow.NFv9OptionsTemplateFlowSet:
			for _, t := range s.Records {
				d.templateRejected(e, off, t.TemplateId)
			}
			off += int(s.Length)
		case netflow.IPFIXOptionsTemplateFlowSet:
			for _, t := range s.Records {
				d.templateRejected(e, off, t.TemplateId)
			}
			off += int(s.Length)
		case netflow.RawFlowSet:
			out = d.dataSet(e, x, version, off, &s, out)
			off += int(s.Length)
		}
	}
	for _, t := range d.ts.rejected { // not found in a set: no offset
		d.reject(e, reasonTemplate, -1, fmt.Sprintf("template %d", t.key.id), t.err)
	}
	if err != nil && !errors.Is(err, netflow.ErrorTemplateNotFound) {
		d.reject(e, reasonMalformed, off, "set", err)
	}
	return out
}

// templateRejected reports template id if its set held a refused one.
func (d *Decoder) templateRejected(e *export, off int, id uint16) {
	for i, t := range d.ts.rejected {
		if t.key.id == id {
			d.reject(e, reasonTemplate, off, fmt.Sprintf("template %d", id), t.err)
			d.ts.rejected = append(d.ts.rejected[:i], d.ts.rejected[i+1:]...)
			return
		}
	}
}

// dataSet decodes the records of one data set at offset off.
func (d *Decoder) dataSet(e *export, x *exporter, version uint16, off int, s *netflow.RawFlowSet, out []schema.Session) []schema.Session {
	t := x.templates[templateKey{version, e.domain, s.Id}]
	if t == nil {
		d.m.templateUnknown[e.proto].Inc()
		d.report(e, off, "set id", fmt.Errorf("set %d of domain %d: %w", s.Id, e.domain, ErrTemplateUnknown))
		return out
	}
	b := s.Records
	if want := int(s.Length) - setHeaderLen; len(b) < want {
		d.reject(e, reasonLength, off+2, "set length", fmt.Errorf("set %d: length %d, datagram holds %d", s.Id, s.Length, len(b)+setHeaderLen))
	}
	r := &d.rec
	for n := 0; len(b) >= t.minLen; n++ {
		*r = record{}
		rest, err := t.next(b, r)
		if err != nil {
			at := off + setHeaderLen + len(s.Records) - len(b)
			d.reject(e, reasonLength, at, "record", fmt.Errorf("set %d, record %d: %w", s.Id, n, err))
			break
		}
		b = rest
		if t.options {
			e.dom.learn(r)
			continue
		}
		out = d.appendSession(out, e, r)
		if r.revPkts > 0 || r.revBytes > 0 {
			r.reverse()
			out = d.appendSession(out, e, r)
		}
	}
	return out
}

// maxSamplers bounds the sampler ids remembered per observation domain.
const maxSamplers = 256

// learn keeps what an options record says about the domain. A rate that
// names a sampler is that sampler's, and also the domain's from then on
// for records that name none (most exporters have one sampler).
func (dm *domain) learn(r *record) {
	if r.has&hasSysInit != 0 {
		dm.sysInitMs = r.sysInitMs
	}
	n := r.rate()
	if n == 0 {
		return
	}
	dm.rate = n
	if r.has&hasSampler != 0 {
		if dm.samplers == nil {
			dm.samplers = map[uint64]uint64{}
		}
		if _, ok := dm.samplers[r.samplerID]; ok || len(dm.samplers) < maxSamplers {
			dm.samplers[r.samplerID] = n
		}
	}
}
