package capture

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/decode"
)

// ngBuilder writes pcapng by hand, so that tests can make what pcapgo's
// writer cannot: big-endian sections, several sections, simple and
// obsolete packet blocks, odd timestamp resolutions, unknown blocks.
type ngBuilder struct {
	b     bytes.Buffer
	order byteOrder
}

type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func (w *ngBuilder) block(typ uint32, body []byte) {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	l := uint32(12 + len(body))
	w.b.Write(w.order.AppendUint32(nil, typ))
	w.b.Write(w.order.AppendUint32(nil, l))
	w.b.Write(body)
	w.b.Write(w.order.AppendUint32(nil, l))
}

// shb starts a section in the given byte order.
func (w *ngBuilder) shb(order byteOrder) *ngBuilder {
	w.order = order
	body := order.AppendUint32(nil, 0x1a2b3c4d)
	body = order.AppendUint16(body, 1)
	body = order.AppendUint16(body, 0)
	body = order.AppendUint64(body, ^uint64(0))
	w.block(blockSHB, body)
	return w
}

// opt encodes one option, padded.
func (w *ngBuilder) opt(code uint16, v []byte) []byte {
	b := w.order.AppendUint16(nil, code)
	b = w.order.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (w *ngBuilder) idb(link decode.LinkType, opts ...[]byte) *ngBuilder {
	body := w.order.AppendUint16(nil, uint16(link))
	body = w.order.AppendUint16(body, 0)
	body = w.order.AppendUint32(body, 0xffff)
	for _, o := range opts {
		body = append(body, o...)
	}
	if len(opts) > 0 {
		body = append(body, 0, 0, 0, 0) // opt_endofopt
	}
	w.block(blockIDB, body)
	return w
}

func (w *ngBuilder) epb(iface uint32, ts uint64, data []byte, wire int) *ngBuilder {
	body := w.order.AppendUint32(nil, iface)
	body = w.order.AppendUint32(body, uint32(ts>>32))
	body = w.order.AppendUint32(body, uint32(ts))
	body = w.order.AppendUint32(body, uint32(len(data)))
	body = w.order.AppendUint32(body, uint32(wire))
	w.block(blockEPB, append(body, data...))
	return w
}

func (w *ngBuilder) opb(iface uint16, ts uint64, data []byte, wire int) *ngBuilder {
	body := w.order.AppendUint16(nil, iface)
	body = w.order.AppendUint16(body, 0) // drops count
	body = w.order.AppendUint32(body, uint32(ts>>32))
	body = w.order.AppendUint32(body, uint32(ts))
	body = w.order.AppendUint32(body, uint32(len(data)))
	body = w.order.AppendUint32(body, uint32(wire))
	w.block(blockOPB, append(body, data...))
	return w
}

func (w *ngBuilder) spb(data []byte, wire int) *ngBuilder {
	w.block(blockSPB, append(w.order.AppendUint32(nil, uint32(wire)), data...))
	return w
}

// pcapngFile builds a little-endian pcapng: SHB, IDB (Ethernet, ns
// resolution), n EPBs of size bytes holding their index.
func pcapngFile(n, size int) []byte {
	w := &ngBuilder{}
	w.shb(binary.LittleEndian)
	w.idb(decode.LinkEthernet, w.opt(9, []byte{9}))
	for i := range n {
		w.epb(0, uint64(1700000000+i)*1e9+uint64(i), bytes.Repeat([]byte{byte(i)}, size), size)
	}
	return w.b.Bytes()
}

func TestPcapngFormats(t *testing.T) {
	be, le := byteOrder(binary.BigEndian), byteOrder(binary.LittleEndian)
	pkt := func(s string) []byte { return []byte(s) }
	for _, tc := range []struct {
		name  string
		build func(w *ngBuilder)
		want  []got
	}{
		{"big-endian, default µs resolution", func(w *ngBuilder) {
			w.shb(be).idb(decode.LinkRaw).epb(0, 1700000000_123456, pkt("abcde"), 60)
		}, []got{{time.Unix(1700000000, 123456000), decode.LinkRaw, "abcde", 60}}},
		{"two sections, byte order and interfaces change", func(w *ngBuilder) {
			w.shb(le).idb(decode.LinkEthernet).idb(decode.LinkRaw)
			w.epb(1, 5_000001, pkt("raw"), 3).epb(0, 6_000002, pkt("eth"), 3)
			w.shb(be).idb(decode.LinkLinuxSLL).epb(0, 7_000003, pkt("sll"), 3)
		}, []got{
			{time.Unix(5, 1000), decode.LinkRaw, "raw", 3},
			{time.Unix(6, 2000), decode.LinkEthernet, "eth", 3},
			{time.Unix(7, 3000), decode.LinkLinuxSLL, "sll", 3},
		}},
		{"if_tsresol decimal and binary, if_tsoffset", func(w *ngBuilder) {
			w.shb(le)
			w.idb(decode.LinkEthernet, w.opt(9, []byte{3}), w.opt(14, le.AppendUint64(nil, 1000)))
			w.idb(decode.LinkEthernet, w.opt(9, []byte{0x80 | 30}))
			w.idb(decode.LinkEthernet, w.opt(9, []byte{0x80 | 60}))
			w.epb(0, 2500, pkt("ms"), 2)
			w.epb(1, 3<<30|1<<29, pkt("2^-30"), 5)
			w.epb(2, 3<<60|1<<58, pkt("2^-60"), 5)
		}, []got{
			{time.Unix(1002, 500e6), decode.LinkEthernet, "ms", 2},
			{time.Unix(3, 500e6), decode.LinkEthernet, "2^-30", 5},
			{time.Unix(3, 250e6), decode.LinkEthernet, "2^-60", 5},
		}},
		{"simple and obsolete packet blocks", func(w *ngBuilder) {
			w.shb(be).idb(decode.LinkEthernet, w.opt(9, []byte{9}))
			w.spb(pkt("simplepk"), 100)
			w.opb(0, 42_000000007, pkt("old"), 3)
		}, []got{
			{time.Time{}, decode.LinkEthernet, "simplepk", 100},
			{time.Unix(42, 7), decode.LinkEthernet, "old", 3},
		}},
		{"unknown, statistics and name blocks skipped", func(w *ngBuilder) {
			w.shb(le).idb(decode.LinkRaw)
			w.block(4, make([]byte, 8))            // name resolution
			w.block(0x0bad, []byte("custom data")) // custom
			w.block(0x12345678, make([]byte, 20))  // unknown
			w.epb(0, 1, pkt("after"), 5)
			w.block(5, make([]byte, 12)) // interface statistics
		}, []got{{time.Unix(0, 1000), decode.LinkRaw, "after", 5}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &ngBuilder{}
			tc.build(w)
			have, errs, s := collect(t, []string{writeTemp(t, "f.pcapng", w.b.Bytes())}, FileOptions{})
			if len(errs) > 0 {
				t.Errorf("errors %v", errs)
			}
			cmpFrames(t, tc.want, have)
			if st := s.Stats(); st.Frames != uint64(len(tc.want)) || st.Files != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// cmpFrames compares frames, timestamps by instant.
func cmpFrames(t *testing.T, want, have []got) {
	t.Helper()
	if diff := cmp.Diff(want, have, cmp.AllowUnexported(got{}), cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("frames differ (-want +got):\n%s", diff)
	}
}

func TestCorruptPcapng(t *testing.T) {
	// Blocks: SHB 28 bytes, IDB 32, then EPBs of 64 bytes each.
	const shb, idb, epb = 28, 32, 64
	epbAt := func(i int) int { return shb + idb + i*epb }
	for _, tc := range []struct {
		name      string
		mangle    func([]byte) []byte
		frames    []byte // indexes of the frames read
		errSubstr string
	}{
		{"bad trailer", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[epbAt(2)+60:], 12345)
			return b
		}, []byte{0, 1, 3, 4, 5}, "offset 248: block type 0x6: trailing length 12345 differs from 64"},
		{"absurd block length", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[epbAt(1)+4:], 0x7ffffff0)
			return b
		}, []byte{0, 2, 3, 4, 5}, "offset 128: block type 0x6: block length 2147483632 invalid"},
		{"garbage inserted", func(b []byte) []byte {
			at := epbAt(3)
			return append(append(append([]byte{}, b[:at]...), bytes.Repeat([]byte{0xab}, 36)...), b[at:]...)
		}, []byte{0, 1, 2, 3, 4, 5}, "offset 256: block type 0xabababab: block length 2880154539 invalid"},
		{"truncated block", func(b []byte) []byte { return b[:epbAt(5)+40] }, []byte{0, 1, 2, 3, 4},
			"offset 380: block type 0x6: length 64 but only 40 bytes left in file"},
		{"truncated header", func(b []byte) []byte { return b[:epbAt(5)+6] }, []byte{0, 1, 2, 3, 4},
			"offset 380: block header: truncated (6 of 12 bytes at end of file)"},
		{"packet of unknown interface", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[epbAt(0)+8:], 3)
			return b
		}, []byte{1, 2, 3, 4, 5}, "offset 60: block type 0x6: packet block: unknown interface 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "b.pcapng", tc.mangle(pcapngFile(6, 30)))
			frames, errs, s := collect(t, []string{path}, FileOptions{})
			var idx []byte
			for _, f := range frames {
				idx = append(idx, f.data[0])
			}
			if !bytes.Equal(idx, tc.frames) {
				t.Errorf("frames %v, want %v", idx, tc.frames)
			}
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), path+": "+tc.errSubstr) {
				t.Errorf("errors = %v, want one with %q", errs, tc.errSubstr)
			}
			if s.Stats().Errors != 1 {
				t.Errorf("stats %+v", s.Stats())
			}
		})
	}
}

// TestPcapngLargeMetadataBlock: a decryption secrets block larger than any
// packet block is skipped, not taken for corruption.
func TestPcapngLargeMetadataBlock(t *testing.T) {
	w := &ngBuilder{}
	w.shb(binary.LittleEndian).idb(decode.LinkRaw)
	w.epb(0, 1, []byte("before"), 6)
	w.block(0x0a, make([]byte, 3*maxBlock))
	w.epb(0, 2, []byte("after!"), 6)
	frames, errs, s := collect(t, []string{writeTemp(t, "dsb.pcapng", w.b.Bytes())}, FileOptions{})
	if len(errs) > 0 || len(frames) != 2 || frames[1].data != "after!" || s.Stats().SkippedBytes != 0 {
		t.Errorf("%d frames, errors %v, stats %+v", len(frames), errs, s.Stats())
	}
	// Cut inside the large block: the error names its offset.
	data := w.b.Bytes()[:200+maxBlock]
	path := writeTemp(t, "dsb-cut.pcapng", data)
	frames, errs, _ = collect(t, []string{path}, FileOptions{})
	if len(frames) != 1 || len(errs) != 1 || !strings.Contains(errs[0].Error(), path+": offset 88: block type 0xa: length") {
		t.Errorf("%d frames, errors %v", len(frames), errs)
	}
}
