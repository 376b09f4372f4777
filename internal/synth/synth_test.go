package synth

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func write(t testing.TB, cfg Config) ([]byte, Stats) {
	t.Helper()
	var b bytes.Buffer
	st, err := WritePCAP(&b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), st
}

func TestDeterministic(t *testing.T) {
	for _, vx := range []bool{false, true} {
		cfg := Config{Packets: 20000, Flows: 300, VXLAN: vx, IPv6Share: 0.3, Seed: 7}
		a, _ := write(t, cfg)
		b, _ := write(t, cfg)
		if !bytes.Equal(a, b) {
			t.Errorf("vxlan=%v: same seed, different bytes", vx)
		}
		cfg.Seed = 8
		if c, _ := write(t, cfg); bytes.Equal(a, c) {
			t.Errorf("vxlan=%v: seeds 7 and 8 wrote the same bytes", vx)
		}
	}
}

func TestPacketCountExact(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"none", Config{Packets: 0, Flows: 10}},
		{"one", Config{Packets: 1, Flows: 10}},
		{"odd", Config{Packets: 1237, Flows: 3, IPv6Share: 1}},
		{"vxlan", Config{Packets: 10000, Flows: 1000, VXLAN: true, Seed: 3}},
		{"more flows than packets", Config{Packets: 50, Flows: 5000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, st := write(t, tc.cfg)
			r, err := pcapgo.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if r.LinkType() != layers.LinkTypeEthernet {
				t.Errorf("link type %v", r.LinkType())
			}
			n, size := 0, 0
			for {
				d, ci, err := r.ReadPacketData()
				if errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					t.Fatalf("packet %d: %v", n+1, err)
				}
				if ci.CaptureLength != len(d) || ci.Length != len(d) {
					t.Fatalf("packet %d: caplen %d len %d data %d", n+1, ci.CaptureLength, ci.Length, len(d))
				}
				n++
				size += len(d)
			}
			if n != tc.cfg.Packets || st.Packets != n || st.Bytes != size {
				t.Errorf("read %d packets (%d bytes); stats %+v; want %d", n, size, st, tc.cfg.Packets)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{{Packets: -1, Flows: 1}, {Packets: 1}, {Packets: 1, Flows: 1, IPv6Share: 1.5}} {
		if _, err := WritePCAP(io.Discard, cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

// census is what a capture holds, as gopacket decodes it.
type census struct {
	packets, vxlan, v6, dot1q, qinq        int
	tcp, syn, fin, rst, udp, icmp4, icmp6  int
	dnsQueries, dnsAnswers, sni, http, ntp int
	serverHellos                           int
	vnis                                   map[uint32]bool
	first, last                            map[flowKey]int
}

type flowKey struct {
	a, b  netip.AddrPort
	proto uint8
}

func key(src, dst netip.AddrPort, proto uint8) flowKey {
	if dst.Addr().Less(src.Addr()) || (dst.Addr() == src.Addr() && dst.Port() < src.Port()) {
		src, dst = dst, src
	}
	return flowKey{a: src, b: dst, proto: proto}
}

func takeCensus(t *testing.T, data []byte) census {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := census{vnis: map[uint32]bool{}, first: map[flowKey]int{}, last: map[flowKey]int{}}
	for {
		d, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		c.packets++
		p := gopacket.NewPacket(d, layers.LinkTypeEthernet, gopacket.DecodeOptions{DecodeStreamsAsDatagrams: true})
		if el := p.ErrorLayer(); el != nil {
			// gopacket's TLS decoder knows ClientHello only; a ServerHello
			// is the one record it refuses.
			tls, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if tls == nil || tls.SrcPort != 443 && tls.SrcPort != 8883 || len(tls.Payload) < 6 || tls.Payload[0] != 0x16 || tls.Payload[5] != 2 {
				t.Fatalf("packet %d: %v\n%s", c.packets, el.Error(), p.Dump())
			}
			c.serverHellos++
		}
		c.census(t, p)
	}
	return c
}

func (c *census) census(t *testing.T, p gopacket.Packet) {
	t.Helper()
	var ip gopacket.NetworkLayer
	var src, dst netip.Addr
	for _, l := range p.Layers() {
		switch l := l.(type) {
		case *layers.VXLAN:
			c.vxlan++
			c.vnis[l.VNI] = true
			outer := ip.(*layers.IPv4)
			if outer.DstIP.String() != "10.0.0.250" {
				t.Errorf("packet %d: VXLAN to %v, want the sensor 10.0.0.250", c.packets, outer.DstIP)
			}
		case *layers.Dot1Q:
			c.dot1q++
			if l.Type == layers.EthernetTypeDot1Q {
				c.qinq++
			}
		case *layers.IPv4:
			ip = l
			src, dst = netip.AddrFrom4([4]byte(l.SrcIP.To4())), netip.AddrFrom4([4]byte(l.DstIP.To4()))
			if err, res := l.VerifyChecksum(); err != nil || !res.Valid {
				t.Errorf("packet %d: IPv4 header checksum %+v %v", c.packets, res, err)
			}
		case *layers.IPv6:
			ip = l
			c.v6++
			src, dst = netip.AddrFrom16([16]byte(l.SrcIP)), netip.AddrFrom16([16]byte(l.DstIP))
		case *layers.TCP:
			c.tcp++
			c.syn += b2i(l.SYN && !l.ACK)
			c.fin += b2i(l.FIN)
			c.rst += b2i(l.RST)
			if bytes.HasPrefix(l.Payload, []byte("GET ")) || bytes.HasPrefix(l.Payload, []byte("POST ")) {
				c.http++
			}
			_ = l.SetNetworkLayerForChecksum(ip)
			verify(t, c.packets, "TCP", l)
			c.flow(key(netip.AddrPortFrom(src, uint16(l.SrcPort)), netip.AddrPortFrom(dst, uint16(l.DstPort)), 6))
		case *layers.UDP:
			if l.DstPort == 4789 {
				if l.Checksum != 0 {
					t.Errorf("packet %d: outer UDP checksum %#x, want 0", c.packets, l.Checksum)
				}
				continue
			}
			c.udp++
			_ = l.SetNetworkLayerForChecksum(ip)
			verify(t, c.packets, "UDP", l)
			c.flow(key(netip.AddrPortFrom(src, uint16(l.SrcPort)), netip.AddrPortFrom(dst, uint16(l.DstPort)), 17))
		case *layers.ICMPv4:
			c.icmp4++
			verify(t, c.packets, "ICMPv4", l)
			c.flow(key(netip.AddrPortFrom(src, l.Id), netip.AddrPortFrom(dst, l.Id), 1))
		case *layers.ICMPv6:
			c.icmp6++
			_ = l.SetNetworkLayerForChecksum(ip)
			verify(t, c.packets, "ICMPv6", l)
			c.flow(key(netip.AddrPortFrom(src, 0), netip.AddrPortFrom(dst, 0), 58))
		case *layers.DNS:
			if len(l.Questions) != 1 {
				t.Errorf("packet %d: DNS with %d questions", c.packets, len(l.Questions))
			}
			if l.QR {
				c.dnsAnswers += b2i(len(l.Answers) == 1 && len(l.Answers[0].IP) > 0 || l.ResponseCode == layers.DNSResponseCodeNXDomain)
			} else {
				c.dnsQueries++
			}
		case *layers.TLS:
			for _, h := range l.Handshake {
				if len(h.ClientHello.SNI) > 0 {
					c.sni++
				}
			}
		case *layers.NTP:
			c.ntp++
		}
	}
}

func (c *census) flow(k flowKey) {
	if _, ok := c.first[k]; !ok {
		c.first[k] = c.packets
	}
	c.last[k] = c.packets
}

type verifier interface {
	VerifyChecksum() (error, gopacket.ChecksumVerificationResult)
}

func verify(t *testing.T, n int, what string, l verifier) {
	t.Helper()
	if err, res := l.VerifyChecksum(); err != nil || !res.Valid {
		t.Errorf("packet %d: %s checksum %+v %v", n, what, res, err)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestDecodesAsFleetTraffic(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"plain", Config{Packets: 40000, Flows: 200, IPv6Share: 0.3, Seed: 11}},
		{"vxlan", Config{Packets: 40000, Flows: 200, IPv6Share: 0.3, Seed: 12, VXLAN: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, st := write(t, tc.cfg)
			c := takeCensus(t, data)
			if c.packets != tc.cfg.Packets {
				t.Fatalf("%d packets", c.packets)
			}
			if tc.cfg.VXLAN {
				if c.vxlan != c.packets || len(c.vnis) < 2 || len(c.vnis) > 4 || c.dot1q != 0 {
					t.Errorf("%d of %d packets in VXLAN, VNIs %v, %d VLAN tags", c.vxlan, c.packets, c.vnis, c.dot1q)
				}
			} else if c.vxlan != 0 || c.dot1q < c.packets/10 || c.qinq == 0 {
				t.Errorf("plain capture: %d VXLAN, %d 802.1Q tags, %d 802.1ad", c.vxlan, c.dot1q, c.qinq)
			}
			share := float64(c.v6) / float64(c.packets)
			if share < 0.15 || share > 0.4 {
				t.Errorf("IPv6 share %.2f, asked for 0.3", share)
			}
			for name, n := range map[string]int{
				"tcp": c.tcp, "syn": c.syn, "fin": c.fin, "rst": c.rst, "udp": c.udp, "icmpv4": c.icmp4, "icmpv6": c.icmp6,
				"dns queries": c.dnsQueries, "dns answers": c.dnsAnswers, "tls sni": c.sni, "http requests": c.http,
				"ntp": c.ntp, "tls server hellos": c.serverHellos,
			} {
				if n == 0 {
					t.Errorf("no %s in the mix", name)
				}
			}
			// Every conversation that sent a packet is one flow (a few
			// may share a 5-tuple: NTP clients use port 123 both ways).
			if flows := len(c.first); flows > st.Conversations || flows < st.Conversations*97/100 {
				t.Errorf("%d distinct flows, %d conversations", flows, st.Conversations)
			}
			// About Flows conversations are alive at any time: count those
			// that sent a packet before and after the middle of the capture.
			mid, alive := c.packets/2, 0
			for k, f := range c.first {
				if f <= mid && c.last[k] >= mid {
					alive++
				}
			}
			if alive < tc.cfg.Flows*6/10 || alive > tc.cfg.Flows*11/10 {
				t.Errorf("%d flows alive mid-capture, want about %d", alive, tc.cfg.Flows)
			}
			t.Logf("%+v; %d alive mid-capture; tcp %d udp %d icmp %d/%d dns %d/%d sni %d http %d ntp %d",
				st, alive, c.tcp, c.udp, c.icmp4, c.icmp6, c.dnsQueries, c.dnsAnswers, c.sni, c.http, c.ntp)
		})
	}
}

// TestNoAllocationPerPacket: the allocations of a run do not grow with
// its length (buffers are set up once).
func TestNoAllocationPerPacket(t *testing.T) {
	for _, iot := range []bool{false, true} {
		allocs := func(packets int) float64 {
			return testing.AllocsPerRun(3, func() {
				if _, err := WritePCAP(io.Discard, Config{Packets: packets, Flows: 100, VXLAN: true, IPv6Share: 0.5, Seed: 1, IoT: iot}); err != nil {
					t.Fatal(err)
				}
			})
		}
		if short, long := allocs(1000), allocs(50000); long != short {
			t.Errorf("iot=%v: %v allocations for 1000 packets, %v for 50000", iot, short, long)
		}
	}
}

func BenchmarkWritePCAP(b *testing.B) {
	for _, tc := range []struct {
		name    string
		vx, iot bool
	}{{"plain", false, false}, {"vxlan", true, false}, {"iot", false, true}} {
		b.Run(tc.name, func(b *testing.B) {
			const packets = 1_000_000
			b.ReportAllocs()
			var st Stats
			for b.Loop() {
				var err error
				if st, err = WritePCAP(io.Discard, Config{Packets: packets, Flows: 10000, VXLAN: tc.vx, IPv6Share: 0.2, Seed: 1, IoT: tc.iot}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*packets), "ns/packet")
			b.SetBytes(int64(st.Bytes))
		})
	}
}
