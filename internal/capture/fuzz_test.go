package capture

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/decode"
)

// fuzzRead runs the reader over data; it must not panic, every frame must
// lie within the input, every error must name the input and an offset,
// and the skipped bytes must not exceed the input.
func fuzzRead(t *testing.T, data []byte) {
	frames := 0
	report := func(err error) {
		if !strings.HasPrefix(err.Error(), "fuzz: offset ") {
			t.Fatalf("error without offset: %v", err)
		}
	}
	r, err := newReader("fuzz", bytes.NewReader(data), report)
	if err != nil {
		return
	}
	var f Frame
	for {
		err := r.next(&f)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading from memory: %v", err)
		}
		if len(f.Data) > len(data) || f.CaptureLen != len(f.Data) {
			t.Fatalf("frame of %d bytes from %d bytes of input", len(f.Data), len(data))
		}
		frames++
		if frames > len(data) {
			t.Fatal("more frames than bytes")
		}
	}
	if r.skipped() > uint64(len(data)) {
		t.Fatalf("skipped %d of %d bytes", r.skipped(), len(data))
	}
}

func FuzzPcapReader(f *testing.F) {
	f.Add(pcapFile(3, 20))
	f.Fuzz(fuzzRead)
}

// ngSeeds are hand-made pcapng files with what pcapgo's writer does not
// make: big-endian and several sections, timestamp options, simple and
// obsolete packet blocks, unknown blocks.
func ngSeeds() [][]byte {
	le, be := byteOrder(binary.LittleEndian), byteOrder(binary.BigEndian)
	var out [][]byte
	w := &ngBuilder{}
	w.shb(le).idb(decode.LinkEthernet, w.opt(9, []byte{0x80 | 30}), w.opt(14, le.AppendUint64(nil, 7))).idb(decode.LinkRaw)
	w.epb(1, 1<<40, []byte("raw packet"), 10).block(0x12345678, make([]byte, 8))
	w.shb(be).idb(decode.LinkLinuxSLL).spb([]byte("simple"), 6).opb(0, 99, []byte("obsolete"), 8)
	out = append(out, w.b.Bytes())
	return append(out, pcapngFile(3, 20))
}

func FuzzPcapngReader(f *testing.F) {
	for _, s := range ngSeeds() {
		f.Add(s)
	}
	f.Fuzz(fuzzRead)
}

var updateSeeds = flag.Bool("update", false, "rewrite the fuzz seed corpora from the shared captures")

// TestSeedCorpus rewrites testdata/fuzz with -update: the first 2 KiB of
// each shared capture, whole and with a corrupted record, for the pcap
// target; the same rewritten as pcapng by pcapgo, for the pcapng target.
func TestSeedCorpus(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update to rewrite the seed corpora")
	}
	write := func(target string, d []byte) {
		d = d[:min(len(d), 2048)]
		bad := append([]byte{}, d...)
		if len(bad) > 64 {
			bad[40], bad[41], bad[42] = 0xff, 0xff, 0xff
		}
		for _, d := range [][]byte{d, bad} {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", d)
			dir := filepath.Join("testdata", "fuzz", target)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%x", sha256.Sum256([]byte(body)))[:16]
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, path := range sharedCaptures(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		write("FuzzPcapReader", data)
		if i%3 == 0 { // a third of them is variety enough
			frames := oracle(t, path, data)
			write("FuzzPcapngReader", writePcapngGopacket(t, frames[:min(len(frames), 8)], frames[0].link))
		}
	}
	for _, d := range ngSeeds() {
		write("FuzzPcapngReader", d)
	}
}
