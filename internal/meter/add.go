package meter

import (
	"time"

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
		f.scaledHistory(f.side(isOrig), scaledChecksum)
		return
	}
	if f.orig.pkts+f.resp.pkts == 0 {
		if srcLo == isOrig { // the orig's packets come from the reported mirror source
			f.set(flowMirrorSrcLo)
		}
	}
	t.count(f, isOrig, p.IPLen, p.PayloadLen)
	if p.IPProto == 6 && p.TCPFlags&decode.TCPFlagSYN != 0 {
		t.noteSYN(num, p)
	}
	t.inspect(num, f, p, isOrig)
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
		*e = fragEntry{src: tup.src, dst: tup.dst, id: p.FragID, proto: p.IPProto, flow: num + 1, first: f.first}
	} else if p.IPProto == 6 && p.TCPFlags&decode.TCPFlagRST != 0 && f.rejected() {
		// A rejected attempt is over at the reset: written now rather than
		// after the 5 s reset delay, so that scan detection sees it at once.
		t.end(num, "rst")
	}
}

// rejected reports Zeek's REJ: the responder reset an attempt it never
// accepted. Unlike other closed connections it has no late packets to
// wait for: a retried SYN starts a new connection anyway (over).
func (f *flow) rejected() bool {
	return f.key.proto == 6 && f.resp.state == tcpReset && (f.orig.state == tcpSynSent || f.orig.state == tcpSynAckSent)
}

// count adds one packet's counters to the right endpoint.
func (t *Table) count(f *flow, isOrig bool, ipLen, payload int) {
	e := f.side(isOrig)
	e.pkts++
	e.ipBytes += uint64(ipLen)
	if f.key.proto != 6 {
		e.aux += uint64(payload)
	} else if f.orig.closed() && f.resp.closed() {
		// Zeek stops a TCP connection's clock once both sides closed:
		// the last ACK after the FINs does not lengthen it.
		return
	}
	f.last = t.now
}

// find returns the flow of the tuple, creating it (and ending a flow that
// the packet shows to be over) as needed, and whether the packet comes
// from the flow's originator.
func (t *Table) find(tup *pktTuple, p *decode.Packet, last *lastFlow) (uint32, *flow, bool) {
	k, srcIsA := tup.canonical()
	if last.valid && last.key.eq(&k) {
		// Packets come in trains: the flow of the previous packet is
		// found without hashing or probing. A live slot with the same key
		// and start is still that flow.
		if f := t.flowAt(last.num); f.live() && f.first == last.first && f.key.eq(&k) && t.over(f, p) == "" {
			return last.num, f, srcIsA == f.origIsA()
		}
	}
	num, f, isOrig := t.findSlow(&k, srcIsA, tup, p)
	*last = lastFlow{key: k, num: num, first: f.first, valid: true}
	return num, f, isOrig
}

// lastFlow remembers the flow of the previous packet (one for inner
// flows, one for outer tunnel flows).
type lastFlow struct {
	key   flowKey
	num   uint32
	first int64
	valid bool
	// uid is the flow's uid once asked for (0 until then), so that tunnel
	// parents cost no hashing per packet and inner flows none at all.
	uid uint64
}

func (t *Table) findSlow(k *flowKey, srcIsA bool, tup *pktTuple, p *decode.Packet) (uint32, *flow, bool) {
	h := k.hash(t.seed)
	num, slot, found := t.lookup(k, h)
	if found {
		f := t.flowAt(num)
		if reason := t.over(f, p); reason == "" {
			return num, f, srcIsA == f.origIsA()
		} else {
			t.end(num, reason)
			_, slot, _ = t.lookup(k, h)
		}
	}
	num, f := t.insert(k, h, slot)
	f.first, f.last = t.now, t.now
	if srcIsA {
		f.set(flowOrigIsA)
	}
	if t.flip(tup, p) {
		f.toggle(flowOrigIsA)
		f.set(flowFlipped)
		f.addHistory('^')
	}
	if p.NumTunnels > 0 {
		f.tunnel = uint8(p.Tunnels[p.NumTunnels-1].Kind)
	}
	f.vlans = p.VLANs
	if p.HasEthernet {
		src, dst := 0, 1
		if f.flipped() {
			src, dst = 1, 0
		}
		f.macs[src], f.macs[dst] = p.SrcMAC, p.DstMAC
	}
	return num, f, !f.flipped()
}

// over reports why an existing flow ends before this packet: it went idle,
// or a TCP SYN starts a new connection on its ports (Zeek's IsReuse: a SYN
// at another initial sequence, or any SYN once a side has closed).
func (t *Table) over(f *flow, p *decode.Packet) string {
	if t.now-f.last > t.idle[protoClass(f.key.proto)] || attemptOver(f, t.now) {
		return "idle"
	}
	if p.IPProto != 6 || p.TCPFlags&decode.TCPFlagSYN == 0 {
		return ""
	}
	connOrig := &f.orig
	if p.TCPFlags&decode.TCPFlagACK != 0 {
		if f.orig.state != tcpInactive {
			return "" // a SYN-ACK reuses only a half-seen connection
		}
		connOrig = &f.resp
	}
	if !f.orig.closed() && !f.resp.closed() {
		if p.Seq == connOrig.startSeq {
			return ""
		}
		if p.TCPFlags&decode.TCPFlagACK == 0 && connOrig.state == tcpSynAckSent &&
			f.resp.state == tcpInactive && p.Seq == f.resp.startSeq {
			return "" // SYN after its SYN-ACK: flipped in tcp, not a new connection
		}
	}
	return "reuse"
}

// attemptDelay is Zeek's tcp_attempt_delay: a connection attempt nobody
// answered is over this long after its first SYN, so a SYN retried later
// starts a new connection, as in Zeek's conn.log.
const attemptDelay = int64(5 * time.Second)

func attemptOver(f *flow, now int64) bool {
	return f.key.proto == 6 && now-f.first >= attemptDelay && f.resp.state == tcpInactive &&
		(f.orig.state == tcpSynSent || f.orig.state == tcpSynAckSent)
}

// closed approximates Zeek's did_close: the endpoint sent a FIN or RST.
func (e *endpoint) closed() bool { return e.state == tcpClosed || e.state == tcpReset }

// flip decides Zeek's orientation for a new flow (WantConnection of the
// TCP and UDP analyzers): a flow that does not start with a plain SYN
// (TCP) or any UDP flow is turned around when its source port is a likely
// server port and its destination port is not; when both are, TCP flips
// only a packet without SYN going to a higher port. UDP to broadcast is
// never flipped.
func (t *Table) flip(tup *pktTuple, p *decode.Packet) bool {
	switch p.IPProto {
	case 6:
		fl := p.TCPFlags & (decode.TCPFlagSYN | decode.TCPFlagACK)
		if fl == decode.TCPFlagSYN || !likelyServer(6, tup.sport) {
			return false
		}
		if likelyServer(6, tup.dport) {
			return fl&decode.TCPFlagSYN == 0 && tup.sport < tup.dport
		}
		return true
	case 17:
		if !likelyServer(17, tup.sport) || likelyServer(17, tup.dport) {
			return false
		}
		return !(p.IPVersion == 4 && p.Dst.As4() == [4]byte{255, 255, 255, 255})
	}
	return false
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
		if t.lastOuter.uid == 0 {
			t.lastOuter.uid = t.uidOf(f)
		}
		parent = t.lastOuter.uid
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
	if !f.live() || f.first != e.first || f.key.proto != e.proto { // the flow ended since
		t.stats.OrphanFragments++
		return
	}
	isOrig := f.origIsA() == (f.key.a == src)
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
