package decode

import (
	"io"
	"os"
	"path/filepath"
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

func openCapture(t testing.TB, path string) frameReader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if strings.HasSuffix(path, ".pcapng") {
		r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err == nil {
			return r
		}
		_, _ = f.Seek(0, io.SeekStart)
	}
	r, err := pcapgo.NewReader(f)
	if err == nil {
		return r
	}
	_, _ = f.Seek(0, io.SeekStart)
	r2, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Logf("%s: not readable by pcapgo: %v", path, err)
		return nil
	}
	return r2
}

func sharedCaptures(t testing.TB) []string {
	var files []string
	root := testutil.SharedTestdata(t)
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		testutil.Missing(t, "pcap files under "+root)
	}
	return files
}

// oracle is what gopacket makes of a frame: the innermost IP layer and
// its transport ports, and the VNIs of the tunnels on the way.
type oracle struct {
	src, dst     string
	proto        uint8
	sport, dport uint16
	ipLen        int
	vnis         []uint32
	ok           bool
}

func gopacketView(data []byte, link layers.LinkType) oracle {
	pkt := gopacket.NewPacket(data, link, gopacket.DecodeOptions{Lazy: false, NoCopy: true})
	var o oracle
	for _, l := range pkt.Layers() {
		switch v := l.(type) {
		case *layers.IPv4:
			if v.Flags&layers.IPv4MoreFragments != 0 || v.FragOffset != 0 {
				return oracle{} // gopacket does not reassemble; skip
			}
			o = oracle{src: v.SrcIP.String(), dst: v.DstIP.String(), proto: uint8(v.Protocol), ipLen: int(v.Length), vnis: o.vnis, ok: true}
		case *layers.IPv6:
			o = oracle{src: v.SrcIP.String(), dst: v.DstIP.String(), proto: uint8(v.NextHeader), ipLen: int(v.Length) + 40, vnis: o.vnis, ok: true}
		case *layers.TCP:
			o.proto, o.sport, o.dport = 6, uint16(v.SrcPort), uint16(v.DstPort)
		case *layers.UDP:
			o.proto, o.sport, o.dport = 17, uint16(v.SrcPort), uint16(v.DstPort)
		case *layers.VXLAN:
			o.vnis = append(o.vnis, v.VNI)
		case *layers.Geneve:
			o.vnis = append(o.vnis, v.VNI)
		}
	}
	return o
}

// TestDifferentialGopacket decodes every frame of every shared capture
// with this decoder and with gopacket and compares the innermost IP
// addresses, protocol, ports, IP length and the VXLAN/GENEVE VNIs.
func TestDifferentialGopacket(t *testing.T) {
	total, compared := 0, 0
	for _, path := range sharedCaptures(t) {
		r := openCapture(t, path)
		if r == nil {
			continue
		}
		link := r.LinkType()
		d := NewDecoder(DefaultConfig())
		var p Packet
		for i := 0; ; i++ {
			data, _, err := r.ReadPacketData()
			if err != nil {
				break
			}
			total++
			o := gopacketView(data, link)
			_ = d.Decode(data, LinkType(link), nil, &p)
			if !o.ok || p.IPVersion == 0 {
				continue
			}
			compared++
			var vnis []uint32
			for _, tn := range p.Tunnels[:p.NumTunnels] {
				if tn.Kind == TunnelVXLAN || tn.Kind == TunnelGENEVE {
					vnis = append(vnis, tn.VNI)
				}
			}
			got := oracle{src: p.Src.String(), dst: p.Dst.String(), proto: p.IPProto, sport: p.SrcPort, dport: p.DstPort, ipLen: p.IPLen, vnis: vnis, ok: true}
			if got.proto != 6 && got.proto != 17 {
				got.sport, got.dport, o.sport, o.dport = 0, 0, 0, 0
			}
			if o.proto != got.proto && o.sport == 0 {
				o.proto = got.proto // gopacket stops at extension headers it does not model
			}
			if !equalOracle(o, got) {
				t.Errorf("%s frame %d: gopacket %+v, osprey %+v", filepath.Base(path), i, o, got)
			}
		}
	}
	t.Logf("%d frames, %d compared with gopacket", total, compared)
	if compared < 500 {
		t.Errorf("only %d frames compared", compared)
	}
}

func equalOracle(a, b oracle) bool {
	if a.src != b.src || a.dst != b.dst || a.proto != b.proto || a.sport != b.sport || a.dport != b.dport || a.ipLen != b.ipLen || len(a.vnis) != len(b.vnis) {
		return false
	}
	for i := range a.vnis {
		if a.vnis[i] != b.vnis[i] {
			return false
		}
	}
	return true
}
