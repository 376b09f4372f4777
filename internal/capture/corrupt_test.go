package capture

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/testutil"
)

// damage is one way of breaking a capture at frame k, whose record or
// block starts at byte off.
type damage struct {
	name string
	// mangle returns the broken file, the error text expected (after
	// "<path>: ") and the frames that must still be read, by index.
	mangle func(data []byte, offs []int, k int) ([]byte, string, []int)
}

func upTo(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func without(n, k int) []int { return append(upTo(k), upTo(n)[k+1:]...) }

// garbage is random bytes from a fixed seed, so that failures repeat.
func garbage(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func insert(data []byte, at int, g []byte) []byte {
	return append(append(append([]byte{}, data[:at]...), g...), data[at:]...)
}

var pcapDamage = []damage{
	{"garbage inserted", func(d []byte, offs []int, k int) ([]byte, string, []int) {
		// Starting with 0xff makes the caplen impossible.
		return insert(d, offs[k], append([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0xff}, garbage(93, uint64(k))...)),
			fmt.Sprintf("offset %d: record header: ", offs[k]), upTo(len(offs) - 1)
	}},
	{"caplen overwritten", func(d []byte, offs []int, k int) ([]byte, string, []int) {
		d = append([]byte{}, d...)
		binary.LittleEndian.PutUint32(d[offs[k]+8:], 0xffffffff)
		return d, fmt.Sprintf("offset %d: record header: caplen 4294967295 exceeds 262144", offs[k]), without(len(offs)-1, k)
	}},
	{"truncated mid-record", func(d []byte, offs []int, k int) ([]byte, string, []int) {
		cut := offs[k] + 16 + (offs[k+1]-offs[k]-16)/2
		return d[:cut], fmt.Sprintf("offset %d: record: caplen %d but only %d bytes left in file", offs[k], offs[k+1]-offs[k]-16, cut-offs[k]-16), upTo(k)
	}},
}

var pcapngDamage = []damage{
	{"garbage inserted", func(d []byte, offs []int, k int) ([]byte, string, []int) {
		return insert(d, offs[k], append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, garbage(92, uint64(k))...)),
			fmt.Sprintf("offset %d: block type 0xffffffff: block length 4294967295 invalid", offs[k]+4), upTo(len(offs) - 1)
	}},
	{"trailer overwritten", func(d []byte, offs []int, k int) ([]byte, string, []int) {
		d = append([]byte{}, d...)
		binary.LittleEndian.PutUint32(d[offs[k+1]-4:], 4)
		return d, fmt.Sprintf("offset %d: block type 0x6: trailing length 4 differs from %d", offs[k+1]-4, offs[k+1]-offs[k]), without(len(offs)-1, k)
	}},
	{"truncated mid-block", func(d []byte, offs []int, k int) ([]byte, string, []int) {
		cut := offs[k] + (offs[k+1]-offs[k])/2
		return d[:cut], fmt.Sprintf("offset %d: block type 0x6: length %d but only %d bytes left in file", offs[k], offs[k+1]-offs[k], cut-offs[k]), upTo(k)
	}},
}

// TestCorruptSharedCaptures breaks every shared capture (and its pcapng
// rewrite) in the middle in several ways and checks that the error names
// the file, the offset and the field, and that every frame outside the
// damage is still read, byte for byte as pcapgo reads the intact file.
func TestCorruptSharedCaptures(t *testing.T) {
	tested := 0
	for _, path := range sharedCaptures(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := oracle(t, path, data)
		if len(want) < 6 || binary.LittleEndian.Uint32(data) != 0xa1b2c3d4 {
			continue // too short to break in the middle, or not little-endian µs
		}
		tested++
		name, _ := filepath.Rel(testutil.SharedTestdata(t), path)
		// Record offsets, plus the end of the file.
		offs := []int{24}
		for _, f := range want {
			offs = append(offs, offs[len(offs)-1]+16+len(f.data))
		}
		ng := writePcapngGopacket(t, want, want[0].link)
		ngOffs := pcapngOffsets(t, ng)
		for _, form := range []struct {
			kind    string
			data    []byte
			offs    []int
			damages []damage
		}{{"pcap", data, offs, pcapDamage}, {"pcapng", ng, ngOffs, pcapngDamage}} {
			for _, dm := range form.damages {
				k := len(want) / 2
				t.Run(name+"/"+form.kind+"/"+dm.name, func(t *testing.T) {
					broken, errText, keep := dm.mangle(form.data, form.offs, k)
					p := writeTemp(t, "broken", broken)
					have, errs, s := collect(t, []string{p}, FileOptions{})
					if len(errs) != 1 || !strings.Contains(errs[0].Error(), p+": "+errText) {
						t.Errorf("errors %v, want one with %q", errs, errText)
					}
					var wantKept []got
					for _, i := range keep {
						wantKept = append(wantKept, want[i])
					}
					sameFrames(t, "after damage at frame "+fmt.Sprint(k), wantKept, have)
					if st := s.Stats(); st.Errors != 1 || st.Frames != uint64(len(keep)) {
						t.Errorf("stats %+v", st)
					}
				})
			}
		}
	}
	if tested < 10 {
		t.Errorf("only %d captures tested", tested)
	}
}

// pcapngOffsets lists the offsets of the packet blocks of a file written
// by pcapgo (SHB, IDB, then only EPBs), plus the end of the file.
func pcapngOffsets(t *testing.T, data []byte) []int {
	var offs []int
	for off := 0; off+8 <= len(data); {
		typ, l := binary.LittleEndian.Uint32(data[off:]), int(binary.LittleEndian.Uint32(data[off+4:]))
		if typ == blockEPB {
			offs = append(offs, off)
		}
		off += l
	}
	return append(offs, len(data))
}
