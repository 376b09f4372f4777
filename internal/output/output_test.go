package output

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sample() []schema.Session {
	start := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	return []schema.Session{{
		Version: schema.SessionVersion, UID: "C1a2b3c4d5e6", Final: true, EndReason: "fin", Tenant: "acme", Sensor: "s1", Source: "vxlan",
		Start: start, End: start.Add(1500 * time.Millisecond),
		Orig:  schema.Endpoint{IP: netip.MustParseAddr("10.0.0.1"), Port: 40000, MAC: "02:00:00:00:00:01"},
		Resp:  schema.Endpoint{IP: netip.MustParseAddr("2001:db8::2"), Port: 443},
		Proto: 6, Transport: "tcp", Direction: "outbound", ConnState: "SF", History: "ShADadFf",
		OrigPkts: 10, RespPkts: 12, OrigBytes: 800, RespBytes: 12000, OrigIPBytes: 1320, RespIPBytes: 12640,
		VLANs: []uint16{100}, Mirror: &schema.Mirror{Kind: "vxlan", Source: netip.MustParseAddr("172.31.0.10"), VNI: 42},
		TunnelParents: []string{"CAAAAAAAAAAB"}, CommunityID: "1:abc=",
	}}
}

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	w := NewJSON(&b)
	if err := w.WriteSessions(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	golden := filepath.Join("testdata", "session.jsonl")
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(golden, b.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("JSON differs from %s (-want +got):\n%s", golden, diff)
	}
	var back schema.Session
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sample()[0], back, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

// sessionFromRow turns a conn.log row back into a Session.
func sessionFromRow(t *testing.T, r ZeekConnRow) schema.Session {
	u := func(f string) uint64 {
		v, _ := strconv.ParseUint(r.Get(f), 10, 64)
		return v
	}
	start := time.Unix(1700000000, 0).UTC()
	s := schema.Session{Final: true, UID: r.Get("uid"), Start: start, End: start,
		Orig:      schema.Endpoint{IP: netip.MustParseAddr(r.Get("id.orig_h")), Port: uint16(u("id.orig_p"))},
		Resp:      schema.Endpoint{IP: netip.MustParseAddr(r.Get("id.resp_h")), Port: uint16(u("id.resp_p"))},
		Transport: r.Get("proto"), ConnState: r.Get("conn_state"), MissedBytes: u("missed_bytes"),
		OrigPkts: u("orig_pkts"), RespPkts: u("resp_pkts"), OrigIPBytes: u("orig_ip_bytes"), RespIPBytes: u("resp_ip_bytes"),
		Proto: uint8(u("ip_proto"))}
	if v := r.Get("service"); v != "-" {
		s.App = v
	}
	if v := r.Get("history"); v != "-" {
		s.History = v
	}
	if d := r.Get("duration"); d != "-" {
		f, _ := strconv.ParseFloat(d, 64)
		s.End = start.Add(time.Duration(f*1e6+0.5) * time.Microsecond)
		s.OrigBytes, s.RespBytes = u("orig_bytes"), u("resp_bytes")
	}
	if p := r.Get("tunnel_parents"); p != "-" {
		s.TunnelParents = strings.Split(p, ",")
	}
	for _, f := range []string{"vlan", "inner_vlan"} {
		if v := r.Get(f); v != "" && v != "-" {
			s.VLANs = append(s.VLANs, uint16(u(f)))
		}
	}
	return s
}

// TestZeekConnMatchesZeek re-writes every row of Zeek's own conn.log
// baselines and requires the same header and byte-identical rows (but the
// timestamp, which btest masks).
func TestZeekConnMatchesZeek(t *testing.T) {
	logs, _ := filepath.Glob(filepath.Join(testutil.SharedTestdata(t), "zeek", "*", "conn.log"))
	if len(logs) < 5 {
		testutil.Missing(t, "zeek conn.log baselines")
	}
	for _, path := range logs {
		raw, _ := os.ReadFile(path)
		rows, err := ParseZeekConn(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		vlan := strings.Contains(string(raw), "\tinner_vlan")
		var sessions []schema.Session
		for _, r := range rows {
			sessions = append(sessions, sessionFromRow(t, r))
		}
		var b bytes.Buffer
		w := NewZeekConn(&b, ZeekOptions{VLAN: vlan})
		if err := w.WriteSessions(context.Background(), sessions); err != nil {
			t.Fatal(err)
		}
		w.Close()
		want, got := dataLines(string(raw)), dataLines(b.String())
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-zeek +osprey):\n%s", path, diff)
		}
	}
}

// dataLines keeps the #fields/#types headers and the rows, with the ts
// column masked as btest masks it.
func dataLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		switch {
		case strings.HasPrefix(l, "#fields"), strings.HasPrefix(l, "#types"), strings.HasPrefix(l, "#separator"), strings.HasPrefix(l, "#path"):
			out = append(out, l)
		case l != "" && !strings.HasPrefix(l, "#"):
			_, rest, _ := strings.Cut(l, "\t")
			out = append(out, "XXXXXXXXXX.XXXXXX\t"+rest)
		}
	}
	return out
}

func TestParseZeekConnErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a\tb\n", "line 1: data before the #fields header"},
		{"#fields\ta\tb\n1\t2\t3\n", "line 2: 3 fields, the #fields header has 2"},
	} {
		if _, err := ParseZeekConn(strings.NewReader(tc.in)); err == nil || err.Error() != tc.want {
			t.Errorf("ParseZeekConn(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func FuzzParseZeekConn(f *testing.F) {
	f.Add("#fields\tts\tuid\n1.0\tC1\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := ParseZeekConn(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, r := range rows {
			if len(r.values) != len(r.fields) {
				t.Fatalf("row of %d values for %d fields", len(r.values), len(r.fields))
			}
		}
	})
}
