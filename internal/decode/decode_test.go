package decode

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

var (
	macA = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	macB = net.HardwareAddr{2, 0, 0, 0, 0, 2}
)

func eth(t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: t}
}

func ip4(src, dst string, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
}

func ip6(src, dst string, next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next, SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
}

func tcp(sp, dp uint16, syn bool) *layers.TCP {
	return &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp), Seq: 1000, Ack: 0, SYN: syn, Window: 512, DataOffset: 5}
}

func udp(sp, dp uint16) *layers.UDP {
	return &layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)}
}

// summary is what the table tests compare.
type summary struct {
	Src, Dst         string
	Proto            uint8
	SrcPort, DstPort uint16
	IPLen, Payload   int
	VLANs            []uint16
	Tunnels          []string
	VNIs             []uint32
	Fragment         bool
	FragOffset       uint16
	Truncated        bool
	ICMP             [2]uint8
	EchoID           uint16
	ARP              bool
}

func summarize(p *Packet) summary {
	s := summary{Proto: p.IPProto, SrcPort: p.SrcPort, DstPort: p.DstPort, IPLen: p.IPLen, Payload: p.PayloadLen,
		Fragment: p.Fragment, FragOffset: p.FragOffset, Truncated: p.Truncated, ICMP: [2]uint8{p.ICMPType, p.ICMPCode}, EchoID: p.ICMPID, ARP: p.IsARP}
	if p.IPVersion != 0 {
		s.Src, s.Dst = p.Src.String(), p.Dst.String()
	}
	s.VLANs = append(s.VLANs, p.VLANs[:p.NumVLANs]...)
	for _, tn := range p.Tunnels[:p.NumTunnels] {
		s.Tunnels = append(s.Tunnels, tn.Kind.String())
		s.VNIs = append(s.VNIs, tn.VNI)
	}
	return s
}

func TestDecode(t *testing.T) {
	payload := gopacket.Payload([]byte("hello, world"))
	innerTCP := serialize(t, eth(layers.EthernetTypeIPv4), ip4("10.1.0.1", "10.1.0.2", layers.IPProtocolTCP), tcp(40000, 443, true), payload)
	vxlan := func(vni uint32, inner []byte) []byte {
		return serialize(t, eth(layers.EthernetTypeIPv4), ip4("172.31.0.10", "172.31.0.250", layers.IPProtocolUDP),
			udp(50000, 4789), &layers.VXLAN{ValidIDFlag: true, VNI: vni}, gopacket.Payload(inner))
	}
	geneveHdr := func(vni uint32, proto uint16, opts int) []byte {
		h := []byte{byte(opts / 4), 0, byte(proto >> 8), byte(proto), byte(vni >> 16), byte(vni >> 8), byte(vni), 0}
		return append(h, make([]byte, opts)...)
	}
	geneve := func(vni uint32, opts int, inner []byte) []byte {
		return serialize(t, eth(layers.EthernetTypeIPv4), ip4("192.0.2.1", "192.0.2.2", layers.IPProtocolUDP),
			udp(40000, 6081), gopacket.Payload(append(geneveHdr(vni, 0x6558, opts), inner...)))
	}
	gre := func(proto uint16, hdr []byte, inner []byte) []byte {
		return serialize(t, eth(layers.EthernetTypeIPv4), ip4("198.51.100.1", "198.51.100.2", layers.IPProtocolGRE),
			gopacket.Payload(append(append(append([]byte{0x10, 0, byte(proto >> 8), byte(proto)}, 0, 0, 0, 7), hdr...), inner...)))
	}
	erspan2 := gre(0x88be, []byte{0x10, 0, 0x00, 0x2a, 0, 0, 0, 0}, innerTCP)
	erspan3 := gre(0x22eb, []byte{0x20, 0, 0x00, 0x2b, 0, 0, 0, 0, 0, 0, 0, 0}, innerTCP)
	frag := func(offset uint16, more bool) []byte {
		l := ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolUDP)
		l.FragOffset, l.Id = offset, 77
		if more {
			l.Flags = layers.IPv4MoreFragments
		}
		if offset == 0 {
			return serialize(t, eth(layers.EthernetTypeIPv4), l, udp(1234, 53), payload)
		}
		return serialize(t, eth(layers.EthernetTypeIPv4), l, payload)
	}
	sll := append([]byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00},
		serialize(t, ip4("10.9.0.1", "10.9.0.2", layers.IPProtocolUDP), udp(5353, 5353), payload)...)
	sll2 := append([]byte{0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0},
		serialize(t, ip4("10.9.0.1", "10.9.0.2", layers.IPProtocolUDP), udp(5353, 5353), payload)...)
	truncated := innerTCP[:14+20+10] // cut inside the TCP header

	for _, tc := range []struct {
		name string
		link LinkType
		data []byte
		want summary
		err  error
	}{
		{"ethernet ipv4 tcp", LinkEthernet, innerTCP,
			summary{Src: "10.1.0.1", Dst: "10.1.0.2", Proto: 6, SrcPort: 40000, DstPort: 443, IPLen: 52, Payload: 12}, nil},
		{"qinq ipv6 udp", LinkEthernet, serialize(t, eth(layers.EthernetTypeQinQ),
			&layers.Dot1Q{VLANIdentifier: 13, Type: layers.EthernetTypeDot1Q}, &layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv6},
			ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolUDP), udp(5000, 53), payload),
			summary{Src: "2001:db8::1", Dst: "2001:db8::2", Proto: 17, SrcPort: 5000, DstPort: 53, IPLen: 60, Payload: 12, VLANs: []uint16{13, 10}}, nil},
		{"ipv6 extension headers", LinkEthernet, serialize(t, eth(layers.EthernetTypeIPv6), ip6("fe80::1", "ff02::1", layers.IPProtocolIPv6HopByHop),
			gopacket.Payload([]byte{43, 0, 0, 0, 0, 0, 0, 0, 60, 0, 4, 0, 0, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0, 0}),
			gopacket.Payload(serialize(t, udp(1, 2), payload))),
			summary{Src: "fe80::1", Dst: "ff02::1", Proto: 17, SrcPort: 1, DstPort: 2, IPLen: 40 + 24 + 20, Payload: 12}, nil},
		{"ipv6 fragment, first", LinkEthernet, serialize(t, eth(layers.EthernetTypeIPv6), ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolIPv6Fragment),
			gopacket.Payload([]byte{17, 0, 0, 1, 0, 0, 0, 9}), gopacket.Payload(serialize(t, udp(7, 8), payload))),
			summary{Src: "2001:db8::1", Dst: "2001:db8::2", Proto: 17, SrcPort: 7, DstPort: 8, IPLen: 40 + 8 + 20, Payload: 12, Fragment: true}, nil},
		{"ipv4 first fragment keeps ports", LinkEthernet, frag(0, true),
			summary{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 17, SrcPort: 1234, DstPort: 53, IPLen: 40, Payload: 12, Fragment: true}, nil},
		{"ipv4 later fragment has no ports", LinkEthernet, frag(185, false),
			summary{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 17, IPLen: 32, Payload: 12, Fragment: true, FragOffset: 1480}, nil},
		{"icmp echo", LinkEthernet, serialize(t, eth(layers.EthernetTypeIPv4), ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 5, Seq: 1}, payload),
			summary{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 1, IPLen: 40, Payload: 12, ICMP: [2]uint8{8, 0}, EchoID: 5}, nil},
		{"arp", LinkEthernet, serialize(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: 1, Protocol: 0x0800, HwAddressSize: 6, ProtAddressSize: 4,
			SourceHwAddress: macA, SourceProtAddress: []byte{10, 0, 0, 1}, DstHwAddress: macB, DstProtAddress: []byte{10, 0, 0, 2}}),
			summary{ARP: true}, nil},
		{"vxlan", LinkEthernet, vxlan(42, innerTCP),
			summary{Src: "10.1.0.1", Dst: "10.1.0.2", Proto: 6, SrcPort: 40000, DstPort: 443, IPLen: 52, Payload: 12, Tunnels: []string{"vxlan"}, VNIs: []uint32{42}}, nil},
		{"geneve with options → vxlan → tcp", LinkEthernet, geneve(7, 8, vxlan(4242, innerTCP)),
			summary{Src: "10.1.0.1", Dst: "10.1.0.2", Proto: 6, SrcPort: 40000, DstPort: 443, IPLen: 52, Payload: 12,
				Tunnels: []string{"geneve", "vxlan"}, VNIs: []uint32{7, 4242}}, nil},
		{"gre with key", LinkEthernet, serialize(t, eth(layers.EthernetTypeIPv4), ip4("198.51.100.1", "198.51.100.2", layers.IPProtocolGRE),
			gopacket.Payload(append([]byte{0x20, 0, 0x08, 0x00, 0, 0, 0, 99}, innerTCP[14:]...))),
			summary{Src: "10.1.0.1", Dst: "10.1.0.2", Proto: 6, SrcPort: 40000, DstPort: 443, IPLen: 52, Payload: 12, Tunnels: []string{"gre"}, VNIs: []uint32{99}}, nil},
		{"erspan type II", LinkEthernet, erspan2,
			summary{Src: "10.1.0.1", Dst: "10.1.0.2", Proto: 6, SrcPort: 40000, DstPort: 443, IPLen: 52, Payload: 12, Tunnels: []string{"erspan2"}, VNIs: []uint32{42}}, nil},
		{"erspan type III", LinkEthernet, erspan3,
			summary{Src: "10.1.0.1", Dst: "10.1.0.2", Proto: 6, SrcPort: 40000, DstPort: 443, IPLen: 52, Payload: 12, Tunnels: []string{"erspan3"}, VNIs: []uint32{43}}, nil},
		{"linux sll", LinkLinuxSLL, sll,
			summary{Src: "10.9.0.1", Dst: "10.9.0.2", Proto: 17, SrcPort: 5353, DstPort: 5353, IPLen: 40, Payload: 12}, nil},
		{"linux sll2", LinkLinuxSLL2, sll2,
			summary{Src: "10.9.0.1", Dst: "10.9.0.2", Proto: 17, SrcPort: 5353, DstPort: 5353, IPLen: 40, Payload: 12}, nil},
		{"raw ip", LinkRaw, innerTCP[14:],
			summary{Src: "10.1.0.1", Dst: "10.1.0.2", Proto: 6, SrcPort: 40000, DstPort: 443, IPLen: 52, Payload: 12}, nil},
		{"truncated in tcp header keeps ip length", LinkEthernet, truncated,
			summary{Src: "10.1.0.1", Dst: "10.1.0.2", Proto: 6, IPLen: 52, Payload: 12, Truncated: true}, ErrTruncated},
		{"short ethernet", LinkEthernet, innerTCP[:10], summary{}, ErrTruncated},
		{"bad ip version", LinkRaw, []byte{0x55, 0, 0, 0}, summary{}, ErrBadIPVersion},
		{"unsupported link", 9999, innerTCP, summary{}, ErrUnsupportedLink},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(DefaultConfig())
			var p Packet
			err := d.Decode(tc.data, tc.link, nil, &p)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("error = %v, want %v", err, tc.err)
			}
			if diff := cmp.Diff(tc.want, summarize(&p)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeListenerPayload(t *testing.T) {
	inner := serialize(t, eth(layers.EthernetTypeIPv4), ip4("10.1.0.1", "10.1.0.2", layers.IPProtocolUDP), udp(1, 53), gopacket.Payload("q"))
	data := append([]byte{0x08, 0, 0, 0, 0, 0, 42, 0}, inner...)
	outer := Tunnel{Src: netip.MustParseAddr("172.31.0.10"), Dst: netip.MustParseAddr("172.31.0.250"), SrcPort: 5000, DstPort: 4789}
	var p Packet
	if err := NewDecoder(DefaultConfig()).Decode(data, LinkVXLANPayload, &outer, &p); err != nil {
		t.Fatal(err)
	}
	tn := p.Tunnels[0]
	if p.NumTunnels != 1 || tn.VNI != 42 || tn.Src != outer.Src || tn.Kind != TunnelVXLAN || p.DstPort != 53 {
		t.Errorf("tunnel %+v, packet %+v", tn, summarize(&p))
	}
}

func TestErrorText(t *testing.T) {
	var p Packet
	frame := make([]byte, 40)
	frame[12] = 0x08 // IPv4 EtherType, but version nibble 0
	err := NewDecoder(DefaultConfig()).Decode(frame, LinkEthernet, nil, &p)
	if err == nil || err.Error() != "decode ip at offset 14: bad IP version" {
		t.Errorf("error = %v", err)
	}
}

func TestVerifyChecksums(t *testing.T) {
	ip := ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolUDP)
	u := udp(1000, 53)
	_ = u.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth(layers.EthernetTypeIPv4), ip, u, gopacket.Payload("query")); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	bad := append([]byte(nil), good...)
	bad[14+20+8] ^= 0xff // first payload byte (the frame is padded to 60 bytes)
	cfg := DefaultConfig()
	cfg.VerifyChecksums = true
	d := NewDecoder(cfg)
	var p Packet
	if _ = d.Decode(good, LinkEthernet, nil, &p); p.BadChecksum {
		t.Error("valid checksum reported bad")
	}
	if _ = d.Decode(bad, LinkEthernet, nil, &p); !p.BadChecksum {
		t.Error("corrupted segment passed")
	}
	if _ = NewDecoder(DefaultConfig()).Decode(bad, LinkEthernet, nil, &p); p.BadChecksum {
		t.Error("checksum verified although off")
	}
}

// TestTunnelDepth: three nested encapsulations decode to the inner frame
// (MaxTunnels is 4); a fifth is refused as too deep, keeping the outer ones.
func TestTunnelDepth(t *testing.T) {
	inner := serialize(t, eth(layers.EthernetTypeIPv4), ip4("10.1.0.1", "10.1.0.2", layers.IPProtocolTCP), tcp(40000, 443, true))
	wrap := func(vni uint32, frame []byte) []byte {
		return serialize(t, eth(layers.EthernetTypeIPv4), ip4("172.31.0.10", "172.31.0.250", layers.IPProtocolUDP),
			udp(50000, 4789), &layers.VXLAN{ValidIDFlag: true, VNI: vni}, gopacket.Payload(frame))
	}
	frame := inner
	for vni := uint32(1); vni <= 3; vni++ {
		frame = wrap(vni, frame)
	}
	d := NewDecoder(DefaultConfig())
	var p Packet
	if err := d.Decode(frame, LinkEthernet, nil, &p); err != nil {
		t.Fatal(err)
	}
	if p.NumTunnels != 3 || p.Tunnels[0].VNI != 3 || p.Tunnels[2].VNI != 1 || p.DstPort != 443 {
		t.Errorf("3 tunnels: %+v", summarize(&p))
	}
	for vni := uint32(4); vni <= 5; vni++ {
		frame = wrap(vni, frame)
	}
	if err := d.Decode(frame, LinkEthernet, nil, &p); !errors.Is(err, ErrTooDeep) || p.NumTunnels != MaxTunnels {
		t.Errorf("5 tunnels: error %v, %d tunnels kept", err, p.NumTunnels)
	}
}
