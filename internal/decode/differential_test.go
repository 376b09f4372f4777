package decode

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/osprey-ndr/osprey/internal/testutil"
)

// frameReader reads frames of a pcap or pcapng with gopacket, the oracle.
type frameReader interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	LinkType() layers.LinkType
}

// openCapture opens a pcap or pcapng (whatever its name says, the magic
// decides), or returns nil when pcapgo cannot read it.
func openCapture(t testing.TB, path string) frameReader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if r, err := pcapgo.NewReader(f); err == nil {
		return r
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Logf("%s: not readable by pcapgo: %v", path, err)
		return nil
	}
	return r
}

// sharedCaptures lists every pcap and pcapng under the shared test data.
func sharedCaptures(t testing.TB) []string {
	var files []string
	root := testutil.SharedTestdata(t)
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		testutil.Missing(t, "pcap files under "+root)
	}
	return files
}

// view is what the differential test compares: the innermost IP packet's
// addresses, protocol, ports (TCP, UDP, SCTP), ICMP type and code, IP
// length, and the tunnel identifiers on the way in.
type view struct {
	Src, Dst     string
	Proto        uint8
	Sport, Dport uint16
	ICMP         [2]uint8
	IPLen        int
	VNIs         []uint32
}

func (a view) equal(b view) bool {
	return a.Src == b.Src && a.Dst == b.Dst && a.Proto == b.Proto && a.Sport == b.Sport && a.Dport == b.Dport &&
		a.ICMP == b.ICMP && a.IPLen == b.IPLen && slices.Equal(a.VNIs, b.VNIs)
}

// oracleView is gopacket's reading of a frame. ok is false when gopacket
// found no IP layer. fragment reports an IP fragment, whose transport
// header gopacket does not decode; bySrcPort reports a tunnel gopacket
// decoded only because of its UDP source port.
func oracleView(data []byte, link layers.LinkType) (v view, ok, fragment, bySrcPort bool) {
	pkt := gopacket.NewPacket(data, link, gopacket.DecodeOptions{NoCopy: true})
	var lastUDP *layers.UDP
	for _, l := range pkt.Layers() {
		switch x := l.(type) {
		case *layers.IPv4:
			v = view{Src: x.SrcIP.String(), Dst: x.DstIP.String(), Proto: uint8(x.Protocol), IPLen: int(x.Length), VNIs: v.VNIs}
			ok, fragment = true, x.Flags&layers.IPv4MoreFragments != 0 || x.FragOffset != 0
		case *layers.IPv6:
			v = view{Src: x.SrcIP.String(), Dst: x.DstIP.String(), Proto: uint8(x.NextHeader), IPLen: int(x.Length) + 40, VNIs: v.VNIs}
			ok, fragment = true, false
		case *layers.IPv6HopByHop:
			v.Proto = uint8(x.NextHeader)
		case *layers.IPv6Routing:
			v.Proto = uint8(x.NextHeader)
		case *layers.IPv6Destination:
			v.Proto = uint8(x.NextHeader)
		case *layers.IPSecAH:
			v.Proto = uint8(x.NextHeader)
		case *layers.IPv6Fragment:
			v.Proto = uint8(x.NextHeader)
			fragment = x.MoreFragments || x.FragmentOffset != 0
		case *layers.TCP:
			v.Sport, v.Dport = uint16(x.SrcPort), uint16(x.DstPort)
		case *layers.UDP:
			v.Sport, v.Dport = uint16(x.SrcPort), uint16(x.DstPort)
			lastUDP = x
		case *layers.SCTP:
			v.Sport, v.Dport = uint16(x.SrcPort), uint16(x.DstPort)
		case *layers.ICMPv4:
			v.ICMP = [2]uint8{x.TypeCode.Type(), x.TypeCode.Code()}
		case *layers.ICMPv6:
			v.ICMP = [2]uint8{x.TypeCode.Type(), x.TypeCode.Code()}
		case *layers.VXLAN:
			v.VNIs = append(v.VNIs, x.VNI)
			bySrcPort = bySrcPort || lastUDP != nil && lastUDP.DstPort != 4789
		case *layers.Geneve:
			v.VNIs = append(v.VNIs, x.VNI)
			bySrcPort = bySrcPort || lastUDP != nil && lastUDP.DstPort != 6081
		case *layers.GRE:
			if x.KeyPresent && x.Key != 0 {
				v.VNIs = append(v.VNIs, x.Key)
			}
		case *layers.ERSPANII:
			v.VNIs = append(v.VNIs, uint32(x.SessionID))
		}
	}
	return v, ok, fragment, bySrcPort
}

// ospreyView is the same reading of a decoded Packet.
func ospreyView(p *Packet) view {
	v := view{Src: p.Src.String(), Dst: p.Dst.String(), Proto: p.IPProto, Sport: p.SrcPort, Dport: p.DstPort,
		ICMP: [2]uint8{p.ICMPType, p.ICMPCode}, IPLen: p.IPLen}
	for _, tn := range p.Tunnels[:p.NumTunnels] {
		switch tn.Kind {
		case TunnelGRE: // gopacket lists a GRE key only when present; this decoder keeps 0 for none
			if tn.VNI != 0 {
				v.VNIs = append(v.VNIs, tn.VNI)
			}
		default:
			v.VNIs = append(v.VNIs, tn.VNI)
		}
	}
	if p.IPVersion == 0 && p.NumTunnels > 0 {
		// The tunnel carries no IP packet (ARP, say): the innermost IP
		// packet is the one that carried the last tunnel, kept in its
		// outer fields, which is what gopacket reports.
		tn := p.Tunnels[p.NumTunnels-1]
		v = view{Src: tn.Src.String(), Dst: tn.Dst.String(), Proto: tn.IPProto, Sport: tn.SrcPort, Dport: tn.DstPort, IPLen: tn.IPLen, VNIs: v.VNIs}
	}
	return v
}

// fileCounts is one capture's line in the differential report.
type fileCounts struct {
	frames, compared, noIP, fragments, bySrcPort int
}

// TestDifferentialGopacket decodes every frame of every shared capture
// with this decoder and with gopacket and compares their views of the
// innermost IP packet and the tunnels. Known limits of gopacket where the
// two legitimately differ, each handled below:
//
//   - IP fragments: gopacket stops at the fragment and decodes no
//     transport header, also for the first fragment, whose ports this
//     decoder keeps. Ports and ICMP fields are then not compared.
//   - UDP tunnels by source port: gopacket picks the next layer by the
//     destination port and, failing that, by the source port, so it
//     decodes a reply *from* port 4789 as VXLAN. This decoder follows the
//     destination port only (as Zeek and the Linux kernel do); such frames
//     are counted and skipped.
//   - A transport header cut by the capture: gopacket drops the layer,
//     this decoder keeps what fits (ports from a 20-byte TCP header whose
//     options were cut). The ports are compared only when gopacket has them.
//   - A tunnel whose inner frame is not IP (ARP in VXLAN): gopacket's
//     innermost IP layer is the outer one; this decoder's Packet has no IP
//     and keeps the outer header in the last Tunnel, which is compared
//     instead (see ospreyView). Not a disagreement, a different shape.
//   - IPv4 total length 0 (TSO): gopacket also uses the captured length,
//     so the two agree; no exception is needed.
func TestDifferentialGopacket(t *testing.T) {
	var total fileCounts
	for _, path := range sharedCaptures(t) {
		r := openCapture(t, path)
		if r == nil {
			continue
		}
		link := r.LinkType()
		d := NewDecoder(DefaultConfig())
		var p Packet
		var c fileCounts
		for i := 1; ; i++ {
			data, _, err := r.ReadPacketData()
			if err != nil {
				break
			}
			c.frames++
			want, ok, fragment, bySrcPort := oracleView(data, link)
			_ = d.Decode(data, LinkType(link), nil, &p)
			got := ospreyView(&p)
			switch {
			case bySrcPort:
				c.bySrcPort++
				continue
			case !ok:
				if p.IPVersion != 0 || p.NumTunnels > 0 {
					t.Errorf("%s frame %d: gopacket found no IP, osprey %+v", rel(path), i, got)
				}
				c.noIP++
				continue
			case fragment:
				c.fragments++
				want.Sport, want.Dport, want.ICMP = 0, 0, [2]uint8{}
				got.Sport, got.Dport, got.ICMP = 0, 0, [2]uint8{}
			case want.Sport == 0 && want.Dport == 0 && want.ICMP == [2]uint8{} && p.Truncated:
				got.Sport, got.Dport, got.ICMP = 0, 0, [2]uint8{}
			}
			c.compared++
			if !want.equal(got) {
				t.Errorf("%s frame %d:\n gopacket %+v\n osprey   %+v", rel(path), i, want, got)
			}
		}
		t.Logf("%-70s %4d frames, %4d compared (%d fragments), %d without IP, %d tunnels by source port",
			rel(path), c.frames, c.compared, c.fragments, c.noIP, c.bySrcPort)
		total.frames += c.frames
		total.compared += c.compared
	}
	t.Logf("all captures: %d frames, %d compared with gopacket", total.frames, total.compared)
	if total.compared < 700 {
		t.Errorf("only %d frames compared", total.compared)
	}
}

func rel(path string) string {
	dir, file := filepath.Split(path)
	return filepath.Join(filepath.Base(dir), file)
}
