package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/osprey-ndr/osprey/internal/testutil"
)

// TestReadBadInput: a capture with a corrupt record header and a frame
// that does not decode. osprey read reports the record with its offset,
// keeps the undecodable frame in the rejects file, and still turns the
// rest into sessions.
func TestReadBadInput(t *testing.T) {
	src := filepath.Join(testutil.SharedTestdata(t), "zeek", "http-get", "get.pcap")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// Records: 24-byte file header, then 16-byte record headers. Break the
	// IP version of the first frame and the caplen of the third record.
	off := 24
	var recs []int
	for off+16 <= len(data) {
		recs = append(recs, off)
		off += 16 + int(binary.LittleEndian.Uint32(data[off+8:]))
	}
	if len(recs) < 5 {
		t.Fatalf("%d records", len(recs))
	}
	data[recs[0]+16+14] = 0x35 // IPv4 EtherType, version 3
	binary.LittleEndian.PutUint32(data[recs[2]+8:], 0xfffffff0)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pcap")
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	rejects := filepath.Join(dir, "rejects.pcapng")
	stdout, stderr, err := osprey(t, "read", "--output", "json", "--stats", "--rejects", rejects, bad)
	if err != nil {
		t.Fatalf("osprey read: %v\n%s", err, stderr)
	}
	wantErr := "bad.pcap: offset " + strconv.Itoa(recs[2]) + ": record header: caplen 4294967280 exceeds 262144"
	if !strings.Contains(stderr, wantErr) {
		t.Errorf("stderr lacks %q:\n%s", wantErr, stderr)
	}
	if !strings.Contains(stderr, "decode ip at offset 14: bad IP version") || !strings.Contains(stderr, "decode errors:  1 (bad IP version 1)") {
		t.Errorf("stderr lacks the decode error:\n%s", stderr)
	}
	if !strings.Contains(stdout, `"resp":{"ip":"192.150.187.43","port":80`) {
		t.Errorf("the HTTP session is missing:\n%s", stdout)
	}
	f, err := os.Open(rejects)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	frame, _, err := r.ReadPacketData()
	if err != nil || frame[14] != 0x35 {
		t.Errorf("rejects file: first frame %x, %v", frame[:min(len(frame), 16)], err)
	}
	if _, _, err := r.ReadPacketData(); err == nil {
		t.Error("more than one frame rejected")
	}
}

// TestReadFilter: --filter keeps the matching sessions; a bad filter is an
// error naming the column.
func TestReadFilter(t *testing.T) {
	pcap := filepath.Join(testutil.SharedTestdata(t), "zeek", "wikipedia", "wikipedia.pcap")
	stdout, stderr, err := osprey(t, "read", "--output", "json", "--filter", "dst.port = 80 and proto = tcp", pcap)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	sessions := parseSessions(t, stdout)
	if len(sessions) != 10 { // Zeek's conn.log has 10 TCP connections to port 80
		t.Errorf("%d sessions, want 10", len(sessions))
	}
	for _, s := range sessions {
		if s.Resp.Port != 80 || s.Transport != "tcp" {
			t.Errorf("session does not match the filter: %+v", s)
		}
	}
	_, stderr, err = osprey(t, "read", "--filter", "dst.port > http", pcap)
	if err == nil || !strings.Contains(stderr, "--filter: filter: column 12: dst.port is a number") {
		t.Errorf("bad filter: %v, stderr %s", err, stderr)
	}
}
