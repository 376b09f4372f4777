package meter

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/schema"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	cli = "10.0.0.1"
	srv = "10.0.0.2"
)

// seg is one TCP segment of a test conversation: from the client when
// c2s, with flags, relative seq/ack numbers and a payload length.
type seg struct {
	c2s      bool
	flags    string // S, A, F, R, P letters
	seq, ack uint32
	n        int
}

const iss, irs = 1000, 5000 // initial sequence numbers of client and server

func tcpPacket(s seg, at time.Duration) *decode.Packet {
	p := &decode.Packet{Timestamp: t0.Add(at), IPVersion: 4, IPProto: 6, Src: netip.MustParseAddr(cli), Dst: netip.MustParseAddr(srv),
		SrcPort: 40000, DstPort: 80, PayloadLen: s.n, IPLen: 40 + s.n, Seq: iss + s.seq, Ack: irs + s.ack, Window: 100}
	if !s.c2s {
		p.Src, p.Dst, p.SrcPort, p.DstPort = p.Dst, p.Src, p.DstPort, p.SrcPort
		p.Seq, p.Ack = irs+s.seq, iss+s.ack
	}
	for _, c := range s.flags {
		p.TCPFlags |= map[rune]uint8{'S': decode.TCPFlagSYN, 'A': decode.TCPFlagACK, 'F': decode.TCPFlagFIN, 'R': decode.TCPFlagRST, 'P': decode.TCPFlagPSH}[c]
	}
	if p.TCPFlags&decode.TCPFlagACK == 0 {
		p.Ack = 0
	}
	return p
}

// run meters packets and returns the sessions written at Flush.
func run(t testing.TB, cfg Config, packets ...*decode.Packet) []schema.Session {
	t.Helper()
	var out []schema.Session
	tab, err := New(cfg, func(s *schema.Session) { out = append(out, *s) })
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range packets {
		tab.Add(p)
	}
	tab.Flush("eof")
	return out
}

func tcpSession(t *testing.T, segs ...seg) schema.Session {
	t.Helper()
	var pkts []*decode.Packet
	for i, s := range segs {
		pkts = append(pkts, tcpPacket(s, time.Duration(i)*time.Millisecond))
	}
	out := run(t, DefaultConfig(), pkts...)
	if len(out) != 1 {
		t.Fatalf("%d sessions, want 1: %+v", len(out), out)
	}
	return out[0]
}

var (
	syn    = seg{true, "S", 0, 0, 0}
	synack = seg{false, "SA", 0, 1, 0}
	ack    = seg{true, "A", 1, 1, 0}
)

func TestConnState(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		segs                 []seg
		state, history       string
		origBytes, respBytes uint64
	}{
		{"S0 syn only", []seg{syn}, "S0", "S", 0, 0},
		{"REJ", []seg{syn, {false, "RA", 0, 1, 0}}, "REJ", "Sr", 0, 0},
		{"S1 established", []seg{syn, synack, ack, {true, "PA", 1, 1, 10}, {false, "A", 1, 11, 0}}, "S1", "ShADa", 10, 0},
		{"SF normal", []seg{syn, synack, ack, {true, "PA", 1, 1, 87}, {false, "A", 1, 88, 0}, {false, "PA", 1, 88, 9212},
			{true, "A", 88, 9213, 0}, {true, "FA", 88, 9213, 0}, {false, "FA", 9213, 89, 0}, {true, "A", 89, 9214, 0}}, "SF", "ShADadFf", 87, 9212},
		{"S2 orig closed", []seg{syn, synack, ack, {true, "FA", 1, 1, 0}}, "S2", "ShAF", 0, 0},
		{"S3 resp closed", []seg{syn, synack, ack, {false, "FA", 1, 1, 0}}, "S3", "ShAf", 0, 0},
		{"RSTO", []seg{syn, synack, ack, {true, "RA", 1, 1, 0}}, "RSTO", "ShAR", 0, 0},
		{"RSTR", []seg{syn, synack, ack, {false, "RA", 1, 1, 0}}, "RSTR", "ShAr", 0, 0},
		{"RSTOS0", []seg{syn, {true, "R", 1, 0, 0}}, "RSTOS0", "SR", 0, 0},
		{"RSTRH", []seg{{false, "SA", 0, 1, 0}, {false, "R", 1, 0, 0}}, "RSTRH", "^hr", 0, 0},
		{"SH", []seg{syn, {true, "F", 1, 0, 0}}, "SH", "SF", 0, 0},
		{"SHR", []seg{{false, "SA", 0, 1, 0}, {false, "FA", 1, 1, 0}}, "SHR", "^hf", 0, 0},
		{"OTH midstream", []seg{{true, "PA", 100, 200, 50}, {false, "A", 200, 150, 0}}, "OTH", "Da", 50, 0},
		{"retransmission", []seg{syn, synack, ack, {true, "PA", 1, 1, 10}, {true, "PA", 1, 1, 10}, {false, "A", 1, 11, 0}}, "S1", "ShADTa", 10, 0},
		{"reordered data", []seg{syn, synack, ack, {true, "PA", 11, 1, 10}, {true, "PA", 1, 1, 10}, {false, "A", 1, 21, 0}}, "S1", "ShADTa", 20, 0}, // Zeek also marks the late segment T
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tcpSession(t, tc.segs...)
			got := []any{s.ConnState, s.History, s.OrigBytes, s.RespBytes}
			want := []any{tc.state, tc.history, tc.origBytes, tc.respBytes}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("conn_state, history, orig_bytes, resp_bytes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMissedBytes(t *testing.T) {
	s := tcpSession(t, syn, synack, ack, seg{true, "PA", 1, 1, 100}, seg{true, "PA", 501, 1, 100}, seg{false, "A", 1, 601, 0})
	if s.MissedBytes != 400 || s.OrigBytes != 600 {
		t.Errorf("missed %d, orig_bytes %d; want 400 and 600", s.MissedBytes, s.OrigBytes)
	}
}

func udpPacket(src, dst string, sp, dp uint16, n int, at time.Duration) *decode.Packet {
	return &decode.Packet{Timestamp: t0.Add(at), IPVersion: 4, IPProto: 17, Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst),
		SrcPort: sp, DstPort: dp, PayloadLen: n, IPLen: 28 + n}
}

func TestUDP(t *testing.T) {
	for _, tc := range []struct {
		name        string
		pkts        []*decode.Packet
		orig        string
		state, hist string
	}{
		{"query and answer", []*decode.Packet{udpPacket(cli, srv, 5000, 53, 30, 0), udpPacket(srv, cli, 53, 5000, 80, 1)}, cli, "SF", "Dd"},
		{"answer seen first is flipped", []*decode.Packet{udpPacket(srv, cli, 53, 5000, 80, 0)}, cli, "SHR", "^d"},
		{"no flip to broadcast", []*decode.Packet{udpPacket(srv, "255.255.255.255", 67, 68, 300, 0)}, srv, "S0", "D"},
		{"both server ports: no flip", []*decode.Packet{udpPacket(srv, cli, 5353, 5353, 10, 0)}, srv, "S0", "D"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := run(t, DefaultConfig(), tc.pkts...)
			if len(out) != 1 {
				t.Fatalf("%d sessions", len(out))
			}
			s := out[0]
			if s.Orig.IP.String() != tc.orig || s.ConnState != tc.state || s.History != tc.hist {
				t.Errorf("orig %s state %s history %s; want %s %s %s", s.Orig.IP, s.ConnState, s.History, tc.orig, tc.state, tc.hist)
			}
		})
	}
}

func icmpPacket(src, dst string, typ, code uint8, at time.Duration) *decode.Packet {
	return &decode.Packet{Timestamp: t0.Add(at), IPVersion: 4, IPProto: 1, Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst),
		ICMPType: typ, ICMPCode: code, PayloadLen: 56, IPLen: 84}
}

func TestICMPEchoPairs(t *testing.T) {
	out := run(t, DefaultConfig(),
		icmpPacket(cli, srv, 8, 0, 0), icmpPacket(srv, cli, 0, 0, 1), icmpPacket(cli, srv, 8, 0, 2), icmpPacket(srv, cli, 0, 0, 3),
		icmpPacket(srv, cli, 3, 1, 4)) // host unreachable: one-way, its own session
	if len(out) != 2 {
		t.Fatalf("%d sessions, want 2", len(out))
	}
	echo := out[0]
	if echo.Orig.Port != 0 {
		echo = out[1]
	}
	for _, s := range out {
		if s.Orig.Port == 8 {
			echo = s
		}
	}
	if echo.Orig.Port != 8 || echo.Resp.Port != 0 || echo.OrigPkts != 2 || echo.RespPkts != 2 || echo.OrigBytes != 112 || echo.ConnState != "OTH" {
		t.Errorf("echo session %+v", echo)
	}
}

func TestIdleTimeoutAndInterim(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Active = 10 * time.Second
	var pkts []*decode.Packet
	for i := range 30 { // one packet a second for 30 s
		pkts = append(pkts, udpPacket(cli, srv, 5000, 9999, 10, time.Duration(i)*time.Second))
	}
	pkts = append(pkts, udpPacket(cli, srv, 5000, 9999, 10, 200*time.Second)) // after the 1 min idle timeout: a new session
	out := run(t, cfg, pkts...)
	var finals, interims int
	for _, s := range out {
		if s.Final {
			finals++
		} else {
			interims++
			if s.UID != out[len(out)-2].UID && s.UID != out[0].UID {
				t.Errorf("interim record with a foreign uid")
			}
		}
	}
	if finals != 2 || interims < 2 {
		t.Errorf("%d final and %d interim records; want 2 final (idle split) and ≥ 2 interim", finals, interims)
	}
	first := out[0]
	if first.Final || first.Seq != 0 || first.EndReason != "active" {
		t.Errorf("first record %+v: want an interim with seq 0", first)
	}
}

// TestRejectedAtOnce: a rejected attempt (REJ) is written at the reset,
// without the reset delay, so that scan detection sees it at once; a
// connection reset after it was accepted still waits for late packets.
func TestRejectedAtOnce(t *testing.T) {
	var out []schema.Session
	tab, err := New(DefaultConfig(), func(s *schema.Session) { out = append(out, *s) })
	if err != nil {
		t.Fatal(err)
	}
	tab.Add(tcpPacket(syn, 0))
	tab.Add(tcpPacket(seg{false, "RA", 0, 1, 0}, time.Millisecond))
	if len(out) != 1 || out[0].ConnState != "REJ" || out[0].History != "Sr" || out[0].EndReason != "rst" || !out[0].Final {
		t.Fatalf("after the reset: %+v, want one final REJ record ended by rst", out)
	}
	// A retried SYN is a new attempt, as before.
	tab.Add(tcpPacket(syn, time.Second))
	tab.Add(tcpPacket(seg{false, "RA", 0, 1, 0}, time.Second+time.Millisecond))
	if len(out) != 2 || out[1].UID == out[0].UID {
		t.Fatalf("retried attempt: %d records", len(out))
	}
	out = nil
	for i, sg := range []seg{syn, synack, ack, {false, "RA", 1, 1, 0}} {
		tab.Add(tcpPacket(sg, 2*time.Second+time.Duration(i)*time.Millisecond))
	}
	if len(out) != 0 {
		t.Fatalf("RSTR written before the reset delay: %+v", out)
	}
	tab.Advance(t0.Add(8 * time.Second))
	if len(out) != 1 || out[0].ConnState != "RSTR" {
		t.Fatalf("after the reset delay: %+v, want the RSTR record", out)
	}
}

func TestCapEvictsUnansweredFirst(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxFlows = 64
	var out []schema.Session
	tab, _ := New(cfg, func(s *schema.Session) { out = append(out, *s) })
	// 32 answered conversations, then a SYN flood from one source.
	for i := range 32 {
		a := udpPacket(cli, srv, uint16(1000+i), 53, 10, 0)
		b := udpPacket(srv, cli, 53, uint16(1000+i), 10, time.Millisecond)
		tab.Add(a)
		tab.Add(b)
	}
	for i := range 1000 {
		p := tcpPacket(seg{true, "S", 0, 0, 0}, 2*time.Millisecond)
		p.SrcPort = uint16(20000 + i)
		tab.Add(p)
	}
	st := tab.Stats()
	if tab.Len() > 64 {
		t.Errorf("%d flows tracked, cap 64", tab.Len())
	}
	if st.Evicted["cap_unanswered"] < 900 || st.Evicted["cap_established"] > 100 {
		t.Errorf("evictions %v: the flood should evict itself", st.Evicted)
	}
	for _, s := range out {
		if s.EndReason != "evicted" {
			t.Errorf("record %s ended %q", s.UID, s.EndReason)
		}
	}
}

func TestFlowHashSymmetric(t *testing.T) {
	a := udpPacket(cli, srv, 1234, 53, 1, 0)
	b := udpPacket(srv, cli, 53, 1234, 1, 0)
	if FlowHash(a) != FlowHash(b) {
		t.Error("FlowHash differs by direction")
	}
	c := udpPacket(cli, srv, 1235, 53, 1, 0)
	if FlowHash(a) == FlowHash(c) {
		t.Error("FlowHash ignores ports")
	}
}

func TestAddZeroAlloc(t *testing.T) {
	tab, _ := New(DefaultConfig(), func(*schema.Session) {})
	p := tcpPacket(seg{true, "PA", 1, 1, 100}, 0)
	tab.Add(p)
	if n := testing.AllocsPerRun(1000, func() { tab.Add(p) }); n != 0 {
		t.Errorf("%.1f allocations per packet of a known flow", n)
	}
}

func TestUIDStable(t *testing.T) {
	a := run(t, DefaultConfig(), udpPacket(cli, srv, 1, 2, 3, 0))
	b := run(t, DefaultConfig(), udpPacket(cli, srv, 1, 2, 3, 0))
	if a[0].UID != b[0].UID || a[0].UID[0] != 'C' {
		t.Errorf("uids %s and %s", a[0].UID, b[0].UID)
	}
}

// bytesPerFlow fills a table with n UDP flows and returns the heap growth
// per flow.
// bytesPerFlow measures the heap a table of n flows takes: one-packet
// UDP flows, or TCP flows that exchanged a SYN and SYN-ACK with options
// (each holds a side entry with both shapes).
func bytesPerFlow(tb testing.TB, n int, tcp bool) float64 {
	cfg := DefaultConfig()
	cfg.MaxFlows = n + 1
	tab, _ := New(cfg, func(*schema.Session) {})
	pkts := []*decode.Packet{udpPacket(cli, srv, 1, 53, 10, 0)}
	if tcp {
		syn, synAck := tcpPacket(seg{true, "S", 0, 0, 0}, 0), tcpPacket(seg{false, "SA", 0, 1, 0}, 1e6)
		syn.TTL, syn.Window, syn.TCPOptions = 64, 64240, []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7}
		synAck.TTL, synAck.Window, synAck.TCPOptions = 64, 65160, []byte{2, 4, 0x05, 0xb4, 4, 2, 1, 3, 3, 7}
		pkts = []*decode.Packet{syn, synAck}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		pkts[0].Src = a
		if tcp {
			pkts[1].Dst = a
		}
		for _, p := range pkts {
			tab.Add(p)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if tab.Len() != n {
		tb.Fatalf("%d flows, want %d", tab.Len(), n)
	}
	runtime.KeepAlive(tab)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// TestMemoryPerFlow holds the table to its budget at the size the budget
// is set for: the index's share depends on where its last doubling fell.
func TestMemoryPerFlow(t *testing.T) {
	for _, tcp := range []bool{false, true} {
		if b := bytesPerFlow(t, 1_000_000, tcp); b > 256 {
			t.Errorf("tcp=%v: %.0f bytes per flow, budget 256", tcp, b)
		} else {
			t.Logf("tcp=%v: %.0f bytes per flow at 1M flows", tcp, b)
		}
	}
}

func BenchmarkFlowMemory(b *testing.B) {
	for _, tcp := range []bool{false, true} {
		b.Run(map[bool]string{false: "udp", true: "tcp-handshake"}[tcp], func(b *testing.B) {
			for range b.N {
				b.ReportMetric(bytesPerFlow(b, 1_000_000, tcp), "bytes/flow")
			}
		})
	}
}

func BenchmarkAdd(b *testing.B) {
	tab, _ := New(DefaultConfig(), func(*schema.Session) {})
	// 10 000 flows, packets round-robin over them.
	pkts := make([]*decode.Packet, 10_000)
	for i := range pkts {
		p := tcpPacket(seg{true, "PA", uint32(i), 1, 100}, 0)
		p.SrcPort = uint16(1024 + i)
		pkts[i] = p
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tab.Add(pkts[i%len(pkts)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkAddVXLAN is BenchmarkAdd for mirrored packets: each carries a
// VXLAN tunnel whose outer conversation is metered too.
func BenchmarkAddVXLAN(b *testing.B) {
	for _, outer := range []bool{true, false} {
		b.Run(map[bool]string{true: "with-outer-sessions", false: "inner-only"}[outer], func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.TunnelSessions = outer
			tab, _ := New(cfg, func(*schema.Session) {})
			pkts := make([]*decode.Packet, 10_000)
			for i := range pkts {
				p := tcpPacket(seg{true, "PA", uint32(i), 1, 100}, 0)
				p.SrcPort = uint16(1024 + i)
				p.NumTunnels = 1
				p.Tunnels[0] = decode.Tunnel{Kind: decode.TunnelVXLAN, VNI: 42, Src: netip.MustParseAddr("172.31.0.10"),
					Dst: netip.MustParseAddr("172.31.0.250"), SrcPort: uint16(50000 + i%97), DstPort: 4789, IPProto: 17, IPLen: 200, PayloadLen: 172}
				pkts[i] = p
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				tab.Add(pkts[i%len(pkts)])
				i++
			}
		})
	}
}
