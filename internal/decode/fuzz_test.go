package decode

import (
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unsafe"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var updateSeeds = flag.Bool("update", false, "rewrite the fuzz seed corpora under testdata/fuzz from the shared captures")

// fuzzLinks maps FuzzDecode's link argument to a link type. The order is
// part of the committed seed corpus: append, never reorder.
var fuzzLinks = [...]LinkType{LinkEthernet, LinkRaw, LinkLinuxSLL, LinkLinuxSLL2, LinkNull, LinkIPv4, LinkIPv6,
	LinkVXLANPayload, LinkGENEVEPayload, linkLoop, linkRawDLT12, 9999}

func linkIndex(l LinkType) uint32 {
	for i, x := range fuzzLinks {
		if x == l {
			return uint32(i)
		}
	}
	return 0
}

// within reports whether sub lies inside whole's memory, so that a Payload
// is known to be a view of the frame and not of something else.
func within(whole, sub []byte) bool {
	if len(sub) == 0 {
		return true
	}
	if len(whole) == 0 {
		return false
	}
	w, s := uintptr(unsafe.Pointer(unsafe.SliceData(whole))), uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	return s >= w && s+uintptr(len(sub)) <= w+uintptr(len(whole))
}

// checkInvariants holds for any input: what the decoder reports stays
// within what it was given and is self-consistent.
func checkInvariants(t *testing.T, data []byte, p *Packet, err error) {
	t.Helper()
	if err != nil {
		var de *Error
		if !errors.As(err, &de) || de.Reason >= numReasons || !errors.Is(err, de.Reason.sentinel()) || de.Offset < 0 || de.Offset > len(data) {
			t.Fatalf("error %#v is not a well-formed *Error", err)
		}
	}
	if p.NumTunnels < 0 || p.NumTunnels > MaxTunnels || p.NumVLANs < 0 || p.NumVLANs > len(p.VLANs) {
		t.Fatalf("tunnels %d, vlans %d", p.NumTunnels, p.NumVLANs)
	}
	for i, tn := range p.Tunnels {
		if (i < p.NumTunnels) != (tn.Kind != TunnelNone) || int(tn.Kind) >= numTunnelKinds || tn.PayloadLen < 0 || tn.IPLen < 0 {
			t.Fatalf("tunnel %d of %d: %+v", i, p.NumTunnels, tn)
		}
	}
	if !within(data, p.Payload) {
		t.Fatalf("payload (%d bytes) is not inside the %d-byte frame", len(p.Payload), len(data))
	}
	switch p.IPVersion {
	case 0:
		if p.Src.IsValid() || p.Truncated || p.IPLen != 0 {
			t.Fatalf("addresses or lengths without IP: %+v", summarize(p))
		}
	case 4, 6:
		if !p.Src.IsValid() || (p.IPVersion == 4) != p.Src.Is4() || p.IPLen < 20 {
			t.Fatalf("IPv%d with %v, length %d", p.IPVersion, p.Src, p.IPLen)
		}
	default:
		t.Fatalf("IP version %d", p.IPVersion)
	}
	if p.PayloadLen < 0 || p.PayloadLen > p.IPLen || len(p.Payload) > p.PayloadLen {
		t.Fatalf("payload %d captured of %d, IP length %d", len(p.Payload), p.PayloadLen, p.IPLen)
	}
	if p.Truncated && p.PayloadLen > 0 && len(p.Payload) >= p.PayloadLen {
		t.Fatalf("truncated although the whole %d-byte payload was captured", p.PayloadLen)
	}
	if p.CaptureLen != len(data) {
		t.Fatalf("capture length %d for %d bytes", p.CaptureLen, len(data))
	}
}

// decodeTwice decodes data into p and checks that a second decode gives
// the same packet: the decoder keeps no state between packets but counters.
func decodeTwice(t *testing.T, d *Decoder, data []byte, link LinkType, outer *Tunnel, p *Packet) error {
	err := d.Decode(data, link, outer, p)
	var q Packet
	err2 := d.Decode(data, link, outer, &q)
	if !reflect.DeepEqual(*p, q) || (err == nil) != (err2 == nil) {
		t.Fatalf("two decodes differ: %+v / %+v", summarize(p), summarize(&q))
	}
	return err
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{}, uint32(0))
	d := NewDecoder(DefaultConfig())
	var p Packet
	f.Fuzz(func(t *testing.T, data []byte, link uint32) {
		err := decodeTwice(t, d, data, fuzzLinks[link%uint32(len(fuzzLinks))], nil, &p)
		checkInvariants(t, data, &p, err)
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
		err := decodeTwice(t, d, data, link, &outer, &p)
		checkInvariants(t, data, &p, err)
		if p.NumTunnels > 0 && (p.Tunnels[0].Src != outer.Src || p.Tunnels[0].DstPort != outer.DstPort || p.Tunnels[0].PayloadLen != len(data)) {
			t.Fatalf("outer header lost: %+v", p.Tunnels[0])
		}
		if p.NumTunnels == 0 && err == nil {
			t.Fatal("a tunnel payload decoded without error but without a tunnel")
		}
	})
}

// TestSeedCorpus rewrites testdata/fuzz from real frames when run with
// -update: the first frames and the tunnelled frames of every shared
// capture for FuzzDecode, and their VXLAN/GENEVE datagram payloads (found
// by gopacket, as a UDP listener would receive them) for FuzzTunnel.
func TestSeedCorpus(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update to rewrite the seed corpora")
	}
	for _, target := range []string{"FuzzDecode", "FuzzTunnel"} {
		if err := os.RemoveAll(filepath.Join("testdata", "fuzz", target)); err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range sharedCaptures(t) {
		r := openCapture(t, path)
		if r == nil {
			continue
		}
		link := LinkType(r.LinkType())
		d := NewDecoder(DefaultConfig())
		var p Packet
		tunnelled := 0
		for i := 0; ; i++ {
			data, _, err := r.ReadPacketData()
			if err != nil {
				break
			}
			_ = d.Decode(data, link, nil, &p)
			if i >= 4 && (p.NumTunnels == 0 || tunnelled >= 4) {
				continue
			}
			writeSeed(t, "FuzzDecode", fmt.Sprintf("[]byte(%q)\nuint32(%d)\n", data, linkIndex(link)))
			if p.NumTunnels == 0 {
				continue
			}
			tunnelled++
			if payload, vxlan, ok := tunnelPayload(data, r.LinkType()); ok {
				writeSeed(t, "FuzzTunnel", fmt.Sprintf("[]byte(%q)\nbool(%v)\n", payload, vxlan))
			}
		}
	}
}

// tunnelPayload returns the payload of the outermost UDP datagram that
// gopacket decodes as VXLAN or GENEVE.
func tunnelPayload(data []byte, link layers.LinkType) (payload []byte, vxlan bool, ok bool) {
	ls := gopacket.NewPacket(data, link, gopacket.NoCopy).Layers()
	for i := 0; i+1 < len(ls); i++ {
		if u, isUDP := ls[i].(*layers.UDP); isUDP {
			switch ls[i+1].(type) {
			case *layers.VXLAN:
				return u.LayerPayload(), true, true
			case *layers.Geneve:
				return u.LayerPayload(), false, true
			}
		}
	}
	return nil, false, false
}

func writeSeed(t *testing.T, target, body string) {
	t.Helper()
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
