package main

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/store"
)

// TestReadStoreQuery loads a synthetic capture into the embedded store and
// checks osprey query's answers against the JSON sessions of the same
// capture: the search count, and top-N bytes by destination port.
func TestReadStoreQuery(t *testing.T) {
	dir := t.TempDir()
	pcap, data := filepath.Join(dir, "fleet.pcap"), filepath.Join(dir, "data")
	if _, e, err := osprey(t, "synth", "--packets", "20000", "--flows", "300", "-o", pcap); err != nil {
		t.Fatal(err, e)
	}
	out, e, err := osprey(t, "read", "--output", "json", pcap)
	if err != nil {
		t.Fatal(err, e)
	}
	sessions := parseSessions(t, out)
	if _, e, err := osprey(t, "read", "--store", data, pcap); err != nil {
		t.Fatal(err, e)
	}
	// Loading the same capture again stores nothing twice.
	if _, e, err := osprey(t, "read", "--store", data, pcap); err != nil {
		t.Fatal(err, e)
	}

	out, _, err = osprey(t, "query", "--store", data, "--limit", "10000", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(parseSessions(t, out)); got != len(sessions) {
		t.Fatalf("search found %d sessions, read wrote %d", got, len(sessions))
	}

	want := map[string]uint64{}
	for _, s := range sessions {
		want[strconv.Itoa(int(s.Resp.Port))] += s.OrigBytes + s.RespBytes
	}
	out, e, err = osprey(t, "query", "--store", data, "--top", "dst.port", "--by", "bytes", "--limit", "5", "-o", "json")
	if err != nil {
		t.Fatal(err, e)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("--top --limit 5 gave %d rows:\n%s", len(lines), out)
	}
	for _, l := range lines {
		var r store.TopRow
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		if r.Bytes != want[r.Key] {
			t.Errorf("port %s: %d bytes, sessions say %d", r.Key, r.Bytes, want[r.Key])
		}
	}

	_, e, err = osprey(t, "query", "--store", data, "--filter", "dst.port > http")
	if err == nil || !strings.Contains(e, "column 12") {
		t.Fatalf("a bad filter: %v, %q; want an error pointing at column 12", err, e)
	}
	if _, e, err := osprey(t, "query", "--store", filepath.Join(dir, "nowhere")); err == nil || !strings.Contains(e, "no store in") {
		t.Fatalf("a query of a missing store: %v, %q", err, e)
	}
	out, _, err = osprey(t, "query", "--store", data, "--matrix", "segment")
	if err != nil || !strings.Contains(out, "SRC.SEGMENT") {
		t.Fatalf("matrix table: %v\n%s", err, out)
	}
}
