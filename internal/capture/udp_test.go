package capture

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

// TestUDPSource sends VXLAN datagrams from several sockets to a listener
// with two SO_REUSEPORT sockets; every datagram must arrive exactly once,
// with its sender as outer source and the listener's kind.
func TestUDPSource(t *testing.T) {
	src, err := NewUDPSource(UDPConfig{Listen: []UDPListen{{"127.0.0.1:0", decode.LinkVXLANPayload}}, Sockets: 2, ReceiveBuffer: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	addrs := src.Addrs()
	if len(addrs) != 2 || addrs[0] != addrs[1] {
		t.Fatalf("sockets %v: want two on one port", addrs)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	senders := map[string]bool{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(stream int, f *Frame) error {
			if f.LinkType != decode.LinkVXLANPayload || f.OuterDst != addrs[0] {
				return fmt.Errorf("frame kind %d to %v", f.LinkType, f.OuterDst)
			}
			mu.Lock()
			seen[string(f.Data)]++
			senders[f.OuterSrc.String()] = true
			mu.Unlock()
			return nil
		})
	}()
	const perSender, nsenders = 50, 4
	var locals []string
	for s := range nsenders {
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addrs[0]))
		if err != nil {
			t.Fatal(err)
		}
		locals = append(locals, c.LocalAddr().String())
		for i := range perSender {
			fmt.Fprintf(c, "\x08\x00\x00\x00\x00\x00\x2a\x00sender %d datagram %d", s, i)
			if i%10 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if src.Stats().Datagrams >= perSender*nsenders {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil && err != context.Canceled {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != perSender*nsenders {
		t.Errorf("%d distinct datagrams, want %d (stats %+v)", len(seen), perSender*nsenders, src.Stats())
	}
	for d, n := range seen {
		if n != 1 {
			t.Errorf("%q arrived %d times", d, n)
		}
	}
	if n := testutil.ToFloat64(t, src.Collector(), "osprey_capture_udp_datagrams_total"); n != perSender*nsenders {
		t.Errorf("osprey_capture_udp_datagrams_total = %v", n)
	}
	for _, l := range locals {
		if !senders[l] {
			t.Errorf("sender %s never seen as outer source (saw %v)", l, senders)
		}
	}
}

func TestRxqOverflow(t *testing.T) {
	// One SOL_SOCKET / SO_RXQ_OVFL control message carrying 7 drops.
	oob := make([]byte, 24)
	oob[0] = 20 // cmsg_len = 16 + 4
	oob[8] = 1  // SOL_SOCKET
	oob[12] = 40
	oob[16] = 7
	if d, ok := rxqOverflow(oob); !ok || d != 7 {
		t.Errorf("rxqOverflow = %d, %v", d, ok)
	}
	if _, ok := rxqOverflow(oob[:10]); ok {
		t.Error("short control message accepted")
	}
}

// TestAFPacketLoopback captures on lo while sending a datagram to it.
func TestAFPacketLoopback(t *testing.T) {
	if os.Geteuid() != 0 {
		testutil.Missing(t, "root, for AF_PACKET")
	}
	src, err := NewAFPacketSource(AFPacketConfig{Interface: "lo", Snaplen: 128})
	if err != nil {
		testutil.Missing(t, "AF_PACKET on lo: "+err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	marker := "osprey-afpacket-test"
	found := make(chan Frame, 1)
	go func() {
		_ = src.Run(ctx, func(_ int, f *Frame) error {
			if f.LinkType == decode.LinkEthernet && len(f.Data) > 42 && string(f.Data[42:min(len(f.Data), 42+len(marker))]) == marker {
				g := *f
				g.Data = append([]byte(nil), f.Data...)
				select {
				case found <- g:
				default:
				}
			}
			return nil
		})
	}()
	c, err := net.Dial("udp", "127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	big := marker + string(make([]byte, 300))
	for {
		select {
		case f := <-found:
			if f.WireLen <= f.CaptureLen || f.CaptureLen != 128 {
				t.Errorf("snaplen 128: captured %d of %d bytes", f.CaptureLen, f.WireLen)
			}
			return
		case <-ctx.Done():
			t.Fatal("datagram not captured")
		case <-time.After(100 * time.Millisecond):
			_, _ = c.Write([]byte(big))
		}
	}
}
