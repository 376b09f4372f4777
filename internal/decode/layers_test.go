package decode

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestDecodeLayers covers the layers and corner cases TestDecode does not:
// IP options, loopback, SCTP, ICMPv6, AH/ESP, GENEVE carrying IP, GRE
// flags, ERSPAN variants, deep VLAN stacks, TSO lengths and bad headers.
func TestDecodeLayers(t *testing.T) {
	payload := gopacket.Payload([]byte("hello, world")) // 12 bytes
	innerTCP := serialize(t, eth(layers.EthernetTypeIPv4), ip4("10.1.0.1", "10.1.0.2", layers.IPProtocolTCP), tcp(40000, 443, true), payload)
	tcpSum := summary{Src: "10.1.0.1", Dst: "10.1.0.2", Proto: 6, SrcPort: 40000, DstPort: 443, IPLen: 52, Payload: 12}
	udp6 := serialize(t, ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolUDP), udp(5000, 53), payload)
	udp6Sum := summary{Src: "2001:db8::1", Dst: "2001:db8::2", Proto: 17, SrcPort: 5000, DstPort: 53, IPLen: 60, Payload: 12}
	with := func(s summary, f func(*summary)) summary { f(&s); return s }
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	outerIPv4 := func(proto layers.IPProtocol, l4 ...gopacket.SerializableLayer) []byte {
		return serialize(t, append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4), ip4("198.51.100.1", "198.51.100.2", proto)}, l4...)...)
	}
	greFrame := func(hdr, inner []byte) []byte {
		return outerIPv4(layers.IPProtocolGRE, gopacket.Payload(cat(hdr, inner)))
	}
	geneveUDP := func(hdr, inner []byte) []byte {
		return outerIPv4(layers.IPProtocolUDP, udp(40000, 6081), gopacket.Payload(cat(hdr, inner)))
	}
	erspan3 := []byte{0x20, 0, 0x00, 0x2b, 0, 0, 0, 0, 0, 0, 0, 0}
	ipOpts := ip4("10.1.0.1", "10.1.0.2", layers.IPProtocolTCP)
	ipOpts.Options = []layers.IPv4Option{{OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}}} // router alert
	tso := append([]byte(nil), innerTCP...)
	tso[14+2], tso[14+3] = 0, 0
	badOffset := append([]byte(nil), innerTCP...)
	badOffset[14+20+12] = 0xf0 // 60-byte TCP header in a 32-byte segment
	shortOpts := append([]byte(nil), innerTCP[:14+20]...)
	shortOpts[14] = 0x46 // IHL 6, but the options are not captured
	sctp := cat([]byte{0x0b, 0x59, 0x0b, 0x59, 0, 0, 0, 1, 0, 0, 0, 0}, make([]byte, 16))
	grePlain := outerIPv4(layers.IPProtocolGRE, gopacket.Payload(cat([]byte{0x30, 0x01, 0x88, 0x0b, 0, 0, 0, 5, 0, 0, 0, 1}, make([]byte, 20))))
	outerGeneve := summary{Src: "198.51.100.1", Dst: "198.51.100.2", Proto: 17, SrcPort: 40000, DstPort: 6081}

	for _, tc := range []struct {
		name string
		link LinkType
		data []byte
		want summary
		err  error
	}{
		{"ipv4 options", LinkEthernet, serialize(t, eth(layers.EthernetTypeIPv4), ipOpts, tcp(40000, 443, true), payload),
			with(tcpSum, func(s *summary) { s.IPLen = 56 }), nil},
		{"ipv4 options cut by the capture", LinkEthernet, shortOpts, summary{}, ErrTruncated},
		{"ipv4 total length 0 (TSO) uses the captured length", LinkEthernet, tso, tcpSum, nil},
		{"tcp header longer than the segment", LinkEthernet, badOffset,
			with(tcpSum, func(s *summary) {}), ErrBadHeaderLength},
		{"three vlan tags keep two", LinkEthernet, serialize(t, eth(layers.EthernetTypeQinQ),
			&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q}, &layers.Dot1Q{VLANIdentifier: 200, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 300, Type: layers.EthernetTypeIPv4}, ip4("10.1.0.1", "10.1.0.2", layers.IPProtocolTCP), tcp(40000, 443, true), payload),
			with(tcpSum, func(s *summary) { s.VLANs = []uint16{100, 200} }), nil},
		{"vlan tag cut", LinkEthernet, serialize(t, eth(layers.EthernetTypeDot1Q))[:16], summary{}, ErrTruncated},
		{"802.3 length field is not ip", LinkEthernet, cat(innerTCP[:12], []byte{0, 38, 0x42, 0x42, 3}, make([]byte, 43)), summary{}, nil},
		{"unknown ethertype is not an error", LinkEthernet, cat(innerTCP[:12], []byte{0x88, 0xcc}, make([]byte, 46)), summary{}, nil},
		{"bsd null, little-endian AF_INET6 (macOS)", LinkNull, cat([]byte{30, 0, 0, 0}, udp6), udp6Sum, nil},
		{"bsd null, AF_INET", LinkNull, cat([]byte{2, 0, 0, 0}, innerTCP[14:]), tcpSum, nil},
		{"dlt loop, big-endian AF_INET", 108, cat([]byte{0, 0, 0, 2}, innerTCP[14:]), tcpSum, nil},
		{"bsd null, unknown family", LinkNull, cat([]byte{7, 0, 0, 0}, innerTCP[14:]), summary{}, nil},
		{"raw ipv6 (linktype 229)", LinkIPv6, udp6, udp6Sum, nil},
		{"raw ipv4 (DLT 12)", 12, innerTCP[14:], tcpSum, nil},
		{"raw ip (DLT 14)", 14, udp6, udp6Sum, nil},
		{"sctp ports", LinkEthernet, serialize(t, eth(layers.EthernetTypeIPv4), ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolSCTP), gopacket.Payload(sctp)),
			summary{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: 132, SrcPort: 2905, DstPort: 2905, IPLen: 48, Payload: 16}, nil},
		{"icmpv6 echo", LinkEthernet, serialize(t, eth(layers.EthernetTypeIPv6), ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolICMPv6),
			&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(128, 0)}, &layers.ICMPv6Echo{Identifier: 9, SeqNumber: 1}, payload),
			summary{Src: "2001:db8::1", Dst: "2001:db8::2", Proto: 58, IPLen: 60, Payload: 12, ICMP: [2]uint8{128, 0}, EchoID: 9}, nil},
		{"ipv6 ah then tcp", LinkEthernet, serialize(t, eth(layers.EthernetTypeIPv6), ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolAH),
			gopacket.Payload(cat([]byte{6, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}, make([]byte, 12))), tcp(40000, 443, true), payload),
			summary{Src: "2001:db8::1", Dst: "2001:db8::2", Proto: 6, SrcPort: 40000, DstPort: 443, IPLen: 96, Payload: 12}, nil},
		{"ipv6 esp stops the walk", LinkEthernet, serialize(t, eth(layers.EthernetTypeIPv6), ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolESP),
			gopacket.Payload(make([]byte, 16))),
			summary{Src: "2001:db8::1", Dst: "2001:db8::2", Proto: 50, IPLen: 56, Payload: 16}, nil},
		{"ipv6 extension header cut by the capture", LinkEthernet, serialize(t, eth(layers.EthernetTypeIPv6), ip6("fe80::1", "ff02::1", layers.IPProtocolIPv6HopByHop),
			gopacket.Payload([]byte{17, 0, 0, 0, 0, 0, 0, 0}), udp(1, 2), payload)[:14+40+4],
			summary{Src: "fe80::1", Dst: "ff02::1", IPLen: 68, Truncated: true}, ErrTruncated},
		{"ipv6 atomic fragment is whole", LinkEthernet, serialize(t, eth(layers.EthernetTypeIPv6), ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolIPv6Fragment),
			gopacket.Payload([]byte{17, 0, 0, 0, 0, 0, 0, 9}), udp(7, 8), payload),
			summary{Src: "2001:db8::1", Dst: "2001:db8::2", Proto: 17, SrcPort: 7, DstPort: 8, IPLen: 68, Payload: 12}, nil},
		{"ipv6 later fragment has no ports", LinkEthernet, serialize(t, eth(layers.EthernetTypeIPv6), ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolIPv6Fragment),
			gopacket.Payload([]byte{17, 0, 0x05, 0xc8, 0, 0, 0, 9}), payload),
			summary{Src: "2001:db8::1", Dst: "2001:db8::2", Proto: 17, IPLen: 60, Payload: 12, Fragment: true, FragOffset: 1480}, nil},
		{"geneve carries ipv4", LinkEthernet, geneveUDP([]byte{0, 0, 0x08, 0x00, 0, 0, 9, 0}, innerTCP[14:]),
			with(tcpSum, func(s *summary) { s.Tunnels, s.VNIs = []string{"geneve"}, []uint32{9} }), nil},
		{"geneve carries ipv6", LinkEthernet, geneveUDP([]byte{0, 0, 0x86, 0xdd, 0, 0, 9, 0}, udp6),
			with(udp6Sum, func(s *summary) { s.Tunnels, s.VNIs = []string{"geneve"}, []uint32{9} }), nil},
		{"geneve of an unknown version stays udp", LinkEthernet, geneveUDP([]byte{0x40, 0, 0x65, 0x58, 0, 0, 9, 0}, innerTCP),
			with(outerGeneve, func(s *summary) { s.IPLen, s.Payload = 20+8+8+66, 8+66 }), ErrBadVersion},
		{"geneve options cut", LinkEthernet, geneveUDP([]byte{4, 0, 0x65, 0x58, 0, 0, 9, 0, 1, 2}, nil),
			with(outerGeneve, func(s *summary) { s.IPLen, s.Payload = 20+8+10, 10 }), ErrTruncated},
		{"gre checksum, key and sequence", LinkEthernet, greFrame([]byte{0xb0, 0, 0x08, 0x00, 0xaa, 0xbb, 0, 0, 0, 0, 0x12, 0x34, 0, 0, 0, 1}, innerTCP[14:]),
			with(tcpSum, func(s *summary) { s.Tunnels, s.VNIs = []string{"gre"}, []uint32{0x1234} }), nil},
		{"gre routing entries skipped", LinkEthernet, greFrame([]byte{0x40, 0, 0x65, 0x58, 0, 0, 0, 0, 0, 0x2, 0, 4, 1, 2, 3, 4, 0, 0, 0, 0}, innerTCP),
			with(tcpSum, func(s *summary) { s.Tunnels, s.VNIs = []string{"gre"}, []uint32{0} }), nil},
		{"gre version 1 (pptp) is not followed", LinkEthernet, grePlain,
			summary{Src: "198.51.100.1", Dst: "198.51.100.2", Proto: 47, IPLen: 20 + 32, Payload: 32}, nil},
		{"erspan type I", LinkEthernet, greFrame([]byte{0, 0, 0x88, 0xbe}, innerTCP),
			with(tcpSum, func(s *summary) { s.Tunnels, s.VNIs = []string{"gre"}, []uint32{0} }), nil},
		{"erspan type III with platform subheader", LinkEthernet,
			greFrame(cat([]byte{0x10, 0, 0x22, 0xeb, 0, 0, 0, 1}, erspan3[:11], []byte{0x01}, make([]byte, 8)), innerTCP),
			with(tcpSum, func(s *summary) { s.Tunnels, s.VNIs = []string{"erspan3"}, []uint32{43} }), nil},
		{"erspan type III carrying ip", LinkEthernet,
			greFrame(cat([]byte{0x10, 0, 0x22, 0xeb, 0, 0, 0, 1}, erspan3[:10], []byte{2 << 2, 0}), innerTCP[14:]),
			with(tcpSum, func(s *summary) { s.Tunnels, s.VNIs = []string{"erspan3"}, []uint32{43} }), nil},
		{"erspan type II header cut", LinkEthernet, greFrame([]byte{0x10, 0, 0x88, 0xbe, 0, 0, 0, 1, 0x10, 0}, nil),
			summary{Src: "198.51.100.1", Dst: "198.51.100.2", Proto: 47, IPLen: 20 + 10, Payload: 10}, ErrTruncated},
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
			if p.Payload != nil && !within(tc.data, p.Payload) {
				t.Errorf("payload is not a part of the frame")
			}
		})
	}
}
