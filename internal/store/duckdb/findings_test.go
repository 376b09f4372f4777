package duckdb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
)

// TestUpsertFindingsManyAndRepeats: more findings than one statement
// takes all arrive, and of one id upserted twice in a batch the last
// state wins.
func TestUpsertFindingsManyAndRepeats(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var batch []schema.Finding
	for i := range 2*findingsPerStatement + 7 {
		batch = append(batch, schema.Finding{ID: fmt.Sprint("f", i), Time: time.Unix(1700000000+int64(i), 0).UTC(),
			Detector: "d", Rule: "r", Severity: "low", State: "active", DedupeKey: fmt.Sprint("k", i)})
	}
	again := batch[3]
	again.State = "cleared"
	batch = append(batch, again)
	if err := st.UpsertFindings(ctx, batch); err != nil {
		t.Fatal(err)
	}
	page, err := st.Findings(ctx, store.FindingQuery{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Findings) != 2*findingsPerStatement+7 {
		t.Fatalf("%d findings stored, want %d", len(page.Findings), 2*findingsPerStatement+7)
	}
	one, err := st.Findings(ctx, store.FindingQuery{ID: "f3"})
	if err != nil || len(one.Findings) != 1 || one.Findings[0].State != "cleared" {
		t.Fatalf("f3 after two upserts in one batch: %+v %v", one, err)
	}
}
