package netflow

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

var (
	exporterA = netip.MustParseAddrPort("192.0.2.10:50000")
	exporterB = netip.MustParseAddrPort("192.0.2.11:50000")
	arrival   = time.Unix(exportSec, 5e8)
)

func decodeOne(t *testing.T, d *Decoder, from netip.AddrPort, p []byte) []schema.Session {
	t.Helper()
	return d.DecodePacket(from, p, arrival, nil)
}

func TestNetFlow5(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval uint16
		rate     uint64
	}{
		{"unsampled", 0, 1},
		{"1 in 100", 100, 100},
		{"mode bits", 0x4000 | 100, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeOne(t, NewDecoder(DefaultConfig(), nil), exporterA, v5Datagram(2, tc.interval))
			if len(got) != 2 {
				t.Fatalf("%d sessions", len(got))
			}
			s := got[1]
			// Exported at uptime 100 s: first 40 s and last 90 s are 60 and
			// 10 s before the export time.
			if want := time.Unix(exportSec-60, 0).UTC(); !s.Start.Equal(want) {
				t.Errorf("start %v, want %v", s.Start, want)
			}
			if want := time.Unix(exportSec-10, 0).UTC(); !s.End.Equal(want) {
				t.Errorf("end %v, want %v", s.End, want)
			}
			if s.OrigPkts != 10*tc.rate || s.OrigIPBytes != 1500*tc.rate || s.Flow.SamplingRate != tc.rate {
				t.Errorf("pkts %d bytes %d rate %d", s.OrigPkts, s.OrigIPBytes, s.Flow.SamplingRate)
			}
			if s.Orig.Port != 1001 || s.Resp.Port != 80 || s.Source != "netflow5" || s.Flow.Domain != 0x0102 ||
				s.Flow.InIf != 3 || s.Flow.OutIf != 4 || s.Flow.TCPFlags != 0x1b || s.Flow.Exporter != exporterA.Addr() {
				t.Errorf("session %+v flow %+v", s, *s.Flow)
			}
			if got[0].UID == got[1].UID {
				t.Error("two records share a uid")
			}
		})
	}
}

// TestSamplingOptions: a v9 exporter's rate is unknown until its options
// record arrives; then records of its sampler are scaled, and another
// exporter with the same template ids is not affected.
func TestSamplingOptions(t *testing.T) {
	d := NewDecoder(DefaultConfig(), nil)
	tmpl := set(0, templateBody(256, v9Fields))
	src := netip.MustParseAddr("10.0.0.1")
	before := decodeOne(t, d, exporterA, v9Datagram(1, tmpl, set(256, v9Record(src, 1, 7))))
	optT, optD := v9SamplerOptions(7, 50)
	after := decodeOne(t, d, exporterA, v9Datagram(1, optT, optD, set(256, v9Record(src, 2, 7))))
	other := decodeOne(t, d, exporterB, v9Datagram(1, tmpl, set(256, v9Record(src, 3, 7))))
	otherDomain := decodeOne(t, d, exporterA, v9Datagram(2, tmpl, set(256, v9Record(src, 4, 7))))
	for _, tc := range []struct {
		name       string
		got        []schema.Session
		pkts, rate uint64
	}{
		{"before the options record", before, 2, 0},
		{"after it", after, 100, 50},
		{"another exporter", other, 2, 0},
		{"another domain", otherDomain, 2, 0},
	} {
		if len(tc.got) != 1 {
			t.Fatalf("%s: %d sessions", tc.name, len(tc.got))
		}
		s := tc.got[0]
		if s.OrigPkts != tc.pkts || s.OrigIPBytes != 60*tc.pkts || s.Flow.SamplingRate != tc.rate {
			t.Errorf("%s: %d pkts %d bytes rate %d, want %d pkts rate %d", tc.name, s.OrigPkts, s.OrigIPBytes, s.Flow.SamplingRate, tc.pkts, tc.rate)
		}
		// Uptime 95–99 s of 100 s at export.
		if !s.Start.Equal(time.Unix(exportSec-5, 0)) || !s.End.Equal(time.Unix(exportSec-1, 0)) || s.Flow.TCPFlags != 0x12 {
			t.Errorf("%s: %v–%v flags %#x", tc.name, s.Start, s.End, s.Flow.TCPFlags)
		}
	}
	cfg := DefaultConfig()
	cfg.DefaultSamplingRate = 10
	s := decodeOne(t, NewDecoder(cfg, nil), exporterA, v9Datagram(1, tmpl, set(256, v9Record(src, 1, 7))))
	if s[0].OrigPkts != 20 || s[0].Flow.SamplingRate != 10 {
		t.Errorf("default rate: %d pkts rate %d", s[0].OrigPkts, s[0].Flow.SamplingRate)
	}
}

func TestIPFIX(t *testing.T) {
	d := NewDecoder(DefaultConfig(), nil)
	p := ipfixDatagram(9, set(2, templateBody(300, ipfixFields)), set(300, append(ipfixRecord(1), ipfixRecord(2)...)))
	got := decodeOne(t, d, exporterA, p)
	if len(got) != 2 {
		t.Fatalf("%d sessions", len(got))
	}
	s := got[0]
	want := schema.Session{
		Version: 1, Final: true, EndReason: "export", Source: "ipfix",
		Start: time.UnixMilli(exportSec*1000 - 5000).UTC(), End: time.UnixMilli(exportSec*1000 - 1000).UTC(),
		Orig:  schema.Endpoint{IP: netip.MustParseAddr("2001:db8::1"), Port: 1, MAC: "02:00:00:00:00:01"},
		Resp:  schema.Endpoint{IP: netip.MustParseAddr("2001:db8::2"), Port: 53, MAC: "02:00:00:00:00:02"},
		Proto: 17, Transport: "udp", ConnState: "OTH", OrigPkts: 100, OrigBytes: 8000, OrigIPBytes: 8000, VLANs: []uint16{42},
	}
	want.Flow = &schema.Flow{Direction: "egress", Exporter: exporterA.Addr(), Domain: 9, SamplingRate: 100}
	s.UID, s.CommunityID = "", ""
	if diff := cmp.Diff(want, s, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("session (-want +got):\n%s", diff)
	}
}

func TestSFlow(t *testing.T) {
	got := decodeOne(t, NewDecoder(DefaultConfig(), nil), exporterA, sflowDatagram(2))
	if len(got) != 2 {
		t.Fatalf("%d sessions", len(got))
	}
	s := got[0]
	if s.Source != "sflow5" || s.OrigPkts != 512 || s.OrigIPBytes != 60*512 || s.Flow.SamplingRate != 512 ||
		!s.Start.Equal(arrival) || !s.End.Equal(arrival) || s.Orig.Port != 1234 || s.Resp.Port != 22 || s.Flow.TCPFlags != 0x02 ||
		s.Orig.MAC != "02:00:00:00:00:01" || len(s.VLANs) != 1 || s.VLANs[0] != 7 || s.Flow.InIf != 3 || s.Flow.OutIf != 4 ||
		s.Flow.Exporter != netip.MustParseAddr("192.0.2.99") {
		t.Errorf("session %+v flow %+v", s, *s.Flow)
	}
	if got[0].UID == got[1].UID {
		t.Error("two samples share a uid")
	}
}

// TestUIDStable: the same datagram gives the same ids, wherever and
// whenever it is decoded.
func TestUIDStable(t *testing.T) {
	for name, p := range map[string][]byte{"v5": v5Datagram(3, 0), "sflow": sflowDatagram(2)} {
		a := NewDecoder(DefaultConfig(), nil).DecodePacket(exporterA, p, arrival, nil)
		b := NewDecoder(DefaultConfig(), nil).DecodePacket(exporterA, p, arrival.Add(time.Hour), nil)
		for i := range a {
			if a[i].UID != b[i].UID || a[i].CommunityID != b[i].CommunityID {
				t.Errorf("%s record %d: uid %s then %s", name, i, a[i].UID, b[i].UID)
			}
		}
	}
}

// TestTemplateLaterInDatagram: a data set whose template comes later in
// the same datagram is decoded, as tshark does; the template is known by
// the time the data sets are read.
func TestTemplateLaterInDatagram(t *testing.T) {
	rj := &rejects{}
	p := v9Datagram(1, set(256, v9Record(netip.MustParseAddr("10.0.0.1"), 1, 0)), set(0, templateBody(256, v9Fields)))
	if got := NewDecoder(DefaultConfig(), rj).DecodePacket(exporterA, p, arrival, nil); len(got) != 1 || len(rj.all()) != 0 {
		t.Errorf("%d sessions, rejects %v", len(got), rj.all())
	}
}

func TestBadInput(t *testing.T) {
	tmpl := set(0, templateBody(256, v9Fields))
	data := set(256, v9Record(netip.MustParseAddr("10.0.0.1"), 1, 0))
	v5 := v5Datagram(2, 0)
	ipfix := ipfixDatagram(1, set(2, templateBody(300, ipfixFields)), set(300, ipfixRecord(1)))
	badLen := append([]byte(nil), ipfix...)
	be.PutUint16(badLen[2:], uint16(len(ipfix)+10))
	for _, tc := range []struct {
		name     string
		p        []byte
		sessions int
		field    string
		offset   int64
		unknown  bool // template not yet known
	}{
		{"empty", nil, 0, "version", 0, false},
		{"unknown version", []byte{0, 7, 0, 0, 0, 0}, 0, "version", 0, false},
		{"v5 short header", v5[:20], 0, "header", 0, false},
		{"v5 count beyond the datagram", v5[:len(v5)-1], 1, "count", 24 + 48, false},
		{"v9 short header", v9Datagram(1)[:19], 0, "header", 0, false},
		{"v9 template not yet known", v9Datagram(1, data), 0, "set id", 20, true},
		{"v9 address of 3 bytes", v9Datagram(1, set(0, templateBody(256, []field{{8, 3}, {1, 4}}))), 0, "template 256", 20, false},
		{"v9 set longer than the datagram", v9Datagram(1, tmpl, data[:len(data)-2]), 0, "set length", int64(20 + len(tmpl) + 2), false},
		{"IPFIX length beyond the datagram", badLen, 0, "length", 2, false},
		{"IPFIX variable field overruns", ipfixDatagram(1, set(2, templateBody(301, []field{{8, 4}, {82, 0xffff}})), set(301, []byte{10, 0, 0, 1, 200})), 0, "record", 16 + 16 + 4, false},
		{"sFlow truncated", sflowDatagram(2)[:150], 1, "samples", -1, false},
		{"sFlow expanded sample of 2^32-1 records", expandedFlowSample(0xffffffff), 0, "flow records", 28 + 8 + 40, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rj := &rejects{}
			d := NewDecoder(DefaultConfig(), rj)
			got := d.DecodePacket(exporterA, tc.p, arrival, nil)
			if len(got) != tc.sessions {
				t.Errorf("%d sessions, want %d", len(got), tc.sessions)
			}
			bad := rj.all()
			if len(bad) != 1 {
				t.Fatalf("%d rejects: %v", len(bad), bad)
			}
			b := bad[0]
			if b.Kind != "netflow" || b.Source != "udp://192.0.2.10:50000" || b.Field != tc.field || (tc.offset >= 0 && b.Offset != tc.offset) || b.Err == nil {
				t.Errorf("reject %q (kind %s source %s field %q offset %d), want field %q offset %d", b.Error(), b.Kind, b.Source, b.Field, b.Offset, tc.field, tc.offset)
			}
			if errors.Is(b.Err, ErrTemplateUnknown) != tc.unknown {
				t.Errorf("template unknown: %v, want %v", errors.Is(b.Err, ErrTemplateUnknown), tc.unknown)
			}
		})
	}
}
