package capture

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzRead runs the reader over data; it must not panic, every frame must
// lie within the input, and the skipped bytes must not exceed it.
func fuzzRead(t *testing.T, data []byte) {
	frames := 0
	r, err := newReader("fuzz", bufio.NewReader(bytes.NewReader(data)), func(error) {})
	if err != nil {
		return
	}
	var f Frame
	for r.next(&f) == nil {
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

func FuzzPcapngReader(f *testing.F) {
	f.Add(pcapngFile(3, 20))
	f.Fuzz(fuzzRead)
}

var updateSeeds = flag.Bool("update", false, "rewrite the fuzz seed corpora from the shared captures")

// TestSeedCorpus rewrites testdata/fuzz with -update: the first 2 KiB of
// each shared capture, whole and with a corrupted record.
func TestSeedCorpus(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update to rewrite the seed corpora")
	}
	for _, path := range sharedCaptures(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data = data[:min(len(data), 2048)]
		target := "FuzzPcapReader"
		if strings.HasSuffix(path, ".pcapng") {
			target = "FuzzPcapngReader"
		}
		bad := append([]byte{}, data...)
		if len(bad) > 64 {
			bad[40], bad[41], bad[42] = 0xff, 0xff, 0xff
		}
		for _, d := range [][]byte{data, bad} {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", d)
			dir := filepath.Join("testdata", "fuzz", target)
			_ = os.MkdirAll(dir, 0o755)
			name := fmt.Sprintf("%x", sha256.Sum256([]byte(body)))[:16]
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
