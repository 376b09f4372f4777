package decode

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// tunnelFrames builds GENEVE(VNI 7, 8 bytes of options) → VXLAN(VNI 4242)
// → Ethernet/IPv4/TCP with 12 payload bytes. Sizes: inner frame 66 bytes,
// VXLAN frame 116 (IP 102, UDP payload 74), GENEVE frame 174 (IP 160,
// UDP payload 132).
func tunnelFrames(t testing.TB) (inner, vxlanFrame, geneveFrame []byte) {
	inner = serialize(t, eth(layers.EthernetTypeIPv4), ip4("10.1.0.1", "10.1.0.2", layers.IPProtocolTCP), tcp(40000, 443, true),
		gopacket.Payload("hello, world"))
	vxlanFrame = serialize(t, eth(layers.EthernetTypeIPv4), ip4("172.31.0.10", "172.31.0.250", layers.IPProtocolUDP),
		udp(50000, 4789), &layers.VXLAN{ValidIDFlag: true, VNI: 4242}, gopacket.Payload(inner))
	geneveFrame = serialize(t, eth(layers.EthernetTypeIPv4), ip4("192.0.2.1", "192.0.2.2", layers.IPProtocolUDP), udp(40000, 6081),
		gopacket.Payload(append([]byte{2, 0, 0x65, 0x58, 0, 0, 7, 0, 1, 2, 3, 4, 5, 6, 7, 8}, vxlanFrame...)))
	return inner, vxlanFrame, geneveFrame
}

var (
	geneveOuter = Tunnel{Kind: TunnelGENEVE, VNI: 7, Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"),
		SrcPort: 40000, DstPort: 6081, IPProto: 17, IPLen: 160, PayloadLen: 132}
	vxlanOuter = Tunnel{Kind: TunnelVXLAN, VNI: 4242, Src: netip.MustParseAddr("172.31.0.10"), Dst: netip.MustParseAddr("172.31.0.250"),
		SrcPort: 50000, DstPort: 4789, IPProto: 17, IPLen: 102, PayloadLen: 74}
	addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
)

// TestTunnelOuterHeaders: each tunnel records the outer IP, ports, IP
// length and payload length of the header that carried it, outermost
// first, also when the capture (a mirror's packet length) cuts the outer
// UDP datagram.
func TestTunnelOuterHeaders(t *testing.T) {
	_, _, gen := tunnelFrames(t)
	for _, tc := range []struct {
		name      string
		data      []byte
		tunnels   []Tunnel
		want      summary
		truncated bool
		err       error
	}{
		{"whole", gen, []Tunnel{geneveOuter, vxlanOuter},
			summary{Src: "10.1.0.1", Dst: "10.1.0.2", Proto: 6, SrcPort: 40000, DstPort: 443, IPLen: 52, Payload: 12,
				Tunnels: []string{"geneve", "vxlan"}, VNIs: []uint32{7, 4242}}, false, nil},
		{"cut inside the inner payload", gen[:len(gen)-5], []Tunnel{geneveOuter, vxlanOuter},
			summary{Src: "10.1.0.1", Dst: "10.1.0.2", Proto: 6, SrcPort: 40000, DstPort: 443, IPLen: 52, Payload: 12,
				Tunnels: []string{"geneve", "vxlan"}, VNIs: []uint32{7, 4242}, Truncated: true}, true, nil},
		{"cut inside the inner tcp header", gen[:len(gen)-12-10], []Tunnel{geneveOuter, vxlanOuter},
			summary{Src: "10.1.0.1", Dst: "10.1.0.2", Proto: 6, IPLen: 52, Payload: 12,
				Tunnels: []string{"geneve", "vxlan"}, VNIs: []uint32{7, 4242}, Truncated: true}, true, ErrTruncated},
		{"cut inside the inner ethernet header", gen[:len(gen)-66+10], []Tunnel{geneveOuter, vxlanOuter},
			summary{Tunnels: []string{"geneve", "vxlan"}, VNIs: []uint32{7, 4242}}, false, ErrTruncated},
		{"cut inside the vxlan header keeps the middle udp", gen[:len(gen)-66-4], []Tunnel{geneveOuter},
			summary{Src: "172.31.0.10", Dst: "172.31.0.250", Proto: 17, SrcPort: 50000, DstPort: 4789, IPLen: 102, Payload: 74,
				Tunnels: []string{"geneve"}, VNIs: []uint32{7}, Truncated: true}, true, ErrTruncated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(DefaultConfig())
			var p Packet
			err := d.Decode(tc.data, LinkEthernet, nil, &p)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("error = %v, want %v", err, tc.err)
			}
			if diff := cmp.Diff(tc.tunnels, p.Tunnels[:p.NumTunnels], addrCmp); diff != "" {
				t.Errorf("tunnels (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, summarize(&p)); diff != "" {
				t.Errorf("packet (-want +got):\n%s", diff)
			}
			if got := d.Stats().Truncated == 1; got != tc.truncated {
				t.Errorf("truncated counted: %v, want %v", got, tc.truncated)
			}
		})
	}
}

// TestListenerPayload: a UDP listener hands over the VXLAN or GENEVE
// header onwards; the outer addresses come from the socket.
func TestListenerPayload(t *testing.T) {
	inner, vx, gen := tunnelFrames(t)
	outer := Tunnel{Src: netip.MustParseAddr("203.0.113.5"), Dst: netip.MustParseAddr("203.0.113.9"), SrcPort: 5000, DstPort: 4789, IPLen: 1500}
	vxlanPayload := vx[14+20+8:]
	for _, tc := range []struct {
		name    string
		link    LinkType
		data    []byte
		tunnels []Tunnel
		err     error
	}{
		{"vxlan", LinkVXLANPayload, vxlanPayload, []Tunnel{{Kind: TunnelVXLAN, VNI: 4242, Src: outer.Src, Dst: outer.Dst,
			SrcPort: 5000, DstPort: 4789, IPProto: 17, IPLen: 1500, PayloadLen: len(vxlanPayload)}}, nil},
		{"geneve → vxlan", LinkGENEVEPayload, gen[14+20+8:], []Tunnel{{Kind: TunnelGENEVE, VNI: 7, Src: outer.Src, Dst: outer.Dst,
			SrcPort: 5000, DstPort: 4789, IPProto: 17, IPLen: 1500, PayloadLen: 132}, vxlanOuter}, nil},
		{"vxlan without the I flag", LinkVXLANPayload, append([]byte{0, 0, 0, 0, 0, 0, 1, 0}, inner...), nil, ErrBadTunnelHeader},
		{"vxlan header cut", LinkVXLANPayload, vxlanPayload[:5], nil, ErrTruncated},
		{"geneve version 1", LinkGENEVEPayload, append([]byte{0x40, 0, 0x65, 0x58, 0, 0, 1, 0}, inner...), nil, ErrBadVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p Packet
			err := NewDecoder(DefaultConfig()).Decode(tc.data, tc.link, &outer, &p)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("error = %v, want %v", err, tc.err)
			}
			if diff := cmp.Diff(tc.tunnels, p.Tunnels[:p.NumTunnels], addrCmp, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("tunnels (-want +got):\n%s", diff)
			}
			if tc.err == nil && (p.DstPort != 443 || p.Src.String() != "10.1.0.1") {
				t.Errorf("inner packet %+v", summarize(&p))
			}
		})
	}
	// Without an outer (nil), the tunnel still decodes, with empty outer addresses.
	var p Packet
	if err := NewDecoder(DefaultConfig()).Decode(vxlanPayload, LinkVXLANPayload, nil, &p); err != nil || p.NumTunnels != 1 || p.Tunnels[0].Src.IsValid() {
		t.Errorf("nil outer: %v, %+v", err, p.Tunnels[0])
	}
}

// TestTunnelPorts: a VXLAN header without the I flag on port 4789 is
// plain UDP; port 8472 is VXLAN only when configured.
func TestTunnelPorts(t *testing.T) {
	inner, _, _ := tunnelFrames(t)
	frame := func(port uint16, flags byte) []byte {
		return serialize(t, eth(layers.EthernetTypeIPv4), ip4("172.31.0.10", "172.31.0.250", layers.IPProtocolUDP), udp(50000, port),
			gopacket.Payload(append([]byte{flags, 0, 0, 0, 0, 0, 5, 0}, inner...)))
	}
	linux := DefaultConfig()
	linux.VXLANPorts = append(linux.VXLANPorts, 8472)
	for _, tc := range []struct {
		name    string
		cfg     Config
		data    []byte
		tunnels int
	}{
		{"4789 with I flag", DefaultConfig(), frame(4789, 0x08), 1},
		{"4789 without I flag", DefaultConfig(), frame(4789, 0x00), 0},
		{"4789 with reserved bits set", DefaultConfig(), frame(4789, 0xff), 1},
		{"8472 by default", DefaultConfig(), frame(8472, 0x08), 0},
		{"8472 configured", linux, frame(8472, 0x08), 1},
		{"no tunnel ports", Config{}, frame(4789, 0x08), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p Packet
			if err := NewDecoder(tc.cfg).Decode(tc.data, LinkEthernet, nil, &p); err != nil {
				t.Fatal(err)
			}
			if p.NumTunnels != tc.tunnels {
				t.Fatalf("%d tunnels, want %d", p.NumTunnels, tc.tunnels)
			}
			if tc.tunnels == 0 && (p.IPProto != 17 || p.PayloadLen != 8+66) {
				t.Errorf("outer udp not kept: %+v", summarize(&p))
			}
		})
	}
}

// TestStats: each kind of frame lands in its counter.
func TestStats(t *testing.T) {
	inner, vx, gen := tunnelFrames(t)
	arp := serialize(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: 1, Protocol: 0x0800, HwAddressSize: 6, ProtAddressSize: 4,
		SourceHwAddress: macA, SourceProtAddress: []byte{10, 0, 0, 1}, DstHwAddress: macB, DstProtAddress: []byte{10, 0, 0, 2}})
	frag := ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolUDP)
	frag.Flags = layers.IPv4MoreFragments
	d := NewDecoder(DefaultConfig())
	var p Packet
	for _, f := range []struct {
		data []byte
		link LinkType
	}{
		{inner, LinkEthernet}, {vx, LinkEthernet}, {gen, LinkEthernet}, {arp, LinkEthernet},
		{serialize(t, eth(layers.EthernetTypeIPv4), frag, udp(1, 2), gopacket.Payload("x")), LinkEthernet},
		{inner[:50], LinkEthernet}, // truncated in the TCP header
		{inner[:10], LinkEthernet}, // truncated Ethernet
		{inner, 4242},              // unsupported link
		{[]byte{0x70}, LinkRaw},    // bad IP version
	} {
		_ = d.Decode(f.data, f.link, nil, &p)
	}
	want := Stats{Packets: 9, NonIP: 1, ARP: 1, Fragments: 1, Truncated: 1}
	want.Tunnels[TunnelVXLAN], want.Tunnels[TunnelGENEVE] = 2, 1
	want.Errors[ReasonTruncated], want.Errors[ReasonUnsupportedLink], want.Errors[ReasonBadIPVersion] = 2, 1, 1
	if diff := cmp.Diff(want, d.Stats()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]uint64{"truncated header": 2, "unsupported link type": 1, "bad IP version": 1}, want.ErrorsByReason()); diff != "" {
		t.Errorf("ErrorsByReason (-want +got):\n%s", diff)
	}
	var sum Stats
	sum.Add(want)
	sum.Add(want)
	if sum.Packets != 18 || sum.Tunnels[TunnelVXLAN] != 4 || sum.Errors[ReasonTruncated] != 4 {
		t.Errorf("Add: %+v", sum)
	}
}

// TestErrorReuse: the returned error is the decoder's own, valid until the
// next Decode, and unwraps to the reason's sentinel.
func TestErrorReuse(t *testing.T) {
	_, _, gen := tunnelFrames(t)
	d := NewDecoder(DefaultConfig())
	var p Packet
	err := d.Decode(gen[:14+20+4], LinkEthernet, nil, &p)
	var de *Error
	if !errors.As(err, &de) || de.Layer != "udp" || de.Offset != 34 || de.Reason != ReasonTruncated || !errors.Is(err, ErrTruncated) {
		t.Fatalf("error %#v", err)
	}
	if got := err.Error(); got != "decode udp at offset 34: truncated header" {
		t.Errorf("text %q", got)
	}
	if n := testing.AllocsPerRun(100, func() { _ = d.Decode(gen[:14+20+4], LinkEthernet, nil, &p) }); n != 0 {
		t.Errorf("a failing decode allocates %.1f times", n)
	}
	for r := Reason(0); r < numReasons; r++ {
		e := &Error{Layer: "x", Reason: r}
		if !errors.Is(e, r.sentinel()) || r.sentinel() == nil || r.String() == "" {
			t.Errorf("reason %d has no sentinel or name", r)
		}
	}
	if Reason(200).String() != "reason 200" || (&Error{Reason: 200}).Unwrap() != nil {
		t.Error("unknown reason")
	}
}
