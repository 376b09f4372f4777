package synth

import (
	"bytes"
	"io"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func TestDeterministicAndDecodable(t *testing.T) {
	cfg := Config{Packets: 5000, Flows: 200, VXLAN: true, IPv6Share: 0.3, Seed: 7}
	var a, b bytes.Buffer
	st, err := WritePCAP(&a, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WritePCAP(&b, cfg); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("same seed, different bytes")
	}
	if st.Packets != cfg.Packets {
		t.Errorf("%d packets, want %d", st.Packets, cfg.Packets)
	}
	r, err := pcapgo.NewReader(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var n, vxlan, v6, tcp, udp, icmp int
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		n++
		p := gopacket.NewPacket(data, layers.LinkTypeEthernet, gopacket.Default)
		if p.ErrorLayer() != nil {
			t.Fatalf("packet %d: %v", n, p.ErrorLayer().Error())
		}
		if p.Layer(layers.LayerTypeVXLAN) != nil {
			vxlan++
		}
		if p.Layer(layers.LayerTypeIPv6) != nil {
			v6++
		}
		switch {
		case p.Layer(layers.LayerTypeTCP) != nil:
			tcp++
		case p.Layer(layers.LayerTypeICMPv4) != nil, p.Layer(layers.LayerTypeICMPv6) != nil:
			icmp++
		case p.Layer(layers.LayerTypeUDP) != nil && len(p.Layers()) > 0:
			udp++
		}
	}
	if n != cfg.Packets || vxlan != n {
		t.Errorf("%d packets, %d in VXLAN", n, vxlan)
	}
	if v6 == 0 || tcp == 0 || icmp == 0 {
		t.Errorf("mix: ipv6 %d, tcp %d, icmp %d", v6, tcp, icmp)
	}
}

func BenchmarkWritePCAP(b *testing.B) {
	for b.Loop() {
		if _, err := WritePCAP(io.Discard, Config{Packets: 100_000, Flows: 1000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
