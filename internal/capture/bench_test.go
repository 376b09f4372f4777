package capture

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"testing"
)

func gzipped(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestReaderZeroAlloc: reading a frame allocates nothing, whatever the
// format, once the file is open.
func TestReaderZeroAlloc(t *testing.T) {
	const frames = 3000
	for _, tc := range []struct {
		name string
		data []byte
		gz   bool
	}{
		{"pcap", pcapFile(frames, 200), false},
		{"pcapng", pcapngFile(frames, 200), false},
		{"pcap gzip", pcapFile(frames, 200), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in io.Reader = bytes.NewReader(tc.data)
			if tc.gz {
				zr, err := gzip.NewReader(bytes.NewReader(gzipped(t, tc.data)))
				if err != nil {
					t.Fatal(err)
				}
				in = zr
			}
			r, err := newReader(tc.name, in, func(err error) { t.Error(err) })
			if err != nil {
				t.Fatal(err)
			}
			var f Frame
			allocs := testing.AllocsPerRun(frames-10, func() {
				if err := r.next(&f); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per frame", allocs)
			}
		})
	}
}

// TestFileSourceZeroAlloc: the whole source, handler calls included,
// allocates per file, not per frame.
func TestFileSourceZeroAlloc(t *testing.T) {
	path := writeTemp(t, "z.pcap", pcapFile(20000, 100))
	s := NewFileSource([]string{path}, FileOptions{})
	h := func(int, *Frame) error { return nil }
	allocs := testing.AllocsPerRun(3, func() { _ = s.Run(context.Background(), h) })
	if allocs > 100 {
		t.Errorf("%.0f allocations for one file of 20000 frames", allocs)
	}
}

// BenchmarkReader: frames per second from memory, per format.
//
//	go test -run '^$' -bench Reader -benchmem ./internal/capture
func BenchmarkReader(b *testing.B) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"pcap", pcapFile(10000, 300)},
		{"pcapng", pcapngFile(10000, 300)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(10000 * 300)
			var in bytes.Reader
			var f Frame
			for b.Loop() {
				b.StopTimer()
				in.Reset(tc.data)
				r, err := newReader(tc.name, &in, func(error) {})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				for range 10000 {
					if err := r.next(&f); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N)*10000/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

// BenchmarkResync is reading through damage: 4 MiB of random bytes in
// the middle of a capture, which the reader skips to the next record
// that two plausible headers in a row vouch for. MB/s is of the damage.
func BenchmarkResync(b *testing.B) {
	const size, damaged = 300, 4 << 20
	for _, tc := range []struct {
		name string
		file []byte
		at   int // where record 5 starts
	}{
		{"pcap", pcapFile(10, size), 24 + 5*(16+size)},
		{"pcapng", pcapngFile(10, size), -1},
	} {
		b.Run(tc.name, func(b *testing.B) {
			at := tc.at
			if at < 0 {
				at = len(tc.file) - 5*(len(pcapngFile(10, size))-len(pcapngFile(9, size)))
			}
			data := insert(tc.file, at, append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, garbage(damaged, 1)...))
			b.SetBytes(damaged)
			var in bytes.Reader
			var f Frame
			for b.Loop() {
				in.Reset(data)
				r, err := newReader(tc.name, &in, func(error) {})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for r.next(&f) == nil {
					n++
				}
				if n != 10 {
					b.Fatalf("%d frames read, want 10", n)
				}
			}
		})
	}
}
