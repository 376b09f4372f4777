package policy_test

import (
	"context"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect/policy"
	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/duckdb"
)

// TestWhatIfDuckDB runs what-if over the embedded store, so that the
// enrichment the rules select on survives a round trip through it.
func TestWhatIfDuckDB(t *testing.T) {
	ctx := context.Background()
	st, err := duckdb.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var recs []store.Record
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 4 {
		s := schema.Session{
			Version: schema.SessionVersion, UID: "C" + strconv.Itoa(i), Final: true, EndReason: "fin", Source: "pcap",
			Start: start.Add(time.Duration(i) * time.Second), End: start.Add(time.Duration(i+1) * time.Second),
			Proto: 6, Transport: "tcp", ConnState: "SF",
			Orig:      schema.Endpoint{IP: netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}), Port: 40000, Segment: "internet"},
			Resp:      schema.Endpoint{IP: netip.MustParseAddr("10.20.0.7"), Port: 22, Tags: []string{"datastore"}, Segment: "datastores", Asset: "i-db"},
			OrigBytes: 100, OrigPkts: 2,
		}
		if i == 3 { // a vm: allowed
			s.Orig.Tags, s.Orig.Segment = []string{"vm"}, "compute"
		}
		recs = append(recs, store.Record{Session: s, Delta: store.Counters{OrigBytes: 100, OrigPkts: 2}})
	}
	if _, err := st.WriteSessions(ctx, recs); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load("db.yaml", []byte(`{version: 1, rules: [{name: db-ingress, to: {tag: datastore}, only_from: {tag: vm}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.NewSet(p)
	if err != nil {
		t.Fatal(err)
	}
	res, err := policy.WhatIf(ctx, st, set, policy.WhatIfQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sessions != 4 || len(res.Rules) != 1 || res.Rules[0].Sessions != 3 || res.Rules[0].Findings != 3 {
		t.Errorf("what-if over duckdb: %+v", res)
	}
}
