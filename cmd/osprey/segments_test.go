package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/segment"
	"github.com/osprey-ndr/osprey/internal/store/duckdb"
	"github.com/osprey-ndr/osprey/internal/store/storetest"
)

// TestSegments stores app → db traffic (TCP 5432 answered, TCP 22
// unanswered) an hour ago and runs osprey segments recommend and
// capacity over it; the proposed policy passes osprey policy test.
func TestSegments(t *testing.T) {
	dir := t.TempDir()
	data, conf, pol := filepath.Join(dir, "data"), filepath.Join(dir, "osprey.yaml"), filepath.Join(dir, "proposed.yaml")
	st, err := duckdb.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute).Add(30 * time.Second)
	var ss []schema.Session
	for i := range 8 {
		port, state := uint16(5432), "SF"
		if i >= 5 {
			port, state = 22, "S0"
		}
		ss = append(ss, schema.Session{Version: schema.SessionVersion, UID: fmt.Sprintf("Cseg%d", i), Tenant: "acme", Final: true, EndReason: "fin",
			Source: "pcap", Start: end.Add(-time.Second), End: end, Proto: 6, Transport: "tcp", ConnState: state,
			Orig:      schema.Endpoint{IP: netip.AddrFrom4([4]byte{10, 1, 0, byte(i)}), Port: 40000, Segment: "app"},
			Resp:      schema.Endpoint{IP: netip.MustParseAddr("10.2.0.1"), Port: port, Segment: "db"},
			OrigBytes: 150_000, OrigPkts: 100})
	}
	if _, err := st.WriteSessions(context.Background(), storetest.Records(context.Background(), ss)); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out, e, err := osprey(t, "segments", "recommend", "--store", data, "--tenant", "acme", "--since", "1d", "--policy", pol)
	if err != nil {
		t.Fatal(err, e)
	}
	if !strings.Contains(out, "app  db   tcp    5432  5         750000") || strings.Contains(out, " 22 ") || !strings.Contains(out, "1 segment pairs") {
		t.Errorf("recommend table:\n%s", out)
	}
	if out, e, err := osprey(t, "policy", "test", "--store", data, "--tenant", "acme", "--since", "1d", pol); err != nil ||
		!strings.Contains(out, "8 session records checked against 2 rules: 0 rules would have fired") {
		t.Errorf("policy test of the proposal: %v %s\n%s", err, e, out)
	}
	if _, e, err := osprey(t, "segments", "recommend", "--store", data, "--min-sessions", "0"); err == nil || !strings.Contains(e, "--min-sessions") {
		t.Errorf("--min-sessions 0: %v %s", err, e)
	}

	// 8 sessions of 150 kB in one minute: 1.2 MB·8/60 = 160 kbit/s, on a
	// 200 kbit/s link: 80 % at the peak, but p95 over a day is 0.
	os.WriteFile(conf, []byte("segmentation:\n  links:\n    - {name: app-db, src: app, dst: db, bandwidth: 200kbps}\n"), 0o644)
	js, e, err := osprey(t, "--config", conf, "segments", "capacity", "--store", data, "--tenant", "acme", "--since", "1d", "-o", "json")
	if err != nil {
		t.Fatal(err, e)
	}
	var rep segment.CapacityReport
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err, js)
	}
	if len(rep.Items) != 1 || rep.Items[0].Name != "app-db" || rep.Items[0].PeakBps != 160000 || rep.Items[0].P95Bps != 0 || rep.Items[0].Warning {
		t.Errorf("capacity: %s", js)
	}
	// Over the one minute, the p95 is the peak: a warning.
	from := end.Truncate(time.Minute)
	table, e, err := osprey(t, "--config", conf, "segments", "capacity", "--store", data, "--tenant", "acme",
		"--since", from.Format(time.RFC3339), "--until", from.Add(time.Minute).Format(time.RFC3339))
	if err != nil || !strings.Contains(table, "app-db  app  db   200.00 kbps  160.00 kbps  160.00 kbps  80.0 %       WARNING") {
		t.Errorf("capacity table: %v %s\n%s", err, e, table)
	}
}
