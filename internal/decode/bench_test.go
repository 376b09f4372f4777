package decode

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func benchFrames(t testing.TB) map[string][]byte {
	payload := gopacket.Payload(make([]byte, 200))
	tcpFrame := serialize(t, eth(layers.EthernetTypeIPv4), ip4("10.1.0.1", "10.1.0.2", layers.IPProtocolTCP), tcp(40000, 443, false), payload)
	udp6 := serialize(t, eth(layers.EthernetTypeIPv6), ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolUDP), udp(5000, 53), payload)
	vx := func(vni uint32, inner []byte) []byte {
		return serialize(t, eth(layers.EthernetTypeIPv4), ip4("172.31.0.10", "172.31.0.250", layers.IPProtocolUDP),
			udp(50000, 4789), &layers.VXLAN{ValidIDFlag: true, VNI: vni}, gopacket.Payload(inner))
	}
	vxlanTCP := vx(42, tcpFrame)
	gen := serialize(t, eth(layers.EthernetTypeIPv4), ip4("192.0.2.1", "192.0.2.2", layers.IPProtocolUDP), udp(40000, 6081),
		gopacket.Payload(append([]byte{2, 0, 0x65, 0x58, 0, 0, 7, 0, 1, 2, 3, 4, 5, 6, 7, 8}, vxlanTCP...)))
	return map[string][]byte{"eth-ipv4-tcp": tcpFrame, "eth-ipv6-udp": udp6, "vxlan-tcp": vxlanTCP, "geneve-vxlan-tcp": gen}
}

// TestDecodeZeroAlloc keeps the hot path allocation-free.
func TestDecodeZeroAlloc(t *testing.T) {
	d := NewDecoder(DefaultConfig())
	var p Packet
	for name, frame := range benchFrames(t) {
		if n := testing.AllocsPerRun(100, func() { _ = d.Decode(frame, LinkEthernet, nil, &p) }); n != 0 {
			t.Errorf("%s: %.1f allocations per packet", name, n)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	for name, frame := range benchFrames(b) {
		b.Run(name, func(b *testing.B) {
			d := NewDecoder(DefaultConfig())
			var p Packet
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				_ = d.Decode(frame, LinkEthernet, nil, &p)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}
