package meter

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"regexp"
	"time"

	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// uidOf derives a flow's id from the sensor, the key and its first packet
// time, so that reading the same capture twice gives the same ids. It is
// computed, not stored, to keep 8 bytes out of every flow.
func (t *Table) uidOf(f *flow) uint64 {
	h := f.key.hash(0) ^ uint64(f.first)*0x9e3779b97f4a7c15
	for i := 0; i < len(t.cfg.Sensor); i++ {
		h = mix(h, uint64(t.cfg.Sensor[i]))
	}
	if h == 0 {
		h = 1
	}
	return h
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// UID formats a flow id as Zeek does: "C" and base62.
func UID(id uint64) string {
	var b [MaxUID]byte
	return string(AppendUID(b[:0], id))
}

// MaxUID is the length of the longest UID: "C" and 11 digits.
const MaxUID = 12

// AppendUID appends UID(id) to dst.
func AppendUID(dst []byte, id uint64) []byte {
	var b [MaxUID]byte
	i := len(b)
	for id > 0 || i == len(b) {
		i--
		b[i] = base62[id%62]
		id /= 62
	}
	i--
	b[i] = 'C'
	return append(dst, b[i:]...)
}

// write hands the flow's record to the emitter.
func (t *Table) write(num uint32, f *flow, reason string, final bool) {
	s := &t.sess
	*s = schema.Session{
		Version: schema.SessionVersion, UID: UID(t.uidOf(f)), Seq: uint32(f.nextSeq), Final: final, EndReason: reason,
		Tenant: t.cfg.Tenant, Sensor: t.cfg.Sensor, Source: t.cfg.Source,
		Start: time.Unix(0, f.first).UTC(), End: time.Unix(0, f.last).UTC(),
		Proto: f.key.proto, Transport: schema.Transport(f.key.proto),
	}
	f.nextSeq++
	oa, op, ra, rp := f.key.a, f.key.pa, f.key.b, f.key.pb
	if !f.origIsA() {
		oa, op, ra, rp = ra, rp, oa, op
	}
	s.Orig = schema.Endpoint{IP: unmap(oa), Port: op}
	s.Resp = schema.Endpoint{IP: unmap(ra), Port: rp}
	if f.macs[0] != ([6]byte{}) || f.macs[1] != ([6]byte{}) {
		s.Orig.MAC, s.Resp.MAC = schema.MAC(f.macs[0]), schema.MAC(f.macs[1])
	}
	side := t.sides.get(num)
	if side != nil {
		t.sides.writeFingerprints(side, &s.Orig, &s.Resp)
	}
	o, r := &f.orig, &f.resp
	s.OrigPkts, s.RespPkts = o.pkts, r.pkts
	s.OrigIPBytes, s.RespIPBytes = o.ipBytes, r.ipBytes
	if f.key.proto == 6 {
		s.OrigBytes, s.RespBytes = o.size(r), r.size(o)
		s.MissedBytes = o.missedBytes() + r.missedBytes()
	} else {
		s.OrigBytes, s.RespBytes = o.aux, r.aux
	}
	var hb [maxHistory]byte
	hist := f.historyString(&hb)
	s.History = string(hist)
	s.ConnState = connState(f, hist)
	s.Direction = t.direction(s.Orig.IP, s.Resp.IP)
	if f.vlans[0] != 0 {
		s.VLANs = []uint16{f.vlans[0]}
		if f.vlans[1] != 0 {
			s.VLANs = append(s.VLANs, f.vlans[1])
		}
	}
	if f.key.mirror != 0 {
		pair := t.mirrors[f.key.mirror]
		src := pair.hi
		if f.bits&flowMirrorSrcLo != 0 {
			src = pair.lo
		}
		s.Mirror = &schema.Mirror{Kind: decode.TunnelKind(f.tunnel).String(), Source: src, VNI: f.key.vni}
	}
	for _, p := range f.parents {
		if p != 0 {
			s.TunnelParents = append(s.TunnelParents, UID(p))
		}
	}
	if side != nil {
		if side.undecided() != 0 {
			t.decided(f, side)
		}
		s.App = t.sides.apps.name(side.app)
		if r := side.handle &^ decidedBit; r != 0 {
			s.L7 = t.sides.results.at(r)
		}
	}
	if f.key.proto == 17 && (t.isTunnelPort(op, rp)) {
		s.App = tunnelApp(rp)
	}
	s.CommunityID = CommunityID(s, t.cfg.CommunityIDSeed)
	t.stats.Sessions++
	if !final {
		t.stats.Interim++
	}
	t.emit(s)
}

func (t *Table) isTunnelPort(_, rp uint16) bool { return rp == 4789 || rp == 6081 }

func tunnelApp(port uint16) string {
	if port == 6081 {
		return "geneve"
	}
	return "vxlan"
}

func unmap(b [16]byte) netip.Addr { return netip.AddrFrom16(b).Unmap() }

func (t *Table) direction(orig, resp netip.Addr) string {
	if len(t.localNets) == 0 {
		return ""
	}
	lo, lr := false, false
	for _, p := range t.localNets {
		lo = lo || p.Contains(orig)
		lr = lr || p.Contains(resp)
	}
	switch {
	case lo && lr:
		return "internal"
	case lo:
		return "outbound"
	case lr:
		return "inbound"
	}
	return "external"
}

// rstos0 is the history pattern Zeek's conn_state uses for RSTOS0.
var rstos0 = regexp.MustCompile(`^\^?S[^HAFGIQ]*R.*$`)

// connState is Zeek's conn_state() from base/protocols/conn/main.zeek.
func connState(f *flow, history []byte) string {
	switch f.key.proto {
	case 6:
		os, rs := f.orig.state, f.resp.state
		oInactive := os == tcpInactive || os == tcpPartial
		rInactive := rs == tcpInactive || rs == tcpPartial
		switch {
		case rs == tcpReset:
			if os == tcpSynSent || os == tcpSynAckSent ||
				(os == tcpReset && f.orig.size(&f.resp) == 0 && f.resp.size(&f.orig) == 0) {
				return "REJ"
			}
			if oInactive {
				return "RSTRH"
			}
			return "RSTR"
		case os == tcpReset:
			if rInactive {
				if rstos0.Match(history) {
					return "RSTOS0"
				}
				return "OTH"
			}
			return "RSTO"
		case rs == tcpClosed && os == tcpClosed:
			return "SF"
		case os == tcpClosed:
			if rInactive {
				return "SH"
			}
			return "S2"
		case rs == tcpClosed:
			if oInactive {
				return "SHR"
			}
			return "S3"
		case os == tcpSynSent && rs == tcpInactive:
			return "S0"
		case os == tcpEstablished && rs == tcpEstablished:
			return "S1"
		}
		return "OTH"
	case 17:
		oa, ra := f.orig.pkts > 0, f.resp.pkts > 0
		switch {
		case oa && ra:
			return "SF"
		case oa:
			return "S0"
		case ra:
			return "SHR"
		}
	}
	return "OTH"
}

// CommunityID is Community ID v1 of the session's addresses, ports and
// protocol with the given seed; collectors use it too
// (https://github.com/corelight/community-id-spec).
func CommunityID(s *schema.Session, seed uint16) string {
	var b [CommunityIDLen]byte
	return string(AppendCommunityID(b[:0], s, seed))
}

// CommunityIDLen is the length of a Community ID: "1:" and the base64 of
// a SHA-1 sum.
const CommunityIDLen = 2 + 28

// AppendCommunityID appends CommunityID(s, seed) to dst.
func AppendCommunityID(dst []byte, s *schema.Session, seed uint16) []byte {
	sa, da, sp, dp := s.Orig.IP, s.Resp.IP, s.Orig.Port, s.Resp.Port
	switch s.Proto {
	case 6, 17, 132, 1, 58:
	default:
		sp, dp = 0, 0
	}
	oneWay := false
	if s.Proto == 1 || s.Proto == 58 {
		var cp uint8
		cp, oneWay = ICMPCounterpart(s.Proto == 58, uint8(sp), uint8(dp))
		if oneWay {
			cp = uint8(dp) // one-way: the port is the code
		}
		dp = uint16(cp)
	}
	if !oneWay {
		if c := sa.Compare(da); c > 0 || (c == 0 && sp > dp) {
			sa, da, sp, dp = da, sa, dp, sp
		}
	}
	var buf [2 + 16 + 16 + 4 + 4]byte
	binary.BigEndian.PutUint16(buf[:], seed)
	n := 2
	n += copy(buf[n:], sa.AsSlice())
	n += copy(buf[n:], da.AsSlice())
	buf[n] = s.Proto
	n += 2
	binary.BigEndian.PutUint16(buf[n:], sp)
	binary.BigEndian.PutUint16(buf[n+2:], dp)
	n += 4
	sum := sha1.Sum(buf[:n])
	return base64.StdEncoding.AppendEncode(append(dst, '1', ':'), sum[:])
}
