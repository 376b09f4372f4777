package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/filter"
)

// V1Columns is how many of the session columns (sqlstore.SessionColumns)
// schema version 1 had: migration 2 added enrichment, L7 and flow
// metadata after them.
const V1Columns = 47

// UpgradeRecord is an enriched record to write into a store at schema
// version 1, through its first V1Columns columns only, as osprey then
// wrote it.
func UpgradeRecord() store.Record {
	for _, s := range Sessions(50) {
		if s.Tenant == "" && s.Resp.Geo != nil && s.L7 != nil {
			return Records(context.Background(), []schema.Session{s})[0]
		}
	}
	panic("storetest: no enriched session generated")
}

// CheckUpgraded checks that a store migrated since UpgradeRecord was
// written reads it back whole, with none of what version 1 had no column
// for, and stores a new enriched record beside it.
func CheckUpgraded(t *testing.T, st store.Store) {
	t.Helper()
	want := UpgradeRecord().Session
	want.Orig.AssetName, want.Orig.Account, want.Orig.Geo, want.Orig.Intel = "", "", nil, nil
	want.Resp.AssetName, want.Resp.Account, want.Resp.Geo, want.Resp.Intel = "", "", nil, nil
	want.Intel, want.L7, want.Flow = nil, nil, nil
	fresh := UpgradeRecord()
	fresh.UID += "-new"
	if n, err := st.WriteSessions(context.Background(), []store.Record{fresh}); err != nil || n != 1 {
		t.Fatalf("write after the upgrade: %d new, %v", n, err)
	}
	// The hourly address rollup was filled from the stored record.
	hour := fresh.End.Truncate(time.Hour)
	top, err := st.Top(context.Background(), store.TopQuery{Dimension: "src.ip", By: store.Bytes,
		Scope: store.Scope{Range: store.Range{Since: hour, Until: hour.Add(time.Hour)}}})
	wantTop := []store.TopRow{{Key: fresh.Orig.IP.String(), Bytes: 2 * (fresh.Delta.OrigBytes + fresh.Delta.RespBytes),
		Packets: 2 * (fresh.Delta.OrigPkts + fresh.Delta.RespPkts)}}
	if fresh.Seq == 0 {
		wantTop[0].Sessions = 2
	}
	if err != nil || fmt.Sprint(top) != fmt.Sprint(wantTop) {
		t.Errorf("top source address after the upgrade: %v, %v; want %v", top, err, wantTop)
	}
	page, err := st.Search(context.Background(), store.SearchQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Sessions) != 2 {
		t.Fatalf("%d sessions after the upgrade, want 2", len(page.Sessions))
	}
	// Negations hold for a row stored before the columns were.
	e, err := filter.Parse(`intel != "no-such-feed" and country != "ZZ" and asn != 1 and server_name != "no.such"`)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := st.Search(context.Background(), store.SearchQuery{Filter: e, Limit: 10}); err != nil || len(p.Sessions) != 2 {
		t.Errorf("negated filters on the new columns: %d sessions, %v; want 2", len(p.Sessions), err)
	}
	for _, w := range []schema.Session{want, fresh.Session} {
		var got *schema.Session
		for i := range page.Sessions {
			if page.Sessions[i].UID == w.UID {
				got = &page.Sessions[i]
			}
		}
		g, _ := json.Marshal(got)
		e, _ := json.Marshal(w)
		if string(g) != string(e) {
			t.Errorf("after the upgrade, %s reads\n %s\nwant\n %s", w.UID, g, e)
		}
	}
}
