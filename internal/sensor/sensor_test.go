package sensor

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-ndr/osprey/internal/capture"
	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

type memSink struct {
	mu sync.Mutex
	s  []schema.Session
}

func (m *memSink) WriteSessions(_ context.Context, b []schema.Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.s = append(m.s, b...)
	return nil
}
func (m *memSink) Close() error { return nil }

func vxlanPayload(t *testing.T, src, dst string, sp, dp uint16) []byte {
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true},
		&layers.VXLAN{ValidIDFlag: true, VNI: 7},
		&layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()},
		&layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)}, gopacket.Payload("data"))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestShardedUDP runs the multi-socket path under the race detector: two
// SO_REUSEPORT sockets, two meter shards, both directions of each flow
// sent from different sender sockets; every flow must come out as one
// session with both directions counted.
func TestShardedUDP(t *testing.T) {
	src, err := capture.NewUDPSource(capture.UDPConfig{Listen: []capture.UDPListen{{Addr: "127.0.0.1:0", Kind: decode.LinkVXLANPayload}}, Sockets: 2})
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	reg := prometheus.NewRegistry()
	cfg := DefaultConfig()
	cfg.Shards = 2
	cfg.Tick = 20 * time.Millisecond
	s, err := New(cfg, src, sink, true)
	if err != nil {
		t.Fatal(err)
	}
	reg.MustRegister(NewCollector(s, "udp"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	to := net.UDPAddrFromAddrPort(src.Addrs()[0])
	a, _ := net.DialUDP("udp", nil, to)
	b, _ := net.DialUDP("udp", nil, to)
	const flows = 40
	for i := range flows {
		a.Write(vxlanPayload(t, "10.0.0.1", "10.0.0.2", uint16(1000+i), 9000))
		b.Write(vxlanPayload(t, "10.0.0.2", "10.0.0.1", 9000, uint16(1000+i)))
	}
	a.Close()
	b.Close()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && src.Stats().Datagrams < 2*flows {
		time.Sleep(10 * time.Millisecond)
	}
	// Scraped while running (the race detector watches this).
	if n := testutil.ToFloat64(t, NewCollector(s, "udp"), "osprey_sensor_flows_total"); n == 0 {
		t.Error("osprey_sensor_flows_total is 0 while flows were metered")
	}
	families, err := reg.Gather()
	if err != nil {
		t.Error(err)
	}
	var apps float64
	for _, f := range families {
		if f.GetName() == "osprey_dpi_flows_total" {
			for _, m := range f.GetMetric() {
				apps += m.GetCounter().GetValue()
			}
		}
	}
	if apps == 0 { // the flows' payload is not any protocol: counted as unknown
		t.Error("osprey_dpi_flows_total counts no decided flow")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.s) != flows {
		t.Fatalf("%d sessions, want %d", len(sink.s), flows)
	}
	for _, ss := range sink.s {
		if ss.OrigPkts != 1 || ss.RespPkts != 1 || ss.Mirror == nil || ss.Mirror.VNI != 7 || ss.Mirror.Source != netip.MustParseAddr("127.0.0.1") {
			t.Errorf("session %+v", ss)
		}
		if ss.EndReason != "shutdown" {
			t.Errorf("end reason %q", ss.EndReason)
		}
	}
	if f, _ := s.Frames(); f != 2*flows {
		t.Errorf("%d frames", f)
	}
}

// TestLiveFlushesPromptly: a live sensor hands a finished session to the
// sink within its flush interval, long before a batch fills or the
// wall-clock expiry ticks: a rejected connection attempt (SYN, RST-ACK)
// reaches the sink well within a second with Tick at a minute.
func TestLiveFlushesPromptly(t *testing.T) {
	src, err := capture.NewUDPSource(capture.UDPConfig{Listen: []capture.UDPListen{{Addr: "127.0.0.1:0", Kind: decode.LinkVXLANPayload}}, Sockets: 1})
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	cfg := DefaultConfig()
	cfg.Tick = time.Minute
	s, err := New(cfg, src, sink, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(src.Addrs()[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(vxlanTCP(t, "10.0.0.1", "10.0.0.2", 40000, 445, 1000, 0, true, false))
	c.Write(vxlanTCP(t, "10.0.0.2", "10.0.0.1", 445, 40000, 0, 1001, false, true))
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		sink.mu.Lock()
		n := len(sink.s)
		var got schema.Session
		if n > 0 {
			got = sink.s[0]
		}
		sink.mu.Unlock()
		if n > 0 {
			if got.ConnState != "REJ" || got.EndReason != "rst" {
				t.Errorf("session %s ended by %s, want REJ ended by rst", got.ConnState, got.EndReason)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("session reached the sink after %v", d)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the rejected attempt never reached the sink")
}

// vxlanTCP is a VXLAN payload carrying a TCP segment: a SYN, or a RST-ACK.
func vxlanTCP(t *testing.T, src, dst string, sp, dp uint16, seq, ack uint32, syn, rst bool) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp), Seq: seq, Ack: ack, SYN: syn, RST: rst, ACK: rst, Window: 1024}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.VXLAN{ValidIDFlag: true, VNI: 7},
		&layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4},
		ip, tcp)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// blockingSink holds every write until release is closed.
type blockingSink struct {
	memSink
	release chan struct{}
}

func (b *blockingSink) WriteSessions(ctx context.Context, s []schema.Session) error {
	<-b.release
	return b.memSink.WriteSessions(ctx, s)
}

// TestLiveSinkStall: while the sink is stuck (a store commit, an fsync),
// a live sensor goes on reading and metering — its batches wait in the
// queue — and every session reaches the sink once it moves again.
func TestLiveSinkStall(t *testing.T) {
	src, err := capture.NewUDPSource(capture.UDPConfig{Listen: []capture.UDPListen{{Addr: "127.0.0.1:0", Kind: decode.LinkVXLANPayload}}, Sockets: 1})
	if err != nil {
		t.Fatal(err)
	}
	sink := &blockingSink{release: make(chan struct{})}
	cfg := DefaultConfig()
	cfg.BatchSize = 4
	s, err := New(cfg, src, sink, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(src.Addrs()[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const attempts = 40 // ten batches
	for i := range attempts {
		c.Write(vxlanTCP(t, "10.0.0.1", "10.0.0.2", uint16(40000+i), 445, 1000, 0, true, false))
		c.Write(vxlanTCP(t, "10.0.0.2", "10.0.0.1", 445, uint16(40000+i), 0, 1001, false, true))
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && s.sessions.Load() < attempts {
		time.Sleep(5 * time.Millisecond)
	}
	if n := s.sessions.Load(); n != attempts {
		t.Fatalf("%d sessions metered while the sink was stuck, want %d", n, attempts)
	}
	close(sink.release)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(sink.s); n != attempts {
		t.Errorf("%d sessions reached the sink, want %d", n, attempts)
	}
}
