package capture

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/decode"
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

// TestDirectory reads a tree in name order, recursively, following a
// symbolic link to a file, and reports the files that are not captures.
func TestDirectory(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, data []byte) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	one := func(b byte) []byte { // a pcap of one frame holding b
		d := pcapFile(1, 20)
		d[len(d)-1] = b
		return d
	}
	mk("b/2.pcap", one(2))
	mk("a.pcapng", func() []byte { d := pcapngFile(1, 20); d[len(d)-5] = 1; return d }())
	mk("b/1/x.cap", one(3)) // "b/1/x.cap" sorts before "b/2.pcap"
	mk("c.gz", gzipped(t, one(4)))
	mk("README", []byte("captures for the test\n"))
	mk("empty.pcap", nil)
	if err := os.Symlink(filepath.Join(dir, "b/2.pcap"), filepath.Join(dir, "d-link.pcap")); err != nil {
		t.Fatal(err)
	}

	frames, errs, s := collect(t, []string{dir}, FileOptions{})
	var order []byte
	for _, f := range frames {
		order = append(order, f.data[len(f.data)-1])
	}
	if want := []byte{1, 3, 2, 4, 2}; !bytes.Equal(order, want) {
		t.Errorf("frames in order %v, want %v", order, want)
	}
	var texts []string
	for _, err := range errs {
		texts = append(texts, strings.TrimPrefix(err.Error(), dir+"/"))
	}
	want := []string{"README: offset 0: magic 0x63617074: not a pcap or pcapng file", "empty.pcap: empty file"}
	if diff := cmp.Diff(want, texts); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if st := s.Stats(); st.Files != 7 || st.Frames != 5 || st.Errors != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestGzipTruncated: a gzip stream cut short yields the frames before the
// cut and one error naming the file and offset.
func TestGzipTruncated(t *testing.T) {
	gz := gzipped(t, pcapFile(200, 100))
	path := writeTemp(t, "cut.pcap.gz", gz[:len(gz)/2])
	frames, errs, s := collect(t, []string{path}, FileOptions{})
	if len(frames) == 0 || len(frames) >= 200 {
		t.Errorf("%d frames", len(frames))
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), path+": offset ") || !strings.Contains(errs[0].Error(), "unexpected EOF") {
		t.Errorf("errors %v", errs)
	}
	if s.Stats().Errors != 1 {
		t.Errorf("stats %+v", s.Stats())
	}
	for i, f := range frames {
		if f.data[0] != byte(i) {
			t.Fatalf("frame %d holds %d", i, f.data[0])
		}
	}
}

// TestHandlerErrorStops: an error from the handler ends Run at once.
func TestHandlerErrorStops(t *testing.T) {
	path := writeTemp(t, "h.pcap", pcapFile(10, 20))
	boom := errors.New("boom")
	n := 0
	err := NewFileSource([]string{path, path}, FileOptions{}).Run(context.Background(), func(int, *Frame) error {
		n++
		if n == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 3 {
		t.Errorf("Run = %v after %d frames", err, n)
	}
}

// TestResyncNearEndIsLinear: damage near the end made of record headers
// that promise more bytes than are left makes every candidate look past
// the end of the file; that must cost no more than reading the file.
func TestResyncNearEndIsLinear(t *testing.T) {
	data := pcapFile(3, 50)
	binary.LittleEndian.PutUint32(data[16:], maxCaplen) // snaplen
	// A plausible header whose record would end where no header starts
	// (250001 is not a multiple of 16), so that no candidate passes.
	h := make([]byte, 16)
	binary.LittleEndian.PutUint32(h, 1700000000)
	binary.LittleEndian.PutUint32(h[8:], 250001)
	binary.LittleEndian.PutUint32(h[12:], 250001)
	data = append(data, 0xff) // so that the first bad header is implausible
	data = append(data, bytes.Repeat(h, 1<<16)...)
	path := writeTemp(t, "slow.pcap", data)
	start := time.Now()
	frames, errs, s := collect(t, []string{path}, FileOptions{})
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %v", el)
	}
	if len(frames) != 3 || len(errs) != 1 || s.Stats().SkippedBytes != 1+16<<16 {
		t.Errorf("%d frames, errors %v, stats %+v", len(frames), errs, s.Stats())
	}
}
