package storebench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/duckdb"
	"github.com/osprey-ndr/osprey/internal/store/storetest"
)

// The dataset that scripts/api_bench.sh serves (TestMakeDataset).
var (
	datasetDir      = flag.String("dataset", "", "TestMakeDataset: write an embedded store into this directory")
	datasetSessions = flag.Int("dataset-sessions", 10_000_000, "TestMakeDataset: session records, spread over one day from storetest.Base")
	datasetFindings = flag.Int("dataset-findings", 5000, "TestMakeDataset: findings over the same day")
)

// datasetDevices is the generator's fleet (storetest.Generator).
const datasetDevices = 5000

// TestMakeDataset writes the API benchmark's store: the dashboard
// benchmark's generated sessions spread over the day from storetest.Base
// (10 M: one record every 8.64 ms), the generator's 5 000 devices and
// findings about them. It runs only with -dataset DIR:
//
//	go test -run TestMakeDataset -timeout 2h ./internal/store/storebench -args -dataset DIR
func TestMakeDataset(t *testing.T) {
	if *datasetDir == "" {
		t.Skip("no -dataset DIR")
	}
	ctx := context.Background()
	st, err := duckdb.Open(ctx, *datasetDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := *datasetSessions
	gen := storetest.NewGenerator(7)
	gen.Every = 24 * time.Hour / time.Duration(n)
	start := time.Now()
	rate, end := write(t, st, gen, n)
	t.Logf("%d sessions up to %s in %s (%.0f rows/s)", n, end.Format(time.RFC3339), time.Since(start).Round(time.Second), rate)
	devs, fs := fleet(*datasetFindings)
	if err := st.UpsertDevices(ctx, devs); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(fs); i += 1000 {
		if err := st.UpsertFindings(ctx, fs[i:min(i+1000, len(fs))]); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d devices, %d findings; %s in all", len(devs), len(fs), time.Since(start).Round(time.Second))
}

// fleet is the inventory of the generator's devices (10.segment.hi.lo,
// one category per segment) and nf findings about them, first seen
// evenly over the day, of every severity and state.
func fleet(nf int) ([]schema.Device, []schema.Finding) {
	rng := rand.New(rand.NewPCG(11, 12))
	cats := []string{"camera", "hvac", "plc", "workstation", "server", "server"}
	day := storetest.Base
	devs := make([]schema.Device, 0, datasetDevices)
	addr := func(d int) netip.Addr {
		return netip.AddrFrom4([4]byte{10, byte(d % len(cats)), byte(d >> 8), byte(d)})
	}
	for d := range datasetDevices {
		a := addr(d)
		attrs, _ := json.Marshal(map[string]any{"vendor": "Acme", "segment": d % len(cats)})
		devs = append(devs, schema.Device{ID: "ip:" + a.String(), Tenant: "default", FirstSeen: day.Add(-7 * 24 * time.Hour),
			LastSeen: day.Add(time.Duration(rng.Int64N(int64(24 * time.Hour)))).Truncate(time.Microsecond),
			MACs:     []string{fmt.Sprintf("02:00:00:%02x:%02x:%02x", d%len(cats), byte(d>>8), byte(d))},
			IPs:      []string{a.String()}, Category: cats[d%len(cats)], Risk: rng.Float64(), Attributes: attrs})
	}
	detectors := []string{"vertical-scan", "brute-force", "beaconing", "policy", "intel", "new-peer"}
	states := []string{"active", "active", "active", "acknowledged", "cleared"}
	fs := make([]schema.Finding, 0, nf)
	for i := range nf {
		d := rng.IntN(datasetDevices)
		ev, _ := json.Marshal(map[string]any{"summary": "generated finding", "sessions": 1 + rng.IntN(500)})
		fs = append(fs, schema.Finding{ID: fmt.Sprintf("f-%07d", i), Tenant: "default",
			Time:     day.Add(time.Duration(i) * 24 * time.Hour / time.Duration(max(nf, 1))).Truncate(time.Microsecond),
			Detector: detectors[i%len(detectors)], Rule: fmt.Sprintf("rule-%d", i%17), Severity: store.Severities[rng.IntN(len(store.Severities))],
			Entities: []string{"ip:" + addr(d).String()}, Evidence: ev, State: states[rng.IntN(len(states))],
			DedupeKey: fmt.Sprintf("k-%07d", i)})
	}
	return devs, fs
}
