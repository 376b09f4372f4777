package capture

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

type got struct {
	ts   time.Time
	link decode.LinkType
	data string
	wire int
}

// collect reads everything a FileSource delivers.
func collect(t testing.TB, paths []string, opts FileOptions) ([]got, []error, *FileSource) {
	t.Helper()
	var errs []error
	opts.OnError = func(err error) { errs = append(errs, err) }
	s := NewFileSource(paths, opts)
	var out []got
	err := s.Run(context.Background(), func(_ int, f *Frame) error {
		out = append(out, got{f.Timestamp, f.LinkType, string(f.Data), f.WireLen})
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return out, errs, s
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
	return files
}

// oracle reads a capture with gopacket's pcapgo.
func oracle(t testing.TB, path string) []got {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type reader interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var r reader
	var link decode.LinkType
	if pr, err := pcapgo.NewReader(f); err == nil {
		r, link = pr, decode.LinkType(pr.LinkType())
	} else {
		_, _ = f.Seek(0, io.SeekStart)
		nr, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatalf("%s: pcapgo: %v", path, err)
		}
		r, link = nr, decode.LinkType(nr.LinkType())
	}
	var out []got
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			return out
		}
		out = append(out, got{ci.Timestamp, link, string(data), ci.Length})
	}
}

// TestDifferentialPcapgo: every shared capture reads the same with this
// reader as with gopacket's pcapgo.
func TestDifferentialPcapgo(t *testing.T) {
	files := sharedCaptures(t)
	if len(files) < 10 {
		testutil.Missing(t, "shared captures")
	}
	for _, path := range files {
		want := oracle(t, path)
		have, errs, _ := collect(t, []string{path}, FileOptions{})
		if len(errs) > 0 {
			t.Errorf("%s: %v", path, errs)
		}
		if len(have) != len(want) {
			t.Errorf("%s: %d frames, pcapgo %d", path, len(have), len(want))
			continue
		}
		for i := range want {
			if have[i].data != want[i].data || !have[i].ts.Equal(want[i].ts) || have[i].link != want[i].link || have[i].wire != want[i].wire {
				t.Errorf("%s frame %d differs: ts %v/%v link %d/%d wire %d/%d", path, i, have[i].ts, want[i].ts, have[i].link, want[i].link, have[i].wire, want[i].wire)
				break
			}
		}
	}
}

// pcapFile builds a little-endian µs pcap with n frames of size bytes.
func pcapFile(n, size int) []byte {
	var b bytes.Buffer
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h, 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], 1)
	b.Write(h)
	for i := range n {
		r := make([]byte, 16+size)
		binary.LittleEndian.PutUint32(r, uint32(1700000000+i))
		binary.LittleEndian.PutUint32(r[4:], uint32(i))
		binary.LittleEndian.PutUint32(r[8:], uint32(size))
		binary.LittleEndian.PutUint32(r[12:], uint32(size))
		for j := range size {
			r[16+j] = byte(i)
		}
		b.Write(r)
	}
	return b.Bytes()
}

func writeTemp(t *testing.T, name string, data []byte) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCorruptPcap(t *testing.T) {
	const size = 60
	clean := pcapFile(10, size)
	rec := 16 + size
	for _, tc := range []struct {
		name      string
		mangle    func([]byte) []byte
		frames    int
		errSubstr string
	}{
		{"caplen overwritten", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[24+3*rec+8:], 0xffffffff)
			return b
		}, 9, "offset 252: record header: caplen 4294967295 exceeds 262144"},
		{"garbage inserted", func(b []byte) []byte {
			at := 24 + 4*rec
			return append(append(append([]byte{}, b[:at]...), bytes.Repeat([]byte{0xff}, 37)...), b[at:]...)
		}, 10, "offset 328: record header"},
		{"truncated tail", func(b []byte) []byte { return b[:len(b)-20] }, 9, "caplen 60 but only 40 bytes left"},
		{"truncated header", func(b []byte) []byte { return b[:len(b)-rec+5] }, 9, "record header: truncated (5 of 16 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "c.pcap", tc.mangle(append([]byte{}, clean...)))
			frames, errs, s := collect(t, []string{path}, FileOptions{})
			if len(frames) != tc.frames {
				t.Errorf("%d frames, want %d", len(frames), tc.frames)
			}
			if len(errs) == 0 || !strings.Contains(errs[0].Error(), tc.errSubstr) || !strings.Contains(errs[0].Error(), path) {
				t.Errorf("errors %v, want one naming %s and %q", errs, path, tc.errSubstr)
			}
			if s.Stats().Errors == 0 {
				t.Error("error not counted")
			}
			// The frames after the damage are the right ones.
			if last := frames[len(frames)-1]; tc.frames == 10 && last.data[0] != 9 {
				t.Errorf("last frame holds %d, want 9", last.data[0])
			}
		})
	}
}

func TestGzipDirectoryStdin(t *testing.T) {
	raw := pcapFile(5, 40)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.pcap"), raw, 0o644)
	os.WriteFile(filepath.Join(dir, "b.pcap.gz"), gz.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a capture"), 0o644)

	frames, errs, s := collect(t, []string{dir, "-"}, FileOptions{Stdin: bytes.NewReader(gz.Bytes())})
	if len(frames) != 15 {
		t.Errorf("%d frames, want 15 (plain, gzip, stdin)", len(frames))
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "notes.txt: offset 0: magic") {
		t.Errorf("errors = %v, want one for notes.txt", errs)
	}
	if s.Stats().Files != 4 || s.BytesRead() == 0 {
		t.Errorf("stats %+v, bytes read %d", s.Stats(), s.BytesRead())
	}
}

func TestMissingFileIsAnError(t *testing.T) {
	_, errs, _ := collect(t, []string{"/nonexistent.pcap"}, FileOptions{})
	if len(errs) != 1 || !errors.Is(errs[0], os.ErrNotExist) {
		t.Errorf("errors = %v", errs)
	}
}

func TestFileSourceZeroAlloc(t *testing.T) {
	data := pcapFile(2000, 100)
	path := writeTemp(t, "z.pcap", data)
	s := NewFileSource([]string{path}, FileOptions{})
	var frames int
	// Allocations happen when the file is opened; per frame there must be none.
	allocs := testing.AllocsPerRun(3, func() {
		_ = s.Run(context.Background(), func(int, *Frame) error { frames++; return nil })
	})
	if perFrame := allocs / 2000; perFrame > 0.01 {
		t.Errorf("%.0f allocations for 2000 frames", allocs)
	}
}
