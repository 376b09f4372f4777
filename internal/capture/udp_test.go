package capture

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"

	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

// tunnelled builds a VXLAN or GENEVE payload (what the UDP socket
// receives) carrying Ethernet/IPv4/UDP with the given text (at least 14
// bytes, or the Ethernet frame is padded after it).
func tunnelled(t testing.TB, kind decode.LinkType, vni uint32, text string) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 53}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	var tunnel gopacket.SerializableLayer = &layers.VXLAN{ValidIDFlag: true, VNI: vni}
	if kind == decode.LinkGENEVEPayload {
		tunnel = &layers.Geneve{VNI: vni, Protocol: layers.EthernetTypeTransparentEthernetBridging}
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, tunnel, eth, ip, udp, gopacket.Payload(text)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type udpSeen struct {
	kind     decode.LinkType
	src, dst netip.AddrPort
	count    int
}

// runUDP runs src until stop is closed, recording every datagram by its
// payload text (the last bytes of the inner frame).
func runUDP(t *testing.T, src *UDPSource, textLen int) (seen map[string]*udpSeen, wait func() error, mu *sync.Mutex, cancel func()) {
	seen = map[string]*udpSeen{}
	mu = &sync.Mutex{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(stream int, f *Frame) error {
			if f.CaptureLen != len(f.Data) || f.WireLen != len(f.Data) || f.Timestamp.IsZero() ||
				time.Since(f.Timestamp) > time.Minute || len(f.Data) < textLen {
				return fmt.Errorf("stream %d: bad frame %+v", stream, f)
			}
			if got := src.Addr(stream).Port(); f.OuterDst.Port() != got {
				return fmt.Errorf("stream %d: outer destination %v, socket %v", stream, f.OuterDst, got)
			}
			text := string(f.Data[len(f.Data)-textLen:])
			mu.Lock()
			defer mu.Unlock()
			s := seen[text]
			if s == nil {
				s = &udpSeen{kind: f.LinkType, src: f.OuterSrc, dst: f.OuterDst}
				seen[text] = s
			}
			s.count++
			return nil
		})
	}()
	return seen, func() error { return <-done }, mu, cancel
}

func waitDatagrams(src *UDPSource, n uint64) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if st := src.Stats(); st.Datagrams+st.KernelDrops >= n {
			return
		}
	}
}

// TestUDPSource sends VXLAN and GENEVE datagrams from several sockets to
// a listener with two SO_REUSEPORT sockets per address; every datagram
// must arrive exactly once, with its sender as outer source, the
// listener's address as outer destination and the listen's kind.
func TestUDPSource(t *testing.T) {
	src, err := NewUDPSource(UDPConfig{
		Listen: []UDPListen{
			{"127.0.0.1:0", decode.LinkVXLANPayload},
			{"127.0.0.1:0", decode.LinkGENEVEPayload},
		},
		Sockets: 2, ReceiveBuffer: 4 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	addrs := src.Addrs()
	if len(addrs) != 4 || src.Streams() != 4 || addrs[0] != addrs[1] || addrs[2] != addrs[3] || addrs[0] == addrs[2] {
		t.Fatalf("sockets %v: want two on each of two ports", addrs)
	}
	const textLen = 24
	seen, wait, mu, cancel := runUDP(t, src, textLen)
	defer cancel()

	const perSender, nsenders = 100, 4
	want := map[string]*udpSeen{}
	for s := range nsenders {
		for _, to := range []struct {
			addr netip.AddrPort
			kind decode.LinkType
		}{{addrs[0], decode.LinkVXLANPayload}, {addrs[2], decode.LinkGENEVEPayload}} {
			c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(to.addr))
			if err != nil {
				t.Fatal(err)
			}
			from := c.LocalAddr().(*net.UDPAddr).AddrPort()
			for i := range perSender {
				text := fmt.Sprintf("%-24s", fmt.Sprintf("k%d s%d d%03d", to.kind, s, i))
				want[text] = &udpSeen{kind: to.kind, src: from, dst: to.addr, count: 1}
				if _, err := c.Write(tunnelled(t, to.kind, uint32(s), text)); err != nil {
					t.Fatal(err)
				}
				if i%20 == 0 {
					time.Sleep(time.Millisecond) // let the reader keep up
				}
			}
			c.Close()
		}
	}
	waitDatagrams(src, uint64(len(want)))
	cancel()
	if err := wait(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, seen, cmp.AllowUnexported(udpSeen{}), cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("datagrams differ (-sent +received), stats %+v:\n%s", src.Stats(), diff)
	}
	st := src.Stats()
	if st.Datagrams != uint64(len(want)) || st.KernelDrops != 0 || st.ReadErrors != 0 {
		t.Errorf("stats %+v, want %d datagrams", st, len(want))
	}
	var perSocket uint64
	for _, ss := range src.SocketStats() {
		perSocket += ss.Datagrams
	}
	if perSocket != st.Datagrams {
		t.Errorf("socket stats sum to %d, total %d", perSocket, st.Datagrams)
	}
	if n := testutil.ToFloat64(t, src.Collector(), "osprey_capture_udp_datagrams_total"); n != float64(len(want)) {
		t.Errorf("osprey_capture_udp_datagrams_total = %v", n)
	}
}

// TestUDPWildcardDestination: a socket bound to the wildcard address
// reports the address each datagram was sent to (IP_PKTINFO).
func TestUDPWildcardDestination(t *testing.T) {
	src, err := NewUDPSource(UDPConfig{Listen: []UDPListen{{"0.0.0.0:0", decode.LinkVXLANPayload}}, Sockets: 1})
	if err != nil {
		t.Fatal(err)
	}
	port := src.Addr(0).Port()
	seen, wait, mu, cancel := runUDP(t, src, 20)
	defer cancel()
	to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(to))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(tunnelled(t, decode.LinkVXLANPayload, 7, "wildcard destination")); err != nil {
		t.Fatal(err)
	}
	waitDatagrams(src, 1)
	cancel()
	if err := wait(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if s := seen["wildcard destination"]; s == nil || s.dst != to || s.src != c.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Errorf("seen %+v, want outer %v → %v", s, c.LocalAddr(), to)
	}
}

// TestUDPKernelDrops overflows a small receive buffer before reading and
// expects the kernel's drop count (SO_RXQ_OVFL) to account for every
// datagram not received.
func TestUDPKernelDrops(t *testing.T) {
	src, err := NewUDPSource(UDPConfig{Listen: []UDPListen{{"127.0.0.1:0", decode.LinkVXLANPayload}}, Sockets: 1, ReceiveBuffer: 4096})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(src.Addr(0)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := tunnelled(t, decode.LinkVXLANPayload, 1, "overflow")
	const sent = 500
	for range sent {
		_, _ = c.Write(msg)
	}
	_, _, _, cancel := runUDP(t, src, 8)
	defer cancel()
	// The count is stamped on each datagram as it is queued, so the queued
	// ones do not know of the drops after them: wait until the queue is
	// drained, then send one more.
	for last := uint64(0); ; {
		time.Sleep(20 * time.Millisecond)
		n := src.Stats().Datagrams
		if n > 0 && n == last {
			break
		}
		last = n
	}
	_, _ = c.Write(msg)
	waitDatagrams(src, sent+1)
	cancel()
	st := src.Stats()
	if st.KernelDrops == 0 || st.Datagrams+st.KernelDrops != sent+1 {
		t.Errorf("stats %+v: want drops > 0 and received + dropped = %d", st, sent+1)
	}
	if ss := src.SocketStats(); len(ss) != 1 || ss[0].KernelDrops != st.KernelDrops || ss[0].Kind != decode.LinkVXLANPayload {
		t.Errorf("socket stats %+v", ss)
	}
	if n := testutil.ToFloat64(t, src.Collector(), "osprey_capture_udp_kernel_drops_total"); n != float64(st.KernelDrops) {
		t.Errorf("osprey_capture_udp_kernel_drops_total = %v", n)
	}
}

// TestUDPHandlerErrorStops: a handler error on one stream stops them all
// and is what Run returns.
func TestUDPHandlerErrorStops(t *testing.T) {
	src, err := NewUDPSource(UDPConfig{Listen: []UDPListen{{"127.0.0.1:0", decode.LinkVXLANPayload}}, Sockets: 3})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	done := make(chan error, 1)
	go func() {
		done <- src.Run(context.Background(), func(int, *Frame) error { return boom })
	}()
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(src.Addr(0)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for {
		_, _ = c.Write([]byte("x"))
		select {
		case err := <-done:
			if !errors.Is(err, boom) {
				t.Errorf("Run = %v, want boom", err)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestNewUDPSourceErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  UDPConfig
	}{
		{"no address", UDPConfig{}},
		{"bad kind", UDPConfig{Listen: []UDPListen{{"127.0.0.1:0", decode.LinkEthernet}}}},
		{"bad address", UDPConfig{Listen: []UDPListen{{"nonsense", decode.LinkVXLANPayload}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := NewUDPSource(tc.cfg); err == nil {
				s.Close()
				t.Error("no error")
			}
		})
	}
}

func TestDefaultUDPConfig(t *testing.T) {
	c := DefaultUDPConfig()
	want := []UDPListen{{"0.0.0.0:4789", decode.LinkVXLANPayload}, {"0.0.0.0:6081", decode.LinkGENEVEPayload}}
	if diff := cmp.Diff(want, c.Listen); diff != "" || c.Sockets < 1 {
		t.Errorf("default config %+v: %s", c, diff)
	}
}

// TestUDPReceiveZeroAlloc: receiving and parsing a batch allocates nothing.
func TestUDPReceiveZeroAlloc(t *testing.T) {
	src, err := NewUDPSource(UDPConfig{Listen: []UDPListen{{"127.0.0.1:0", decode.LinkVXLANPayload}}, Sockets: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	k := src.socks[0]
	b, err := newUDPBatch(k.conn)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(src.Addr(0)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := tunnelled(t, decode.LinkVXLANPayload, 1, "alloc")
	var f Frame
	var total int
	allocs := testing.AllocsPerRun(200, func() {
		for range 4 {
			_, _ = c.Write(msg)
		}
		for got := 0; got < 4; {
			n, err := b.recv()
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				k.fill(b, i, &f)
			}
			got += n
			total += n
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per 4 datagrams", allocs)
	}
	if f.OuterSrc != c.LocalAddr().(*net.UDPAddr).AddrPort() || string(f.Data) != string(msg) {
		t.Errorf("last frame from %v, %d bytes", f.OuterSrc, len(f.Data))
	}
}

func BenchmarkUDPReceive(b *testing.B) {
	src, err := NewUDPSource(UDPConfig{Listen: []UDPListen{{"127.0.0.1:0", decode.LinkVXLANPayload}}, Sockets: 1, ReceiveBuffer: 8 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	k := src.socks[0]
	batch, _ := newUDPBatch(k.conn)
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(src.Addr(0)))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg := tunnelled(b, decode.LinkVXLANPayload, 1, "bench")
	var f Frame
	b.ReportAllocs()
	b.SetBytes(int64(len(msg) * batchSize))
	for b.Loop() {
		// Sending dominates; the figure is an upper bound of receive cost.
		for range batchSize {
			_, _ = c.Write(msg)
		}
		for got := 0; got < batchSize; {
			n, err := batch.recv()
			if err != nil {
				b.Fatal(err)
			}
			for i := range n {
				k.fill(batch, i, &f)
			}
			got += n
		}
	}
}

func TestParseControl(t *testing.T) {
	cmsg := func(level, typ int32, data []byte) []byte {
		b := make([]byte, unix.CmsgSpace(len(data)))
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		h.Level, h.Type = level, typ
		h.SetLen(unix.CmsgLen(len(data)))
		copy(b[unix.CmsgLen(0):], data)
		return b
	}
	drops := binary.NativeEndian.AppendUint32(nil, 7)
	var ts []byte
	ts = binary.NativeEndian.AppendUint64(ts, 1700000000)
	ts = binary.NativeEndian.AppendUint64(ts, 123)
	pkt4 := make([]byte, unix.SizeofInet4Pktinfo)
	copy(pkt4[8:], []byte{192, 0, 2, 9})
	var oob []byte
	oob = append(oob, cmsg(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, drops)...)
	oob = append(oob, cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, ts)...)
	oob = append(oob, cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, pkt4)...)
	// Copy into an 8-byte-aligned buffer, as the receive path has.
	aligned := make([]uint64, (len(oob)+7)/8)
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&aligned[0])), len(oob))
	copy(buf, oob)

	var m datagram
	parseControl(buf, &m)
	if !m.dropsValid || m.drops != 7 || !m.ts.Equal(time.Unix(1700000000, 123)) || m.dst != netip.MustParseAddr("192.0.2.9") {
		t.Errorf("parsed %+v", m)
	}
	for cut := range len(buf) {
		var m datagram
		parseControl(buf[:cut], &m) // must not panic
	}
}

// TestUDPIPv6: senders and destinations over IPv6 are parsed alike.
func TestUDPIPv6(t *testing.T) {
	src, err := NewUDPSource(UDPConfig{Listen: []UDPListen{{"[::1]:0", decode.LinkGENEVEPayload}}, Sockets: 1})
	if err != nil {
		testutil.Missing(t, "IPv6 loopback: "+err.Error())
	}
	seen, wait, mu, cancel := runUDP(t, src, 20)
	defer cancel()
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(src.Addr(0)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(tunnelled(t, decode.LinkGENEVEPayload, 9, "geneve over ipv6 ...")); err != nil {
		t.Fatal(err)
	}
	waitDatagrams(src, 1)
	cancel()
	if err := wait(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	s := seen["geneve over ipv6 ..."]
	if s == nil || s.kind != decode.LinkGENEVEPayload || s.src != c.LocalAddr().(*net.UDPAddr).AddrPort() || s.dst != src.Addr(0) {
		t.Errorf("seen %+v, want %v → %v", s, c.LocalAddr(), src.Addr(0))
	}
}
