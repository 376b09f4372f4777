package decode

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

var updateSeeds = flag.Bool("update", false, "rewrite the fuzz seed corpora from the shared captures")

// checkInvariants holds for any input: the decoder never panics, and what
// it reports stays within what it was given.
func checkInvariants(t *testing.T, data []byte, p *Packet) {
	if p.NumTunnels < 0 || p.NumTunnels > MaxTunnels || p.NumVLANs > len(p.VLANs) {
		t.Fatalf("tunnels %d, vlans %d", p.NumTunnels, p.NumVLANs)
	}
	if len(p.Payload) > len(data) {
		t.Fatalf("payload %d bytes from %d bytes of input", len(p.Payload), len(data))
	}
	if p.IPVersion != 0 && p.IPVersion != 4 && p.IPVersion != 6 {
		t.Fatalf("IP version %d", p.IPVersion)
	}
	if p.PayloadLen < 0 || p.IPLen < 0 {
		t.Fatalf("negative lengths %d %d", p.PayloadLen, p.IPLen)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{}, uint32(LinkEthernet))
	d := NewDecoder(DefaultConfig())
	var p Packet
	f.Fuzz(func(t *testing.T, data []byte, link uint32) {
		links := []LinkType{LinkEthernet, LinkRaw, LinkLinuxSLL, LinkLinuxSLL2, LinkNull, LinkIPv4, LinkIPv6}
		_ = d.Decode(data, links[link%uint32(len(links))], nil, &p)
		checkInvariants(t, data, &p)
	})
}

func FuzzTunnel(f *testing.F) {
	f.Add([]byte{0x08, 0, 0, 0, 0, 0, 1, 0}, true)
	d := NewDecoder(DefaultConfig())
	outer := Tunnel{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"), SrcPort: 1, DstPort: 4789}
	var p Packet
	f.Fuzz(func(t *testing.T, data []byte, vxlan bool) {
		link := LinkGENEVEPayload
		if vxlan {
			link = LinkVXLANPayload
		}
		_ = d.Decode(data, link, &outer, &p)
		checkInvariants(t, data, &p)
		if p.NumTunnels > 0 && p.Tunnels[0].Src != outer.Src {
			t.Fatalf("outer source lost: %v", p.Tunnels[0].Src)
		}
	})
}

// TestSeedCorpus rewrites testdata/fuzz from real frames with -update:
// every frame of the shared captures for FuzzDecode, and the VXLAN/GENEVE
// payloads among them for FuzzTunnel.
func TestSeedCorpus(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update to rewrite the seed corpora")
	}
	for _, path := range sharedCaptures(t) {
		r := openCapture(t, path)
		if r == nil {
			continue
		}
		d := NewDecoder(DefaultConfig())
		var p Packet
		for i := 0; i < 6; i++ {
			data, _, err := r.ReadPacketData()
			if err != nil {
				break
			}
			writeSeed(t, "FuzzDecode", fmt.Sprintf("[]byte(%q)\nuint32(%d)\n", data, linkIndex(LinkType(r.LinkType()))))
			if d.Decode(data, LinkType(r.LinkType()), nil, &p) == nil && p.NumTunnels > 0 && p.Tunnels[0].DstPort != 0 {
				// The datagram payload as a UDP listener would receive it.
				off := len(data) - p.Tunnels[0].PayloadLen
				if off > 0 && off < len(data) {
					writeSeed(t, "FuzzTunnel", fmt.Sprintf("[]byte(%q)\nbool(%v)\n", data[off:], p.Tunnels[0].Kind == TunnelVXLAN))
				}
			}
		}
	}
}

func linkIndex(l LinkType) int {
	for i, x := range []LinkType{LinkEthernet, LinkRaw, LinkLinuxSLL, LinkLinuxSLL2, LinkNull, LinkIPv4, LinkIPv6} {
		if x == l {
			return i
		}
	}
	return 0
}

func writeSeed(t *testing.T, target, body string) {
	body = "go test fuzz v1\n" + body
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("%x", sha256.Sum256([]byte(body)))[:16]
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
