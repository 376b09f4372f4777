package synth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// TestDefaultMixUnchanged: without Config.IoT the output is the same
// bytes as before the IoT mix existed (the hashes were computed then);
// benchmarks and other packages' tests depend on it.
func TestDefaultMixUnchanged(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Packets: 20000, Flows: 300, IPv6Share: 0.3, Seed: 7}, "446d6c23474f2d9aafddc531978ba09b0ffbdcf3494f13341280e30ebaf10cde"},
		{Config{Packets: 20000, Flows: 300, IPv6Share: 0.3, Seed: 7, VXLAN: true}, "e963df066078d0b0fe2374067073bfe037113082b2434165105456bfd00342c6"},
	} {
		data, _ := write(t, tc.cfg)
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != tc.want {
			t.Errorf("vxlan=%v: sha256 %x, want %s", tc.cfg.VXLAN, sum, tc.want)
		}
	}
}

func TestIoTDeterministic(t *testing.T) {
	cfg := Config{Packets: 20000, Flows: 300, IPv6Share: 0.3, Seed: 7, IoT: true}
	a, _ := write(t, cfg)
	if b, _ := write(t, cfg); !bytes.Equal(a, b) {
		t.Error("same seed, different bytes")
	}
	cfg.IoT = false
	if b, _ := write(t, cfg); bytes.Equal(a, b) {
		t.Error("the IoT mix wrote the default mix")
	}
}

// host is the name device dev goes by in every protocol.
func host(dev int) string { return fmt.Sprintf("%s-%04d", roleNames[roleOf(dev)], dev) }

// fleetDev is the device index of a fleet address, or -1.
func fleetDev(a netip.Addr) int {
	b := a.As16()
	if !a.Is4() || b[12] != 10 || b[13] != 20 || b[14] < 16 || b[14] > 31 {
		return -1
	}
	return int(b[14]-16)<<8 | int(b[15])
}

// TestIoTShare draws conversations: about iotShare % come from the IoT
// mix, every kind shows up, and each kind's device has the role for it.
func TestIoTShare(t *testing.T) {
	g := &gen{cfg: Config{IoT: true}, rng: rand.New(rand.NewPCG(1, 2))}
	const n = 100000
	kinds := map[kind]int{}
	roles := map[kind][]role{
		kindMQTT: {roleSensor, roleThermostat}, kindFTP: {roleCam}, kindTelnet: {roleCam},
		kindSSH: {roleGateway}, kindMDNS: {roleCam, roleThermostat}, kindLLMNR: {roleWorkstation},
		kindDHCP: {roleSensor, roleCam, roleThermostat, roleGateway, roleWorkstation},
	}
	var c conv
	for range n {
		g.newConv(&c)
		kinds[c.kind]++
		if c.kind < kindMQTT {
			continue
		}
		if c.steps <= 0 || c.v6 {
			t.Fatalf("%+v", c)
		}
		if want, ok := roles[c.kind]; ok && !contains(want, roleOf(int(c.dev))) {
			t.Fatalf("kind %d from device %d, role %d", c.kind, c.dev, roleOf(int(c.dev)))
		}
	}
	iot := 0
	for k := kindMQTT; k <= kindLLMNR; k++ {
		if kinds[k] == 0 {
			t.Errorf("kind %d never drawn", k)
		}
		iot += kinds[k]
	}
	if share := 100 * float64(iot) / n; share < iotShare-1 || share > iotShare+1 {
		t.Errorf("IoT share %.1f %%, want %d", share, iotShare)
	}
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestIoTCapture decodes IoT captures with gopacket: every checksum is
// valid, every kind is there, and devices are named consistently: DHCP
// host names and leases, MQTT client ids, mDNS records, FTP users and
// telnet prompts all agree with the device's address.
func TestIoTCapture(t *testing.T) {
	for _, vx := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "vxlan"}[vx], func(t *testing.T) {
			data, _ := write(t, Config{Packets: 60000, Flows: 500, IPv6Share: 0.2, Seed: 5, IoT: true, VXLAN: vx})
			counts := checkIoT(t, data)
			for _, port := range []uint16{1883, 502, 102, 20000, 47808, 67, 22, 23, 21, 5353, 5355} {
				if counts[port] == 0 {
					t.Errorf("no packets on port %d", port)
				}
			}
			t.Logf("packets by server port: %v", counts)
		})
	}
}

// checkIoT walks a capture and returns the packets per IoT server port.
func checkIoT(t *testing.T, data []byte) map[uint16]int {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[uint16]int{}
	ports := map[bool]map[uint16]bool{ // by "is UDP"
		false: {1883: true, 502: true, 102: true, 20000: true, 22: true, 23: true, 21: true},
		true:  {47808: true, 67: true, 68: true, 5353: true, 5355: true},
	}
	for n := 1; ; n++ {
		d, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(d, layers.LinkTypeEthernet, gopacket.DecodeOptions{DecodeStreamsAsDatagrams: true})
		var ip gopacket.NetworkLayer
		var src netip.Addr
		var payload []byte
		var sport, dport uint16
		var udp bool
		for _, l := range p.Layers() {
			switch l := l.(type) {
			case *layers.IPv4:
				ip = l
				src = netip.AddrFrom4([4]byte(l.SrcIP.To4()))
				verify(t, n, "IPv4", l)
			case *layers.IPv6:
				ip, src = l, netip.AddrFrom16([16]byte(l.SrcIP))
			case *layers.TCP:
				_ = l.SetNetworkLayerForChecksum(ip)
				verify(t, n, "TCP", l)
				payload, sport, dport = l.Payload, uint16(l.SrcPort), uint16(l.DstPort)
			case *layers.UDP:
				if l.DstPort == 4789 {
					continue
				}
				_ = l.SetNetworkLayerForChecksum(ip)
				verify(t, n, "UDP", l)
				payload, sport, dport, udp = l.Payload, uint16(l.SrcPort), uint16(l.DstPort), true
			case *layers.ModbusTCP:
				if int(l.Length) != len(l.Contents)+len(l.LayerPayload())-6 {
					t.Errorf("packet %d: MBAP length %d for %d bytes", n, l.Length, len(l.Contents)+len(l.LayerPayload()))
				}
			}
		}
		port, other := min(sport, dport), max(sport, dport)
		if !ports[udp][port] {
			continue
		}
		if port == 68 {
			port = 67
		}
		counts[port]++
		// gopacket guesses the application by either port, the
		// destination first: a client's ephemeral port may be one it
		// knows (44818, EtherNet/IP).
		guessed := layers.TCPPort(other).LayerType() != gopacket.LayerTypePayload || layers.UDPPort(other).LayerType() != gopacket.LayerTypePayload
		if el := p.ErrorLayer(); el != nil && !guessed {
			t.Errorf("packet %d: %v", n, el.Error())
			continue
		}
		checkNames(t, n, p, port, payload, src)
	}
	return counts
}

// checkNames checks that a packet names its device as host() does.
func checkNames(t *testing.T, n int, p gopacket.Packet, port uint16, payload []byte, src netip.Addr) {
	t.Helper()
	switch port {
	case 67:
		dhcp, ok := p.Layer(layers.LayerTypeDHCPv4).(*layers.DHCPv4)
		if !ok {
			t.Errorf("packet %d: no DHCP", n)
			return
		}
		mac := dhcp.ClientHWAddr
		dev := int(mac[4])<<8 | int(mac[5])
		for _, o := range dhcp.Options {
			if o.Type == layers.DHCPOptHostname && string(o.Data) != host(dev) {
				t.Errorf("packet %d: DHCP host name %q from %v, want %s", n, o.Data, mac, host(dev))
			}
			if o.Type == layers.DHCPOptClassID && string(o.Data) != dhcpClients[roleOf(dev)].vendor {
				t.Errorf("packet %d: DHCP vendor class %q for a %s", n, o.Data, roleNames[roleOf(dev)])
			}
		}
		if dhcp.Operation == layers.DHCPOpReply && fleetDev(netip.AddrFrom4([4]byte(dhcp.YourClientIP.To4()))) != dev {
			t.Errorf("packet %d: DHCP leases %v to %v", n, dhcp.YourClientIP, mac)
		}
	case 1883:
		if len(payload) > 14 && payload[0] == 0x10 {
			id := payload[14 : 14+int(payload[13])]
			if dev := fleetDev(src); string(id) != host(dev) {
				t.Errorf("packet %d: MQTT client id %q from %v", n, id, src)
			}
		}
	case 21:
		if user, ok := bytes.CutPrefix(payload, []byte("USER ")); ok && string(bytes.TrimSpace(user)) != host(fleetDev(src)) {
			t.Errorf("packet %d: FTP user %q from %v", n, user, src)
		}
	case 23:
		if bytes.HasSuffix(payload, []byte(" login: ")) && !bytes.Contains(payload, []byte(host(fleetDev(src)))) {
			t.Errorf("packet %d: telnet prompt %q from %v", n, payload, src)
		}
	case 5353, 5355:
		var dns layers.DNS
		if err := dns.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
			t.Errorf("packet %d: %v", n, err)
			return
		}
		for _, a := range dns.Answers {
			if a.Type != layers.DNSTypeA {
				continue
			}
			dev := fleetDev(netip.AddrFrom4([4]byte(a.IP.To4())))
			if name := strings.TrimSuffix(string(a.Name), ".local"); name != host(dev) || port == 5353 && a.IP.String() != src.String() {
				t.Errorf("packet %d: %s answers %s is %v", n, src, a.Name, a.IP)
			}
		}
	}
}
