package output

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

var update = flag.Bool("update", false, "rewrite golden files and the fuzz seed corpus")

var cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// samples are sessions of each shape: a tunnelled TCP session, its
// interim record, an IPv6 ICMP echo, a session with times outside UTC and
// an unknown transport.
func samples() []schema.Session {
	start := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	tcp := schema.Session{
		Version: schema.SessionVersion, UID: "C1a2b3c4d5e6", Seq: 1, Final: true, EndReason: "fin",
		Tenant: "acme", Sensor: "s1", Source: "mirror",
		Start: start, End: start.Add(1500 * time.Millisecond),
		Orig:  schema.Endpoint{IP: netip.MustParseAddr("10.0.0.1"), Port: 40000, MAC: "02:00:00:00:00:01"},
		Resp:  schema.Endpoint{IP: netip.MustParseAddr("52.94.1.20"), Port: 443},
		Proto: 6, Transport: "tcp", Direction: "outbound", ConnState: "SF", History: "ShADadFf",
		OrigPkts: 10, RespPkts: 12, OrigBytes: 800, RespBytes: 12000, OrigIPBytes: 1320, RespIPBytes: 12640,
		App: "ssl", VLANs: []uint16{100},
		Mirror:        &schema.Mirror{Kind: "vxlan", Source: netip.MustParseAddr("172.31.0.10"), VNI: 42},
		TunnelParents: []string{"CAAAAAAAAAAB"}, CommunityID: "1:abc=",
	}
	interim := tcp
	interim.Seq, interim.Final, interim.EndReason = 0, false, "active"
	interim.End = start.Add(time.Second)
	interim.ConnState, interim.History = "S1", "ShADad"
	interim.OrigPkts, interim.RespPkts = 6, 7
	berlin := time.FixedZone("CET", 3600)
	return []schema.Session{interim, tcp, {
		Version: 1, UID: "CicmpV6", Final: true, EndReason: "idle", Source: "pcap",
		Start: start.In(berlin), End: start.Add(3 * time.Second).In(berlin),
		Orig:  schema.Endpoint{IP: netip.MustParseAddr("fd00::10:1"), Port: 128},
		Resp:  schema.Endpoint{IP: netip.MustParseAddr("2600:1f18:4000::20"), Port: 129},
		Proto: 58, Transport: "icmp", ConnState: "OTH", OrigPkts: 4, RespPkts: 4, OrigBytes: 224, RespBytes: 224,
		OrigIPBytes: 416, RespIPBytes: 416,
	}, {
		Version: 1, UID: "Cgre", Final: true, EndReason: "eof", Source: "pcap", Start: start, End: start,
		Orig: schema.Endpoint{IP: netip.MustParseAddr("10.1.1.1")}, Resp: schema.Endpoint{IP: netip.MustParseAddr("10.1.1.2")},
		Proto: 47, Transport: "unknown_transport", ConnState: "OTH", OrigPkts: 1, OrigIPBytes: 60,
	}}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("output differs from %s (-want +got):\n%s", path, diff)
	}
}

func TestJSONGoldenAndRoundTrip(t *testing.T) {
	var b bytes.Buffer
	w := NewJSON(&b)
	in := samples()
	// Two batches, to see that records continue line after line.
	if err := w.WriteSessions(context.Background(), in[:1]); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSessions(context.Background(), in[1:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	golden(t, "sessions.jsonl", b.Bytes())
	if w.Count() != uint64(len(in)) {
		t.Errorf("Count() = %d, want %d", w.Count(), len(in))
	}

	sc := bufio.NewScanner(&b)
	var lines int
	for ; sc.Scan(); lines++ {
		line := sc.Text()
		if strings.Contains(line, "+01:00") || !strings.Contains(line, `Z","end"`) {
			t.Errorf("line %d: times not in UTC: %s", lines+1, line)
		}
		var back schema.Session
		if err := json.Unmarshal(sc.Bytes(), &back); err != nil {
			t.Fatalf("line %d: %v", lines+1, err)
		}
		if lines >= len(in) {
			continue
		}
		if diff := cmp.Diff(in[lines], back, cmpAddr); diff != "" {
			t.Errorf("line %d round trip (-want +got):\n%s", lines+1, diff)
		}
	}
	if lines != len(in) {
		t.Errorf("%d lines for %d sessions", lines, len(in))
	}
	if !in[2].Start.Equal(in[2].Start.UTC()) || in[2].Start.Location().String() != "CET" {
		t.Error("the writer changed the caller's session")
	}
}

func TestDiscardCounts(t *testing.T) {
	d := NewDiscard()
	for range 3 {
		if err := d.WriteSessions(context.Background(), samples()); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil || d.Count() != 3*uint64(len(samples())) {
		t.Errorf("Count() = %d, Close() = %v", d.Count(), err)
	}
}

func BenchmarkJSON(b *testing.B) {
	batch := samples()
	w := NewJSON(discard{})
	b.ReportAllocs()
	for b.Loop() {
		if err := w.WriteSessions(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/session")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
