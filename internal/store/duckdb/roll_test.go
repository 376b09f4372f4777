package duckdb

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/sqlstore"
	"github.com/osprey-ndr/osprey/internal/store/storetest"
)

// TestRollups writes records in time order, then late ones, then, on
// the reopened store, more in order: each time every rollup holds what
// sessions hold before the rollups' end; while the records come in
// order, and once the late records' hours are compacted, each key of a
// bucket has one row.
func TestRollups(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	gen := storetest.NewGenerator(7)
	gen.Every = 400 * time.Millisecond // 5 000 records: 33 minutes
	write := func(n int) {
		t.Helper()
		batch := gen.Records(n)
		if got, err := st.WriteSessions(ctx, batch); err != nil || got != len(batch) {
			t.Fatalf("%d of %d written: %v", got, len(batch), err)
		}
	}
	for range 6 {
		write(5000)
	}
	write(50) // the rollups' end 20 s into a minute
	rolled := st.rolled.Load()
	if newest := gen.Records(1)[0].End.UnixMicro(); rolled < newest-3*minuteUs || rolled > newest {
		t.Fatalf("rollups end at %s, the newest record at %s", time.UnixMicro(rolled).UTC(), time.UnixMicro(newest).UTC())
	}
	checkRollups(t, st, true)

	// Late records: in hours long rolled up, and in the hour the rollups
	// end in (whose hourly rows are not written yet), up to the minute
	// they end in.
	hour := floor(rolled, hourUs)
	for i, from := range []int64{storetest.Base.UnixMicro(), hour} {
		late := storetest.NewGenerator(uint64(10 + i))
		late.From(time.UnixMicro(from))
		late.Every, late.UIDs = time.Second, string(rune('L'+i))
		batch := late.Records(int(min(3000, (rolled-from)/1e6-10)))
		if n, err := st.WriteSessions(ctx, batch); err != nil || n != len(batch) {
			t.Fatalf("late: %d of %d written: %v", n, len(batch), err)
		}
	}
	if st.rolled.Load() != rolled {
		t.Fatalf("late records moved the rollups' end from %d to %d", rolled, st.rolled.Load())
	}
	checkRollups(t, st, false)

	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err = Open(ctx, dir); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.rolled.Load() != rolled {
		t.Fatalf("reopened: rollups end at %d, want %d", st.rolled.Load(), rolled)
	}
	if !st.late[hour] || len(st.late) != 1 { // the first hour, long past, was compacted at once
		t.Fatalf("reopened: hours to compact %v, want %d", st.late, hour)
	}
	write(5000)
	if st.rolled.Load() <= rolled {
		t.Fatal("the rollups' end did not move")
	}
	checkRollups(t, st, false)
	// Once the rollups' end is past the late hours by settle, each key
	// of a bucket has one row again.
	write(5000)
	var marked int
	if err := st.SQL.QueryRowContext(ctx, "SELECT count(*) FROM rollup_late").Scan(&marked); err != nil || marked != 0 || len(st.late) != 0 {
		t.Fatalf("hours to compact: %d stored, %d in memory, %v", marked, len(st.late), err)
	}
	checkRollups(t, st, true)
}

// checkRollups compares each rollup with the sums of the sessions that
// end before where it ends (the hourly tables: before that hour), and
// with once, that no bucket has a key twice (but the minute the rollups
// end in, rolled up by more than one batch until it is over).
func checkRollups(t *testing.T, st *Store, once bool) {
	t.Helper()
	ctx := context.Background()
	rolled := st.rolled.Load()
	// Each session once per key of each of its ends, then grouped.
	rows := "d_orig_bytes + d_resp_bytes AS b, d_orig_pkts + d_resp_pkts AS p, (seq = 0)::INT AS n FROM sessions WHERE end_us < "
	sums := ", sum(b)::BIGINT, sum(p)::BIGINT, sum(n)::BIGINT FROM ("
	minute, hour := "end_us - end_us % 60000000 AS t", "end_us - end_us % 3600000000 AS t"
	for _, c := range []struct{ table, time, keys, fromSessions string }{
		{"rollup_app", "minute_us", "app", "SELECT tenant, t, k" + sums + "SELECT tenant, " + minute + ", app AS k, " + rows + "$1) GROUP BY ALL"},
		{"rollup_segment", "minute_us", "orig_segment, resp_segment",
			"SELECT tenant, t, x, y" + sums + "SELECT tenant, " + minute + ", orig_segment AS x, resp_segment AS y, " + rows + "$1) GROUP BY ALL"},
		{"rollup_device", "minute_us", "device",
			"SELECT tenant, t, k" + sums + "SELECT tenant, " + minute + ", unnest([orig_device, resp_device]) AS k, " + rows + "$1) GROUP BY ALL"},
		{"rollup_device_hour", "hour_us", "device",
			"SELECT tenant, t, k" + sums + "SELECT tenant, " + hour + ", unnest([orig_device, resp_device]) AS k, " + rows + "$1) GROUP BY ALL"},
		{"rollup_ip_hour", "hour_us", "side, ip_hi, ip_lo",
			"SELECT tenant, t, side, hi, lo" + sums + "SELECT tenant, " + hour + ", unnest([0, 1])::UTINYINT AS side, unnest([orig_ip_hi, resp_ip_hi]) AS hi, " +
				"unnest([orig_ip_lo, resp_ip_lo]) AS lo, " + rows + "$1) GROUP BY ALL"},
	} {
		limit := rolled
		if c.time == "hour_us" {
			limit = floor(rolled, hourUs)
		}
		r := "sum(bytes)::BIGINT, sum(packets)::BIGINT, sum(sessions)::BIGINT"
		stored := "SELECT tenant, " + c.time + ", " + c.keys + ", " + r + " FROM " + c.table + " GROUP BY ALL"
		q := "SELECT count(*) FROM ((" + stored + " EXCEPT " + c.fromSessions + ") UNION ALL (" + c.fromSessions + " EXCEPT " + stored + "))"
		var differ, rows, keys int
		if err := st.SQL.QueryRowContext(ctx, q, limit).Scan(&differ); err != nil {
			t.Fatalf("%s: %v", c.table, err)
		}
		keyed := "SELECT count(*), count(DISTINCT (tenant, " + c.time + ", " + c.keys + ")) FROM " + c.table + " WHERE " + c.time + " < ?"
		if err := st.SQL.QueryRowContext(ctx, keyed, floor(rolled, minuteUs)).Scan(&rows, &keys); err != nil {
			t.Fatalf("%s: %v", c.table, err)
		}
		if differ != 0 || rows == 0 || (once && rows != keys) {
			t.Errorf("%s: %d keys' sums differ from sessions'; %d rows of %d keys", c.table, differ, rows, keys)
		}
	}
}

// TestReadsAcrossRolled asks the rollups' questions over ranges before,
// across and after where the rollups end, and compares each answer with
// the one read from sessions alone; then again with a record stored
// beyond the end (stamped ahead of the clock).
func TestReadsAcrossRolled(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gen := storetest.NewGenerator(9)
	gen.Every = time.Second // to 5:50:30, the rollups' end then: its hour is not complemented
	for _, n := range []int{4200, 4200, 4200, 4200, 4200, 30} {
		if _, err := st.WriteSessions(ctx, gen.Records(n)); err != nil {
			t.Fatal(err)
		}
	}
	rolled := time.UnixMicro(st.rolled.Load()).UTC()
	end := gen.Records(1)[0].End
	if !end.After(rolled) || rolled.Sub(rolled.Truncate(time.Minute)) < 10*time.Second {
		t.Fatalf("rollups end at %s, the newest record at %s", rolled, end)
	}
	ask := func() (out []any) {
		base, h, m := storetest.Base, time.Hour, rolled.Truncate(time.Minute)
		for _, r := range []store.Range{
			{}, {Since: base, Until: rolled}, {Since: base.Add(h), Until: rolled.Add(-7 * time.Minute)},
			{Since: base.Add(17 * time.Minute), Until: rolled.Add(2 * time.Minute)}, {Since: rolled.Add(-h), Until: end.Add(h)},
			{Since: rolled.Truncate(h), Until: end.Add(h).Truncate(h)}, {Since: rolled.Add(-3 * time.Minute)},
			// On minutes: a live dashboard's, across the end and within its
			// minute; and ending in that minute before the end.
			{Since: base, Until: m.Add(time.Minute)}, {Since: m.Add(-h), Until: m.Add(3 * time.Minute)}, {Since: m}, {Since: m, Until: m.Add(time.Minute)},
			{Since: m.Add(-h), Until: m.Add(rolled.Sub(m) / 2)},
			// Ragged, each end more than half its hour (complemented).
			{Since: base.Add(h + 13*time.Minute + 7*time.Second), Until: base.Add(4*h + 47*time.Minute + 3*time.Second)},
		} {
			sc := store.Scope{Tenant: "default", Range: r}
			for _, dim := range []string{"device", "app", "src.ip", "dst.ip"} {
				top, err := st.Top(ctx, store.TopQuery{Scope: sc, Dimension: dim, By: store.Bytes, Limit: 20})
				if err != nil {
					t.Fatal(err)
				}
				series, err := st.Series(ctx, store.SeriesQuery{Scope: sc, Step: h, Dimension: dim, By: store.Sessions})
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, top, series)
			}
			matrix, err := st.Matrix(ctx, store.MatrixQuery{Scope: sc, By: "segment", Measure: store.Packets})
			if err != nil {
				t.Fatal(err)
			}
			pairs, err := st.PairSeries(ctx, store.PairSeriesQuery{Scope: sc})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, matrix, pairs)
		}
		return out
	}
	compare := func() {
		t.Helper()
		rolledUp := st.Rolled
		got := ask()
		if top := got[0].([]store.TopRow); len(top) != 20 {
			t.Fatalf("top devices: %v", top)
		}
		st.Rolled = func() sqlstore.Rolled { // nothing rolled up
			return sqlstore.Rolled{At: time.UnixMicro(0), Column: "0", Table: "(SELECT 1)", Beyond: true}
		}
		defer func() { st.Rolled = rolledUp }()
		if d := cmp.Diff(ask(), got); d != "" {
			t.Errorf("with the rollups (+) and from sessions alone (-):\n%s", d)
		}
	}
	compare()
	ahead := gen.Records(1)
	ahead[0].End = time.Now().Add(2 * rollAhead).Truncate(time.Microsecond)
	if _, err := st.WriteSessions(ctx, ahead); err != nil {
		t.Fatal(err)
	}
	if !st.rolledUp().Beyond || !st.rolledUp().At.Equal(rolled) {
		t.Fatalf("after a record ahead of the clock: %+v, want the end at %s with records beyond", st.rolledUp(), rolled)
	}
	compare()
}

// TestLiveReadsCountOnce reads while batches are written, each read
// planned on the rollups' end as it was some milliseconds before the
// read runs: every total must be the sum of a whole number of batches,
// each record counted once though a batch committed in between moved
// the end.
func TestLiveReadsCountOnce(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rolledUp := st.Rolled
	st.Rolled = func() sqlstore.Rolled {
		r := rolledUp()
		time.Sleep(3 * time.Millisecond) // a batch may commit meanwhile
		return r
	}
	gen := storetest.NewGenerator(5)
	gen.Every = 700 * time.Millisecond // batches ending inside minutes
	const batches = 40
	totals := map[uint64]bool{0: true}
	var sum uint64
	var recs [][]store.Record
	for range batches {
		batch := gen.Records(300)
		for _, r := range batch {
			sum += r.Delta.OrigBytes + r.Delta.RespBytes
		}
		totals[sum] = true
		recs = append(recs, batch)
	}
	done := make(chan error)
	go func() {
		for _, batch := range recs {
			if _, err := st.WriteSessions(ctx, batch); err != nil {
				done <- err
				return
			}
			time.Sleep(time.Millisecond)
		}
		done <- nil
	}()
	// Until ragged and past every record: bounded by the end as read.
	sc := store.Scope{Tenant: "default", Range: store.Range{Until: storetest.Base.Add(48*time.Hour + time.Second)}}
	reads, partial := 0, 0
	for writing := true; writing; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			writing = false
		default:
		}
		top, err := st.Top(ctx, store.TopQuery{Scope: sc, Dimension: "app", By: store.Bytes, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		cells, err := st.Matrix(ctx, store.MatrixQuery{Scope: sc, By: "segment", Measure: store.Bytes})
		if err != nil {
			t.Fatal(err)
		}
		var apps, pairs uint64
		for _, r := range top {
			apps += r.Bytes
		}
		for _, c := range cells {
			pairs += c.Value
		}
		if !totals[apps] || !totals[pairs] {
			t.Fatalf("read %d: apps sum to %d, segment pairs to %d: not a whole number of batches", reads, apps, pairs)
		}
		reads++
		if apps != 0 && apps != sum {
			partial++
		}
	}
	if partial < 5 {
		t.Fatalf("%d of %d reads ran while the batches were written", partial, reads)
	}
}
