package capture

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// pcapngFile builds a little-endian pcapng: SHB, IDB (Ethernet, ns
// resolution), n EPBs.
func pcapngFile(n, size int) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	block := func(typ uint32, body []byte) {
		l := uint32(12 + len(body))
		b.Write(le.AppendUint32(nil, typ))
		b.Write(le.AppendUint32(nil, l))
		b.Write(body)
		b.Write(le.AppendUint32(nil, l))
	}
	shb := le.AppendUint32(nil, 0x1a2b3c4d)
	shb = append(shb, 1, 0, 0, 0)
	shb = le.AppendUint64(shb, ^uint64(0))
	block(0x0a0d0d0a, shb)
	idb := []byte{1, 0, 0, 0, 0xff, 0xff, 0, 0}
	idb = append(idb, 9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0) // if_tsresol = 9 (ns), end of options
	block(1, idb)
	for i := range n {
		ts := uint64(1700000000+i)*1e9 + uint64(i)
		epb := le.AppendUint32(nil, 0)
		epb = le.AppendUint32(epb, uint32(ts>>32))
		epb = le.AppendUint32(epb, uint32(ts))
		epb = le.AppendUint32(epb, uint32(size))
		epb = le.AppendUint32(epb, uint32(size))
		epb = append(epb, bytes.Repeat([]byte{byte(i)}, size)...)
		for len(epb)%4 != 0 {
			epb = append(epb, 0)
		}
		block(6, epb)
	}
	return b.Bytes()
}

func TestPcapng(t *testing.T) {
	path := writeTemp(t, "a.pcapng", pcapngFile(4, 30))
	frames, errs, _ := collect(t, []string{path}, FileOptions{})
	if len(errs) > 0 || len(frames) != 4 {
		t.Fatalf("%d frames, errors %v", len(frames), errs)
	}
	if ns := frames[3].ts.Nanosecond(); ns != 3 || frames[3].ts.Unix() != 1700000003 {
		t.Errorf("timestamp %v: if_tsresol not applied", frames[3].ts)
	}
}

func TestCorruptPcapng(t *testing.T) {
	data := pcapngFile(6, 30)
	// Blocks: SHB 28 bytes, IDB 32, then EPBs of 64 bytes. Break the third
	// EPB's trailing length.
	at := 28 + 32 + 2*64 + 60
	binary.LittleEndian.PutUint32(data[at:], 12345)
	path := writeTemp(t, "b.pcapng", data)
	frames, errs, _ := collect(t, []string{path}, FileOptions{})
	if len(frames) != 5 {
		t.Errorf("%d frames, want 5", len(frames))
	}
	if len(errs) == 0 || !strings.Contains(errs[0].Error(), "offset 248: block type 0x6: trailing length 12345 differs from 64") {
		t.Errorf("errors = %v", errs)
	}
}
