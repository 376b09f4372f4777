package decode

import (
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// benchCase is a representative frame for the allocation test and the
// benchmarks.
type benchCase struct {
	name  string
	link  LinkType
	data  []byte
	outer *Tunnel
}

func benchCases(t testing.TB) []benchCase {
	payload := gopacket.Payload(make([]byte, 200))
	tcpFrame := serialize(t, eth(layers.EthernetTypeIPv4), ip4("10.1.0.1", "10.1.0.2", layers.IPProtocolTCP), tcp(40000, 443, false), payload)
	udp6 := serialize(t, eth(layers.EthernetTypeIPv6), ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolUDP), udp(5000, 53), payload)
	qinq := serialize(t, eth(layers.EthernetTypeQinQ), &layers.Dot1Q{VLANIdentifier: 13, Type: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv4}, ip4("10.1.0.1", "10.1.0.2", layers.IPProtocolUDP), udp(5000, 53), payload)
	vxlanTCP := serialize(t, eth(layers.EthernetTypeIPv4), ip4("172.31.0.10", "172.31.0.250", layers.IPProtocolUDP),
		udp(50000, 4789), &layers.VXLAN{ValidIDFlag: true, VNI: 42}, gopacket.Payload(tcpFrame))
	gen := serialize(t, eth(layers.EthernetTypeIPv4), ip4("192.0.2.1", "192.0.2.2", layers.IPProtocolUDP), udp(40000, 6081),
		gopacket.Payload(append([]byte{2, 0, 0x65, 0x58, 0, 0, 7, 0, 1, 2, 3, 4, 5, 6, 7, 8}, vxlanTCP...)))
	erspan := serialize(t, eth(layers.EthernetTypeIPv4), ip4("198.51.100.1", "198.51.100.2", layers.IPProtocolGRE),
		gopacket.Payload(append([]byte{0x10, 0, 0x88, 0xbe, 0, 0, 0, 7, 0x10, 0, 0x00, 0x2a, 0, 0, 0, 0}, tcpFrame...)))
	outer := &Tunnel{Src: netip.MustParseAddr("172.31.0.10"), Dst: netip.MustParseAddr("172.31.0.250"), SrcPort: 50000, DstPort: 4789}
	return []benchCase{
		{"eth-ipv4-tcp", LinkEthernet, tcpFrame, nil},
		{"eth-ipv6-udp", LinkEthernet, udp6, nil},
		{"qinq-ipv4-udp", LinkEthernet, qinq, nil},
		{"vxlan-tcp", LinkEthernet, vxlanTCP, nil},
		{"geneve-vxlan-tcp", LinkEthernet, gen, nil},
		{"erspan2-tcp", LinkEthernet, erspan, nil},
		{"listener-vxlan-tcp", LinkVXLANPayload, vxlanTCP[14+20+8:], outer},
		{"truncated-tcp", LinkEthernet, tcpFrame[:14+20+10], nil}, // an error path
	}
}

// TestDecodeZeroAlloc keeps the hot path allocation-free, error paths
// included.
func TestDecodeZeroAlloc(t *testing.T) {
	d := NewDecoder(DefaultConfig())
	var p Packet
	for _, c := range benchCases(t) {
		if n := testing.AllocsPerRun(100, func() { _ = d.Decode(c.data, c.link, c.outer, &p) }); n != 0 {
			t.Errorf("%s: %.1f allocations per packet", c.name, n)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, c := range benchCases(b) {
		b.Run(c.name, func(b *testing.B) {
			d := NewDecoder(DefaultConfig())
			var p Packet
			b.ReportAllocs()
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				_ = d.Decode(c.data, c.link, c.outer, &p)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}
