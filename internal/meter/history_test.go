package meter

import (
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// segs turns segments into packets one millisecond apart.
func segs(ss ...seg) []*decode.Packet {
	var pkts []*decode.Packet
	for i, s := range ss {
		pkts = append(pkts, tcpPacket(s, time.Duration(i)*time.Millisecond))
	}
	return pkts
}

func repeat(s seg, n int) []seg {
	out := make([]seg, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestHistoryZeekRules(t *testing.T) {
	data := seg{true, "PA", 1, 1, 10}
	zeroWin := func(p *decode.Packet) *decode.Packet { p.Window = 0; return p }
	for _, tc := range []struct {
		name    string
		pkts    []*decode.Packet
		history string
		state   string
	}{
		{"retransmissions scale 1, 10, 100",
			segs(append(append([]seg{syn, synack, ack, data}, repeat(data, 100)...), seg{false, "A", 1, 11, 0})...),
			"ShADTTTa", "S1"},
		{"nine retransmissions write one T",
			segs(append(append([]seg{syn, synack, ack, data}, repeat(data, 9)...), seg{false, "A", 1, 11, 0})...),
			"ShADTa", "S1"},
		{"zero windows scale", append(segs(syn, synack, ack), func() []*decode.Packet {
			var ps []*decode.Packet
			for i := range 10 {
				ps = append(ps, zeroWin(tcpPacket(seg{false, "A", 1, 1, 0}, time.Duration(10+i)*time.Millisecond)))
			}
			return ps
		}()...), "ShAaww", "S1"},
		{"RST repeated at the same sequence: one R", segs(syn, synack, ack, seg{true, "R", 1, 0, 0}, seg{true, "R", 1, 0, 0}), "ShAR", "RSTO"},
		{"RST at another sequence: R again", segs(syn, synack, ack, seg{true, "R", 1, 0, 0}, seg{true, "R", 501, 0, 0}), "ShARR", "RSTO"},
		{"FIN retransmitted: one F", segs(syn, synack, ack, seg{true, "FA", 1, 1, 0}, seg{true, "FA", 1, 1, 0}), "ShAF", "S2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := run(t, DefaultConfig(), tc.pkts...)
			if len(out) != 1 {
				t.Fatalf("%d sessions, want 1", len(out))
			}
			if diff := cmp.Diff([]string{tc.history, tc.state}, []string{out[0].History, out[0].ConnState}); diff != "" {
				t.Errorf("history, conn_state (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOrientation covers Zeek's role decisions for TCP: port heuristics
// at the first packet and the SYN/SYN-ACK reversal later.
func TestOrientation(t *testing.T) {
	mk := func(src, dst string, sp, dp uint16, flags uint8, seq, ack uint32, at time.Duration) *decode.Packet {
		return &decode.Packet{Timestamp: t0.Add(at), IPVersion: 4, IPProto: 6, Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst),
			SrcPort: sp, DstPort: dp, TCPFlags: flags, Seq: seq, Ack: ack, IPLen: 40, Window: 100}
	}
	const sa = decode.TCPFlagSYN | decode.TCPFlagACK
	for _, tc := range []struct {
		name           string
		pkts           []*decode.Packet
		origIP         string
		origPort       uint16
		history, state string
	}{
		{"SYN-ACK from a server port is flipped", []*decode.Packet{mk(srv, cli, 80, 40000, sa, 5000, 1001, 0)}, cli, 40000, "^h", "OTH"},
		{"SYN-ACK between two client ports is not", []*decode.Packet{mk(srv, cli, 40001, 40000, sa, 5000, 1001, 0)}, srv, 40001, "H", "OTH"},
		{"SYN after its SYN-ACK flips and establishes", []*decode.Packet{
			mk(srv, cli, 40001, 40000, sa, 5000, 1001, 0),
			mk(cli, srv, 40000, 40001, decode.TCPFlagSYN, 1000, 0, time.Millisecond),
			mk(cli, srv, 40000, 40001, decode.TCPFlagACK, 1001, 5001, 2*time.Millisecond)}, cli, 40000, "Hs^A", "S1"},
		{"both server ports, no SYN: towards the higher port", []*decode.Packet{
			mk(srv, cli, 443, 8080, decode.TCPFlagACK|decode.TCPFlagPSH, 5000, 1000, 0)}, cli, 8080, "^d", "OTH"},
		{"both server ports, SYN-ACK: not flipped", []*decode.Packet{mk(srv, cli, 443, 8080, sa, 5000, 1001, 0)}, srv, 443, "H", "OTH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, p := range tc.pkts {
				if p.TCPFlags&decode.TCPFlagPSH != 0 {
					tc.pkts[i].PayloadLen, tc.pkts[i].IPLen = 10, 50
				}
			}
			out := run(t, DefaultConfig(), tc.pkts...)
			if len(out) != 1 {
				t.Fatalf("%d sessions, want 1: %+v", len(out), out)
			}
			s := out[0]
			got := []any{s.Orig.IP.String(), s.Orig.Port, s.History, s.ConnState}
			if diff := cmp.Diff([]any{tc.origIP, tc.origPort, tc.history, tc.state}, got); diff != "" {
				t.Errorf("orig ip, orig port, history, conn_state (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReuse: a SYN on a closed connection's ports starts a new one, as
// Zeek's IsReuse decides, even at the same initial sequence.
func TestReuse(t *testing.T) {
	out := run(t, DefaultConfig(), segs(syn, seg{false, "RA", 0, 1, 0}, syn, seg{false, "RA", 0, 1, 0})...)
	if len(out) != 2 {
		t.Fatalf("%d sessions, want 2", len(out))
	}
	for _, s := range out {
		if s.ConnState != "REJ" || s.History != "Sr" {
			t.Errorf("session %s: %s %s, want REJ Sr", s.UID, s.ConnState, s.History)
		}
	}
	if out[0].UID == out[1].UID {
		t.Error("the two connections share a uid")
	}
}

// TestDurationStopsAtClose: the ACK of the last FIN does not lengthen a
// connection (Zeek sets last_time only until both sides closed).
func TestDurationStopsAtClose(t *testing.T) {
	pkts := segs(syn, synack, ack, seg{true, "FA", 1, 1, 0}, seg{false, "FA", 1, 2, 0})
	pkts = append(pkts, tcpPacket(seg{true, "A", 2, 2, 0}, time.Second))
	out := run(t, DefaultConfig(), pkts...)
	if len(out) != 1 {
		t.Fatalf("%d sessions", len(out))
	}
	s := out[0]
	if got := s.End.Sub(s.Start); got != 4*time.Millisecond {
		t.Errorf("duration %v, want 4ms (up to the second FIN)", got)
	}
	if s.OrigPkts != 4 || s.ConnState != "SF" {
		t.Errorf("orig_pkts %d conn_state %s, want 4 SF", s.OrigPkts, s.ConnState)
	}
}

func TestHistoryPacking(t *testing.T) {
	var f flow
	want := ""
	for i := 0; i < 30; i++ {
		c := histCodes[i%len(histCodes)]
		f.addHistory(c)
		if i < maxHistory {
			want += string(c)
		}
	}
	var buf [maxHistory]byte
	if got := string(f.historyString(&buf)); got != want {
		t.Errorf("history %q, want %q", got, want)
	}
}

func TestFlowSize(t *testing.T) {
	if n := unsafe.Sizeof(flow{}); n > 224 {
		t.Errorf("flow is %d bytes, budget 224 (+ index ≤ 256 a flow)", n)
	}
}

func TestUDPChecksumScaled(t *testing.T) {
	var pkts []*decode.Packet
	for i := range 10 {
		p := udpPacket(cli, srv, 5000, 9999, 10, time.Duration(i)*time.Millisecond)
		p.BadChecksum = true
		pkts = append(pkts, p)
	}
	out := run(t, DefaultConfig(), pkts...)
	if len(out) != 1 || out[0].History != "CC" || out[0].OrigPkts != 0 {
		t.Errorf("sessions %+v, want one with history CC and no packets counted", out)
	}
}

func TestICMPv6EchoAndIPv6(t *testing.T) {
	a, b := "2001:db8::1", "2001:db8::2"
	mk := func(src, dst string, typ uint8, at time.Duration) *decode.Packet {
		return &decode.Packet{Timestamp: t0.Add(at), IPVersion: 6, IPProto: 58, Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst),
			ICMPType: typ, PayloadLen: 16, IPLen: 64}
	}
	out := run(t, DefaultConfig(), mk(a, b, 128, 0), mk(b, a, 129, 1), mk(a, b, 135, 2), mk(b, a, 136, 3))
	if len(out) != 2 {
		t.Fatalf("%d sessions, want 2 (echo, neighbor discovery)", len(out))
	}
	for _, s := range out {
		if s.Orig.IP.String() != a || s.OrigPkts != 1 || s.RespPkts != 1 || s.Transport != "icmp" {
			t.Errorf("session %+v", s)
		}
		if (s.Orig.Port == 128 && s.Resp.Port != 129) || (s.Orig.Port == 135 && s.Resp.Port != 136) {
			t.Errorf("ports %d→%d", s.Orig.Port, s.Resp.Port)
		}
	}
}

func TestTunnelSessions(t *testing.T) {
	vx := func(p *decode.Packet, sport uint16) *decode.Packet {
		p.NumTunnels = 1
		p.Tunnels[0] = decode.Tunnel{Kind: decode.TunnelVXLAN, VNI: 123, Src: netip.MustParseAddr("192.168.56.11"), Dst: netip.MustParseAddr("192.168.56.12"),
			SrcPort: sport, DstPort: 4789, IPProto: 17, IPLen: 134, PayloadLen: 106}
		if p.Src.String() != cli {
			p.Tunnels[0].Src, p.Tunnels[0].Dst = p.Tunnels[0].Dst, p.Tunnels[0].Src
		}
		return p
	}
	out := run(t, DefaultConfig(), vx(icmpPacket(cli, srv, 8, 0, 0), 5000), vx(icmpPacket(srv, cli, 0, 0, 1), 6000))
	var inner *schema.Session
	outers := map[string]bool{}
	for i := range out {
		s := &out[i]
		if s.App == "vxlan" {
			outers[s.UID] = true
		} else {
			inner = s
		}
	}
	if len(outers) != 2 || inner == nil {
		t.Fatalf("sessions %+v: want two outer vxlan and one inner", out)
	}
	if len(inner.TunnelParents) != 2 || !outers[inner.TunnelParents[0]] || !outers[inner.TunnelParents[1]] {
		t.Errorf("tunnel parents %v, want the outer uids %v", inner.TunnelParents, outers)
	}
	want := &schema.Mirror{Kind: "vxlan", Source: netip.MustParseAddr("192.168.56.11"), VNI: 123}
	if diff := cmp.Diff(want, inner.Mirror, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("mirror (-want +got):\n%s", diff)
	}
	cfg := DefaultConfig()
	cfg.TunnelSessions = false
	if out := run(t, cfg, vx(icmpPacket(cli, srv, 8, 0, 0), 5000)); len(out) != 1 || out[0].TunnelParents != nil {
		t.Errorf("TunnelSessions off: %+v", out)
	}
}

func TestDirection(t *testing.T) {
	cfg := DefaultConfig()
	cfg.LocalNets = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct{ src, dst, want string }{
		{"10.0.0.1", "10.0.0.2", "internal"}, {"10.0.0.1", "8.8.8.8", "outbound"},
		{"8.8.8.8", "10.0.0.1", "inbound"}, {"8.8.8.8", "1.1.1.1", "external"},
	} {
		out := run(t, cfg, udpPacket(tc.src, tc.dst, 40000, 40001, 1, 0))
		if out[0].Direction != tc.want {
			t.Errorf("%s→%s: %q, want %q", tc.src, tc.dst, out[0].Direction, tc.want)
		}
	}
}

// TestFragments: a later fragment (no ports) counts towards the flow of
// its first fragment; one whose first fragment was not seen is counted
// as an orphan and metered nowhere.
func TestFragments(t *testing.T) {
	first := udpPacket(cli, srv, 5000, 9999, 1472, 0)
	first.Fragment, first.FragID, first.IPLen = true, 77, 1500
	later := &decode.Packet{Timestamp: t0.Add(time.Millisecond), IPVersion: 4, IPProto: 17, Src: first.Src, Dst: first.Dst,
		Fragment: true, FragOffset: 1480, FragID: 77, IPLen: 548, PayloadLen: 528}
	orphan := *later
	orphan.FragID = 78
	var out []schema.Session
	tab, _ := New(DefaultConfig(), func(s *schema.Session) { out = append(out, *s) })
	tab.Add(first)
	tab.Add(later)
	tab.Add(&orphan)
	st := tab.Stats()
	tab.Flush("eof")
	if len(out) != 1 || out[0].OrigPkts != 2 || out[0].OrigIPBytes != 2048 {
		t.Errorf("sessions %+v, want one with 2 packets, 2048 IP bytes", out)
	}
	if st.Fragments != 2 || st.OrphanFragments != 1 {
		t.Errorf("fragments %d orphans %d, want 2 and 1", st.Fragments, st.OrphanFragments)
	}
}

// TestAttemptDelay: an unanswered SYN retried within 5 s joins its
// connection; one retried later starts a new one (Zeek's tcp_attempt_delay).
func TestAttemptDelay(t *testing.T) {
	out := run(t, DefaultConfig(), tcpPacket(syn, 0), tcpPacket(syn, time.Second), tcpPacket(syn, 3*time.Second), tcpPacket(syn, 7*time.Second))
	if len(out) != 2 || out[0].OrigPkts != 3 || out[1].OrigPkts != 1 {
		t.Fatalf("sessions %+v, want two: 3 SYNs then 1", out)
	}
	for _, s := range out {
		if s.ConnState != "S0" || s.History != "S" {
			t.Errorf("%s %s, want S0 S", s.ConnState, s.History)
		}
	}
}
