package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

// sharedCaptures lists every pcap and pcapng under the shared test data.
func sharedCaptures(t testing.TB) []string {
	var files []string
	root := testutil.SharedTestdata(t)
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 10 {
		testutil.Missing(t, "shared captures")
	}
	return files
}

// oracle reads a capture with gopacket's pcapgo.
func oracle(t testing.TB, name string, data []byte) []got {
	t.Helper()
	type reader interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var r reader
	var link func(gopacket.CaptureInfo) decode.LinkType
	if pr, err := pcapgo.NewReader(bytes.NewReader(data)); err == nil {
		r, link = pr, func(gopacket.CaptureInfo) decode.LinkType { return decode.LinkType(pr.LinkType()) }
	} else {
		// Mixed link types, so that each packet says its interface's.
		nr, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			t.Fatalf("%s: pcapgo: %v", name, err)
		}
		r = nr
		link = func(ci gopacket.CaptureInfo) decode.LinkType {
			return decode.LinkType(ci.AncillaryData[0].(layers.LinkType))
		}
	}
	var out []got
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: pcapgo: frame %d: %v", name, len(out), err)
		}
		out = append(out, got{ci.Timestamp, link(ci), string(data), ci.Length})
	}
}

// writePcap writes frames as pcap in the given byte order and resolution.
func writePcap(frames []got, order byteOrder, nano bool, link decode.LinkType) []byte {
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	b := order.AppendUint32(nil, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = append(b, make([]byte, 8)...)
	b = order.AppendUint32(b, 262144)
	b = order.AppendUint32(b, uint32(link))
	for _, f := range frames {
		frac := f.ts.Nanosecond()
		if !nano {
			frac /= 1000
		}
		b = order.AppendUint32(b, uint32(f.ts.Unix()))
		b = order.AppendUint32(b, uint32(frac))
		b = order.AppendUint32(b, uint32(len(f.data)))
		b = order.AppendUint32(b, uint32(f.wire))
		b = append(b, f.data...)
	}
	return b
}

// writePcapngGopacket writes frames as pcapng with pcapgo's writer.
func writePcapngGopacket(t testing.TB, frames []got, link decode.LinkType) []byte {
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriter(&buf, layers.LinkType(link))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: f.ts, CaptureLength: len(f.data), Length: f.wire}
		if err := w.WritePacket(ci, []byte(f.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writePcapngBE writes frames as big-endian pcapng, µs resolution, with
// the packets split over two interfaces and two sections.
func writePcapngBE(frames []got, link decode.LinkType) []byte {
	w := &ngBuilder{}
	w.shb(binary.BigEndian).idb(decode.LinkType(0xfff)).idb(link)
	for i, f := range frames {
		if i == len(frames)/2 {
			w.shb(binary.BigEndian).idb(link)
		}
		iface := uint32(1)
		if i >= len(frames)/2 {
			iface = 0
		}
		w.epb(iface, uint64(f.ts.UnixMicro()), []byte(f.data), f.wire)
	}
	return w.b.Bytes()
}

// TestDifferentialPcapgo: every shared capture, and each rewritten in the
// other pcap byte orders and resolutions and as pcapng, reads the same
// with this reader as with gopacket's pcapgo.
func TestDifferentialPcapgo(t *testing.T) {
	for _, path := range sharedCaptures(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(testutil.SharedTestdata(t), path)
		t.Run(name, func(t *testing.T) {
			want := oracle(t, path, data)
			if len(want) == 0 {
				t.Fatal("no frames")
			}
			link := want[0].link
			variants := []struct {
				name  string
				data  []byte
				exact bool // holds the original timestamps exactly
			}{
				{"original", data, true},
				{"pcap big-endian µs", writePcap(want, binary.BigEndian, false, link), false},
				{"pcap little-endian ns", writePcap(want, binary.LittleEndian, true, link), true},
				{"pcap big-endian ns", writePcap(want, binary.BigEndian, true, link), true},
				{"pcapng by pcapgo", writePcapngGopacket(t, want, link), true},
				{"pcapng big-endian, two sections", writePcapngBE(want, link), false},
			}
			for _, v := range variants {
				path := writeTemp(t, "v", v.data)
				have, errs, s := collect(t, []string{path}, FileOptions{})
				if len(errs) > 0 {
					t.Errorf("%s: errors %v", v.name, errs)
				}
				ref := oracle(t, v.name, v.data)
				if v.exact && !sameFrames(t, v.name+" (pcapgo vs original)", ref, want) {
					continue
				}
				sameFrames(t, v.name, ref, have)
				var bytes uint64
				for _, f := range ref {
					bytes += uint64(len(f.data))
				}
				if st := s.Stats(); st.Frames != uint64(len(ref)) || st.Bytes != bytes || st.Errors != 0 || st.SkippedBytes != 0 {
					t.Errorf("%s: stats %+v, want %d frames of %d bytes", v.name, st, len(ref), bytes)
				}
			}
		})
	}
}

func sameFrames(t *testing.T, what string, want, have []got) bool {
	t.Helper()
	if len(have) != len(want) {
		t.Errorf("%s: %d frames, want %d", what, len(have), len(want))
		return false
	}
	for i := range want {
		w, h := want[i], have[i]
		if h.data != w.data || !h.ts.Equal(w.ts) || h.link != w.link || h.wire != w.wire {
			t.Errorf("%s: frame %d: ts %v/%v link %d/%d caplen %d/%d wire %d/%d", what, i,
				h.ts.Format(time.RFC3339Nano), w.ts.Format(time.RFC3339Nano), h.link, w.link, len(h.data), len(w.data), h.wire, w.wire)
			return false
		}
	}
	return true
}
