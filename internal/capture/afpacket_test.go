package capture

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

// TestAFPacketLoopback captures on lo while sending a datagram to it.
// Only a missing privilege (EPERM, no CAP_NET_RAW) skips it.
func TestAFPacketLoopback(t *testing.T) {
	src, err := NewAFPacketSource(AFPacketConfig{Interface: "lo", Snaplen: 128, ReceiveBuffer: 1 << 20})
	if errors.Is(err, unix.EPERM) {
		testutil.Missing(t, "permission for AF_PACKET sockets (root or CAP_NET_RAW): "+err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	if src.LinkType() != decode.LinkEthernet || src.Name() != "afpacket:lo" || src.Streams() != 1 {
		t.Errorf("link %d, name %q, streams %d", src.LinkType(), src.Name(), src.Streams())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	const marker = "osprey-afpacket-test"
	found := make(chan Frame, 1)
	done := make(chan error, 1)
	go func() {
		// 14 Ethernet + 20 IPv4 + 8 UDP bytes precede the payload.
		done <- src.Run(ctx, func(_ int, f *Frame) error {
			if f.LinkType == decode.LinkEthernet && len(f.Data) > 42+len(marker) && string(f.Data[42:42+len(marker)]) == marker {
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
	for f := (Frame{}); f.Data == nil; {
		select {
		case f = <-found:
			if f.WireLen != 42+len(big) || f.CaptureLen != 128 || len(f.Data) != 128 {
				t.Errorf("snaplen 128: captured %d (%d) of %d bytes, want 128 of %d", f.CaptureLen, len(f.Data), f.WireLen, 42+len(big))
			}
			if time.Since(f.Timestamp) > time.Minute {
				t.Errorf("timestamp %v", f.Timestamp)
			}
		case <-ctx.Done():
			t.Fatal("datagram not captured")
		case <-time.After(100 * time.Millisecond):
			_, _ = c.Write([]byte(big))
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	st, _ := src.Stats()
	if st.Frames == 0 || st.Bytes < uint64(42+len(big)) || st.KernelPackets < st.Frames {
		t.Errorf("stats %+v", st)
	}
	if n := testutil.ToFloat64(t, src.Collector(), "osprey_capture_afpacket_frames_total"); n != float64(st.Frames) {
		t.Errorf("osprey_capture_afpacket_frames_total = %v, stats %+v", n, st)
	}
}

func TestAFPacketNoInterface(t *testing.T) {
	if _, err := NewAFPacketSource(AFPacketConfig{Interface: "osprey-nonexistent0"}); err == nil {
		t.Error("no error for a missing interface")
	}
}

func TestArphrdLink(t *testing.T) {
	for _, tc := range []struct {
		name string
		hw   uint16
		want decode.LinkType
		ok   bool
	}{
		{"ethernet", unix.ARPHRD_ETHER, decode.LinkEthernet, true},
		{"loopback", unix.ARPHRD_LOOPBACK, decode.LinkEthernet, true},
		{"tun", unix.ARPHRD_NONE, decode.LinkRaw, true},
		{"rawip", unix.ARPHRD_RAWIP, decode.LinkRaw, true},
		{"radiotap", unix.ARPHRD_IEEE80211_RADIOTAP, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := arphrdLink(tc.hw)
			if got != tc.want || (err == nil) != tc.ok {
				t.Errorf("arphrdLink(%d) = %d, %v", tc.hw, got, err)
			}
		})
	}
}
