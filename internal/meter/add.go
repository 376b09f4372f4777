package meter

import (
	"github.com/osprey-ndr/osprey/internal/decode"
)

// Add meters one decoded packet. It allocates nothing for packets of
// flows already in the table.
func (t *Table) Add(p *decode.Packet) {
	t.stats.Packets++
	if ts := p.Timestamp.UnixNano(); ts > t.now {
		t.now = ts
	}
	t.sweep(false)
	if p.IPVersion == 0 && p.NumTunnels == 0 {
		t.stats.NonIP++
		return
	}
	var parent uint64
	if t.cfg.TunnelSessions {
		parent = t.tunnels(p)
	}
	if p.IPVersion == 0 {
		t.stats.NonIP++
		return
	}
	if p.Fragment && p.FragOffset > 0 {
		t.fragment(p)
		return
	}
	var tup pktTuple
	mirror, srcLo := t.mirrorOf(p)
	tupleOf(p, &tup, mirror)
	num, f, isOrig := t.find(&tup, p, &t.lastInner)
	if p.BadChecksum {
		// As Zeek: the packet is not counted, only noted in the history.
		f.checkHistory(f.side(isOrig), histChecksum, 'C')
		return
	}
	if f.orig.pkts+f.resp.pkts == 0 {
		f.mirrorSrcLo = srcLo == isOrig // the orig's packets come from the reported mirror source
	}
	t.count(f, isOrig, p.IPLen, p.PayloadLen)
	if parent != 0 {
		f.addParent(parent)
	}
	switch p.IPProto {
	case 6:
		t.tcp(f, p, isOrig)
	case 17:
		f.checkHistory(f.side(isOrig), histData, 'D')
	}
	if p.Fragment { // first fragment: remember where the rest goes
		e := &t.frags[fragSlot(p.FragID, &tup.src)]
		*e = fragEntry{src: tup.src, dst: tup.dst, id: p.FragID, proto: p.IPProto, flow: num + 1, uid: f.uid}
	}
}

// count adds one packet's counters to the right endpoint.
func (t *Table) count(f *flow, isOrig bool, ipLen, payload int) {
	e := f.side(isOrig)
	e.pkts++
	e.ipBytes += uint64(ipLen)
	if f.key.proto != 6 {
		e.aux += uint64(payload)
	}
	f.last = t.now
}

// find returns the flow of the tuple, creating it (and ending a flow that
// the packet shows to be over) as needed, and whether the packet comes
// from the flow's originator.
func (t *Table) find(tup *pktTuple, p *decode.Packet, last *lastFlow) (uint32, *flow, bool) {
	k, srcIsA := tup.canonical()
	if last.uid != 0 && last.key.eq(&k) {
		// Packets come in trains: the flow of the previous packet is
		// found without hashing or probing.
		if f := t.flowAt(last.num); f.uid == last.uid && t.over(f, p) == "" {
			return last.num, f, srcIsA == f.origIsA
		}
	}
	num, f, isOrig := t.findSlow(&k, srcIsA, tup, p)
	*last = lastFlow{key: k, num: num, uid: f.uid}
	return num, f, isOrig
}

// lastFlow remembers the flow of the previous packet (one for inner
// flows, one for outer tunnel flows).
type lastFlow struct {
	key flowKey
	num uint32
	uid uint64
}

func (t *Table) findSlow(k *flowKey, srcIsA bool, tup *pktTuple, p *decode.Packet) (uint32, *flow, bool) {
	h := k.hash(t.seed)
	num, slot, found := t.lookup(k, h)
	if found {
		f := t.flowAt(num)
		if reason := t.over(f, p); reason == "" {
			return num, f, srcIsA == f.origIsA
		} else {
			t.end(num, reason)
			_, slot, _ = t.lookup(k, h)
		}
	}
	num, f := t.insert(k, h, slot)
	f.uid = t.uid(k)
	f.first, f.last = t.now, t.now
	f.origIsA = srcIsA
	if t.flip(tup, p) {
		f.origIsA = !srcIsA
		f.flipped = true
		f.addHistory('^')
	}
	if p.NumTunnels > 0 {
		f.tunnel = uint8(p.Tunnels[p.NumTunnels-1].Kind)
	}
	f.vlans = p.VLANs
	if p.HasEthernet {
		src, dst := 0, 1
		if f.flipped {
			src, dst = 1, 0
		}
		f.macs[src], f.macs[dst] = p.SrcMAC, p.DstMAC
	}
	return num, f, !f.flipped
}

// over reports why an existing flow ends before this packet: it went idle,
// or a new TCP connection reuses a closed one's ports (Zeek's IsReuse).
func (t *Table) over(f *flow, p *decode.Packet) string {
	if t.now-f.last > t.idle[protoClass(f.key.proto)] {
		return "idle"
	}
	if p.IPProto == 6 && p.TCPFlags&(decode.TCPFlagSYN|decode.TCPFlagACK) == decode.TCPFlagSYN {
		o, r := f.orig.state, f.resp.state
		closed := func(s uint8) bool { return s == tcpClosed || s == tcpReset }
		if (closed(o) || closed(r)) && p.Seq != f.orig.startSeq {
			return "reuse"
		}
	}
	return ""
}

// flip decides Zeek's orientation for a new flow: a flow that does not
// start with a plain SYN (TCP) or any UDP flow is turned around when only
// its source port is a likely server port, unless it goes to broadcast.
func (t *Table) flip(tup *pktTuple, p *decode.Packet) bool {
	switch p.IPProto {
	case 6:
		if p.TCPFlags&(decode.TCPFlagSYN|decode.TCPFlagACK) == decode.TCPFlagSYN {
			return false
		}
	case 17:
	default:
		return false
	}
	if !likelyServer(p.IPProto, tup.sport) || likelyServer(p.IPProto, tup.dport) {
		return false
	}
	return !(p.IPVersion == 4 && p.Dst.As4() == [4]byte{255, 255, 255, 255})
}

// tunnels meters the outer conversations of p's VXLAN/GENEVE tunnels
// (GRE and ERSPAN carry no ports and Zeek logs no connection for them) and
// returns the uid of the innermost one, the inner flow's tunnel parent.
func (t *Table) tunnels(p *decode.Packet) uint64 {
	var parent uint64
	for i := 0; i < p.NumTunnels; i++ {
		tn := &p.Tunnels[i]
		if tn.IPProto != 17 || tn.IPLen == 0 { // GRE, or a listener's payload (no outer headers seen)
			continue
		}
		tup := pktTuple{src: tn.Src.As16(), dst: tn.Dst.As16(), sport: tn.SrcPort, dport: tn.DstPort, proto: 17}
		if i > 0 {
			tup.vni = p.Tunnels[i-1].VNI
			tup.mirror, _ = t.intern(p.Tunnels[i-1].Src, p.Tunnels[i-1].Dst)
		}
		outer := &t.outerPkt // find reads only these fields of it
		outer.IPProto, outer.IPVersion, outer.Dst = 17, 4, tn.Dst
		if tn.Dst.Is6() && !tn.Dst.Is4In6() {
			outer.IPVersion = 6
		}
		_, f, isOrig := t.find(&tup, outer, &t.lastOuter)
		t.count(f, isOrig, tn.IPLen, tn.PayloadLen)
		f.checkHistory(f.side(isOrig), histData, 'D')
		if parent != 0 {
			f.addParent(parent)
		}
		parent = f.uid
	}
	return parent
}

// fragment counts a later IP fragment towards its datagram's flow.
func (t *Table) fragment(p *decode.Packet) {
	t.stats.Fragments++
	src, dst := p.Src.As16(), p.Dst.As16()
	e := &t.frags[fragSlot(p.FragID, &src)]
	if e.flow == 0 || e.id != p.FragID || e.src != src || e.dst != dst || e.proto != p.IPProto {
		t.stats.OrphanFragments++
		return
	}
	f := t.flowAt(e.flow - 1)
	if f.uid != e.uid { // the flow ended since
		t.stats.OrphanFragments++
		return
	}
	isOrig := f.origIsA == (f.key.a == src)
	t.count(f, isOrig, p.IPLen, p.PayloadLen)
}

func fragSlot(id uint32, src *[16]byte) int { return int((id ^ uint32(src[15])) & 0xff) }

func (f *flow) addParent(uid uint64) {
	switch {
	case f.parents[0] == uid || f.parents[1] == uid:
	case f.parents[0] == 0:
		f.parents[0] = uid
	case f.parents[1] == 0:
		f.parents[1] = uid
	}
}
