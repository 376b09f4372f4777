package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/filter"
)

// Filters are the expressions the suite checks against filter.Compile.
var Filters = []string{
	``,
	`app = "tls"`,
	`app != "tls"`,
	`app = ""`,
	`src.tag = "iot" and dst.port in (22, 23) and bytes > 1MB and app = "tls"`,
	`src.tag != "iot"`,
	`not dst.tag in ("db", "web")`,
	`src.ip in (10.1.0.0/16, fd00::/8)`,
	`src.ip not in (10.0.0.0/8)`,
	`dst.ip = 10.2.0.7 or src.ip = 10.2.0.7`,
	`src.ip in (10.0.0.0/8) or dst.ip in (10.1.0.0/16, fd00::/8) or (mirror = 172.31.0.2 and app != "dns")`, // overlapping terms
	`src.ip in (::/0)`,
	`vni = 1`,
	`vni != 1`,
	`mirror = 172.31.0.2`,
	`not (vni >= 1)`,
	`duration > 20m and duration <= 1h`,
	`packets >= 100 and src.bytes < 2MB`,
	`proto = udp and dst.port = 53`,
	`dst.segment = "iot" and src.segment != "prod"`,
	`dst.asset in ("i-0abc") or direction = inbound`,
	`conn_state = SF and history = "Dd"`,
	`community_id = "1:7"`,
	`ip_proto = 6 and dst.bytes > 50k`,
	`dst.country = "DE"`,
	`country in ("US", "NL") and not src.country = "DE"`,
	`country != "DE"`,
	`asn = 13335`,
	`dst.asn > 10000 or src.asn < 5000`,
	`src.asn != 3320 and asn not in (16509)`,
	`intel = "urlhaus"`,
	`intel != "abuse-ch"`,
	`not intel in ("spamhaus-drop", "abuse-ch")`,
	`action = "reject"`,
	`action != "accept"`,
	`server_name = "evil.example"`,
	`server_name in ("api.example.com", "example.org") and app != "dns"`,
}

// Run checks a backend. open returns an empty store; the suite closes it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := open(t)
	t.Cleanup(func() { st.Close() })
	sessions := Sessions(400)
	records := Records(ctx, sessions)

	t.Run("write is idempotent", func(t *testing.T) {
		half := len(records) / 2
		n1, err := st.WriteSessions(ctx, records[:half])
		if err != nil {
			t.Fatal(err)
		}
		// A retried batch overlapping what is stored, with a record twice.
		retry := append(slices.Clone(records[half/2:]), records[len(records)-1])
		n2, err := st.WriteSessions(ctx, retry)
		if err != nil {
			t.Fatal(err)
		}
		if n1 != half || n2 != len(records)-half {
			t.Fatalf("new records: %d then %d, want %d then %d", n1, n2, half, len(records)-half)
		}
		if n, err := st.WriteSessions(ctx, records); err != nil || n != 0 {
			t.Fatalf("rewrite of everything: %d new, %v; want 0", n, err)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("schema version", func(t *testing.T) {
		if v, err := st.SchemaVersion(ctx); err != nil || v < 1 {
			t.Fatalf("schema version %d, %v", v, err)
		}
	})

	t.Run("previous record", func(t *testing.T) {
		for _, r := range records {
			if r.Seq == 1 {
				c, ok, err := st.Previous(ctx, &r.Session)
				want := r.Session.OrigBytes - r.Delta.OrigBytes
				if err != nil || !ok || c.OrigBytes != want {
					t.Fatalf("previous of %s: %+v %v %v, want orig bytes %d", r.UID, c, ok, err, want)
				}
				// Looked up within the flow's span only; a first record has none.
				s := r.Session
				s.Start = s.End
				if _, ok, err := st.Previous(ctx, &s); ok || err != nil {
					t.Fatalf("previous of %s found outside its span: %v", r.UID, err)
				}
				s.Seq = 0
				if _, ok, err := st.Previous(ctx, &s); ok || err != nil {
					t.Fatalf("previous of a first record found: %v", err)
				}
				return
			}
		}
		t.Fatal("no interim record generated")
	})

	t.Run("search matches the reference filter", func(t *testing.T) {
		rng := store.Range{Since: Base.Add(20 * time.Hour), Until: Base.Add(50 * time.Hour)}
		for _, tenant := range Tenants {
			for _, src := range Filters {
				e, err := filter.Parse(src)
				if err != nil {
					t.Fatalf("%s: %v", src, err)
				}
				pred := filter.Compile(e)
				var want []string
				for _, s := range sessions {
					if s.Tenant == tenant && !s.End.Before(rng.Since) && s.Start.Before(rng.Until) && pred(&s) {
						want = append(want, id(&s))
					}
				}
				got := searchAll(t, st, store.SearchQuery{Scope: store.Scope{Tenant: tenant, Range: rng}, Filter: e, Limit: 37})
				var ids []string
				for i := range got {
					ids = append(ids, id(&got[i]))
				}
				sort.Strings(want)
				sort.Strings(ids)
				if !slices.Equal(ids, want) {
					t.Errorf("tenant %q, filter %q: %d sessions, want %d", tenant, src, len(ids), len(want))
				}
			}
		}
	})

	t.Run("search pages newest first and round-trips sessions", func(t *testing.T) {
		got := searchAll(t, st, store.SearchQuery{Limit: 50})
		byID := map[string]schema.Session{}
		for _, s := range sessions {
			if s.Tenant == "" {
				byID[id(&s)] = s
			}
		}
		if len(got) != len(byID) {
			t.Fatalf("%d sessions of the default tenant, want %d", len(got), len(byID))
		}
		covered := map[string]bool{}
		for i, s := range got {
			covered["geo"] = covered["geo"] || s.Resp.Geo != nil
			covered["asset name"] = covered["asset name"] || s.Orig.AssetName != ""
			covered["address intel"] = covered["address intel"] || s.Resp.Intel != nil
			covered["domain intel"] = covered["domain intel"] || s.Intel != nil
			covered["l7"] = covered["l7"] || s.L7 != nil
			covered["flow"] = covered["flow"] || s.Flow != nil
			if i > 0 && s.End.After(got[i-1].End) {
				t.Fatalf("page order: %s after %s", s.End, got[i-1].End)
			}
			got, _ := json.Marshal(s)
			want, _ := json.Marshal(byID[id(&s)])
			if string(got) != string(want) {
				t.Fatalf("stored session differs:\n got %s\nwant %s", got, want)
			}
		}
		if len(covered) != 6 || slices.Contains(slices.Collect(maps.Values(covered)), false) {
			t.Fatalf("the sessions read back lack some metadata: %v", covered)
		}
		if _, err := st.Search(ctx, store.SearchQuery{Cursor: "garbage"}); err == nil {
			t.Fatal("a bad cursor was accepted")
		}
	})

	t.Run("top-N matches sums of deltas", func(t *testing.T) {
		for _, q := range []store.TopQuery{
			{Dimension: "app", By: store.Bytes},
			{Dimension: "app", By: store.Sessions, Filter: mustParse(t, `bytes >= 0`)},
			{Dimension: "device", By: store.Bytes},
			{Dimension: "device", By: store.Packets, Filter: mustParse(t, `proto = tcp`)},
			{Dimension: "country", By: store.Bytes, Filter: mustParse(t, `src.ip in (10.0.0.0/8) or dst.ip in (10.1.0.0/16)`)},
			{Dimension: "src.ip", By: store.Bytes},
			{Dimension: "dst.port", By: store.Sessions},
			{Dimension: "src.tag", By: store.Packets},
			{Dimension: "vni", By: store.Bytes, Filter: mustParse(t, `mirror in (0.0.0.0/0)`)},
			{Dimension: "dst.country", By: store.Sessions},
			{Dimension: "country", By: store.Bytes},
			{Dimension: "dst.asn", By: store.Packets, Filter: mustParse(t, `dst.asn > 0`)},
			{Dimension: "server_name", By: store.Sessions},
			{Dimension: "intel", By: store.Sessions},
			{Dimension: "dst.ip", By: store.Packets},
		} {
			// Whole hours (hourly rollups), ragged minutes (hourly and
			// minute rollups, or sessions), ragged seconds (sessions at
			// the ends), one end of each, and less than an hour.
			for _, r := range []store.Range{
				{Since: Base.Add(6 * time.Hour), Until: Base.Add(30 * time.Hour)},
				{Since: Base.Add(6*time.Hour + 17*time.Minute), Until: Base.Add(30*time.Hour + 42*time.Minute)},
				{Since: Base.Add(6*time.Hour + 17*time.Minute + 30*time.Second), Until: Base.Add(30*time.Hour + 5*time.Second)},
				{Since: Base.Add(6*time.Hour + 17*time.Minute), Until: Base.Add(30*time.Hour + 5*time.Second)},
				{Since: Base.Add(7*time.Hour + 10*time.Minute), Until: Base.Add(7*time.Hour + 50*time.Minute)},
				{Until: Base.Add(20*time.Hour + 30*time.Minute)},
			} {
				q.Tenant, q.Limit, q.Range = "acme", 5, r
				got, err := st.Top(ctx, q)
				if err != nil {
					t.Fatalf("top %s by %s: %v", q.Dimension, q.By, err)
				}
				want := refTop(records, q)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("top %s by %s (filter %q) over %s – %s:\n got %v\nwant %v", q.Dimension, q.By, filter.String(q.Filter),
						r.Since.Format(time.TimeOnly), r.Until.Format(time.TimeOnly), got, want)
				}
			}
		}
		if _, err := st.Top(ctx, store.TopQuery{Dimension: "nonsense"}); err == nil {
			t.Error("an unknown dimension was accepted")
		}
	})

	t.Run("session series by dimension", func(t *testing.T) {
		for _, q := range []store.SeriesQuery{
			{Scope: store.Scope{Range: store.Range{Since: Base, Until: Base.Add(12 * time.Hour)}}, Step: 3 * time.Hour, Dimension: "app"},
			{Scope: store.Scope{Range: store.Range{Since: Base.Add(50 * time.Minute), Until: Base.Add(12 * time.Hour)}}, Step: 2 * time.Hour, Dimension: "device"},
			{Scope: store.Scope{Range: store.Range{Since: Base.Add(50 * time.Minute), Until: Base.Add(4 * time.Hour)}}, Step: 5 * time.Minute, Dimension: "device"},
			{Scope: store.Scope{Range: store.Range{Since: Base.Add(time.Hour), Until: Base.Add(7 * time.Hour)}}, Step: 90 * time.Second, Dimension: "src.ip"},
		} {
			q.By, q.Limit = store.Bytes, 3
			got, err := st.Series(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			want := refSeries(records, q)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("series by %s, step %s:\n got %v\nwant %v", q.Dimension, q.Step, got, want)
			}
		}
	})

	t.Run("device metric series", func(t *testing.T) {
		metrics := Metrics()
		n, err := st.WriteMetrics(ctx, metrics)
		if err != nil || n != len(metrics) {
			t.Fatalf("metrics: %d new, %v; want %d", n, err, len(metrics))
		}
		if n, err := st.WriteMetrics(ctx, metrics[:10]); err != nil || n != 0 {
			t.Fatalf("metrics rewritten: %d new, %v; want 0", n, err)
		}
		q := store.SeriesQuery{Scope: store.Scope{Tenant: "acme", Range: store.Range{Since: Base, Until: Base.Add(24 * time.Hour)}},
			Step: 2 * time.Hour, Metric: "aws:num-listening-tcp-ports", Agg: "max", Limit: 10}
		got, err := st.Series(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]float64{}
		for _, m := range metrics {
			if m.Tenant == "acme" {
				k := m.Time.Truncate(2*time.Hour).Format(time.RFC3339) + " " + m.Device
				want[k] = max(want[k], m.Value)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%d points, want %d", len(got), len(want))
		}
		for _, p := range got {
			if k := p.Time.Format(time.RFC3339) + " " + p.Key; want[k] != p.Value {
				t.Fatalf("%s = %v, want %v", k, p.Value, want[k])
			}
		}
		q.Device, q.Agg = "thermostat-2", "last"
		got, err = st.Series(ctx, q)
		if err != nil || len(got) != 12 {
			t.Fatalf("one device, last: %d points, %v; want 12", len(got), err)
		}
	})

	t.Run("traffic matrix", func(t *testing.T) {
		for _, q := range []store.MatrixQuery{
			{By: "segment", Measure: store.Bytes},
			{By: "segment", Measure: store.Sessions, Filter: mustParse(t, `packets > 0`)},
			{By: "tag", Measure: store.Packets},
		} {
			q.Range = store.Range{Since: Base, Until: Base.Add(48 * time.Hour)}
			got, err := st.Matrix(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if want := refMatrix(records, q); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("matrix by %s, %s:\n got %v\nwant %v", q.By, q.Measure, got, want)
			}
		}
	})

	t.Run("group by several dimensions", func(t *testing.T) {
		for _, q := range []store.GroupQuery{
			{Dimensions: []string{"src.segment", "dst.segment", "proto", "dst.port"}, By: store.Sessions, Limit: 1000},
			{Dimensions: []string{"dst.port", "src.segment"}, Filter: mustParse(t, `not conn_state in (S0, REJ) and action != "reject"`), Limit: 7},
			{Dimensions: []string{"app", "proto"}, Filter: mustParse(t, `src.ip in (10.0.0.0/8) or dst.ip in (10.1.0.0/16)`), Limit: 50},
			{Scope: store.Scope{Tenant: "acme"}, Dimensions: []string{"app"}, By: store.Packets, Limit: 100},
		} {
			if q.Tenant == "" {
				q.Range = store.Range{Since: Base.Add(6 * time.Hour), Until: Base.Add(40 * time.Hour)}
			}
			got, err := st.Group(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if want := refGroup(records, q); fmt.Sprint(got) != fmt.Sprint(want) || len(got) == 0 {
				t.Errorf("group by %v:\n got %v\nwant %v", q.Dimensions, got, want)
			}
		}
		for _, dim := range []string{"country", "src.tag", "nope"} {
			if _, err := st.Group(ctx, store.GroupQuery{Dimensions: []string{"proto", dim}}); err == nil || !strings.Contains(err.Error(), strconv.Quote(dim)) {
				t.Errorf("group by %s: %v, want an error naming it", dim, err)
			}
		}
	})

	t.Run("segment pairs per minute", func(t *testing.T) {
		for _, sc := range []store.Scope{
			{Range: store.Range{Since: Base, Until: Base.Add(48 * time.Hour)}},
			{Tenant: "acme", Range: store.Range{Since: Base.Add(12 * time.Hour)}},
		} {
			q := store.PairSeriesQuery{Scope: sc}
			got, err := st.PairSeries(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if want := refPairSeries(records, q); fmt.Sprint(got) != fmt.Sprint(want) || len(got) == 0 {
				t.Errorf("pair series of %q:\n got %d points %.500v\nwant %d points %.500v", sc.Tenant, len(got), got, len(want), want)
			}
		}
	})

	t.Run("devices and findings upsert", func(t *testing.T) {
		d := schema.Device{ID: "dev-1", FirstSeen: Base, LastSeen: Base.Add(time.Hour), MACs: []string{"02:00:00:00:00:01"}, Category: "camera"}
		if err := st.UpsertDevices(ctx, []schema.Device{d, d}); err != nil {
			t.Fatal(err)
		}
		d.Category, d.IPs, d.LastSeen = "printer", []string{"10.0.0.9"}, Base.Add(2*time.Hour)
		d.Attributes = json.RawMessage(`{"vendor":"Brother"}`)
		other := schema.Device{ID: "dev-2", Tenant: "t2", FirstSeen: Base, LastSeen: Base, Category: "plc"}
		if err := st.UpsertDevices(ctx, []schema.Device{d, other}); err != nil {
			t.Fatal(err)
		}
		got, err := st.Devices(ctx, store.DeviceQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Category != "printer" || fmt.Sprint(got[0].IPs, got[0].MACs) != "[10.0.0.9] [02:00:00:00:00:01]" ||
			!got[0].LastSeen.Equal(d.LastSeen) || string(got[0].Attributes) != `{"vendor":"Brother"}` {
			t.Fatalf("devices after upsert: %+v", got)
		}
		if got, err := st.Devices(ctx, store.DeviceQuery{Tenant: "t2", Category: "plc"}); err != nil || len(got) != 1 || got[0].ID != "dev-2" {
			t.Fatalf("tenant t2 plc devices: %+v %v", got, err)
		}
		f := schema.Finding{ID: "f-1", Time: Base, Detector: "intel", Rule: "known-bad-ip", Severity: "high", State: "active", DedupeKey: "k"}
		if err := st.UpsertFindings(ctx, []schema.Finding{f}); err != nil {
			t.Fatal(err)
		}
		f.State = "acknowledged"
		f.Entities = []string{"ip:10.0.0.5", "port:22"}
		f.Evidence = json.RawMessage(`{"count":3}`)
		g := schema.Finding{ID: "f-2", Time: Base.Add(time.Hour), Detector: "scan", Rule: "horizontal-scan", Severity: "medium",
			Entities: []string{"ip:10.0.0.6"}, State: "active", DedupeKey: "k2", Technique: "T1046"}
		if err := st.UpsertFindings(ctx, []schema.Finding{f, g}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			q    store.FindingQuery
			want string
		}{
			{store.FindingQuery{}, "f-2 f-1"},
			{store.FindingQuery{Entity: "port:22"}, "f-1"},
			{store.FindingQuery{MinSeverity: "high"}, "f-1"},
			{store.FindingQuery{State: "active"}, "f-2"},
			{store.FindingQuery{Detector: "scan", Rule: "horizontal-scan"}, "f-2"},
			{store.FindingQuery{Scope: store.Scope{Range: store.Range{Until: Base.Add(time.Minute)}}}, "f-1"},
			{store.FindingQuery{Scope: store.Scope{Tenant: "t2"}}, ""},
		} {
			got, err := st.Findings(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, f := range got.Findings {
				ids = append(ids, f.ID)
			}
			if strings.Join(ids, " ") != c.want {
				t.Errorf("findings %+v: %v, want %s", c.q, ids, c.want)
			}
		}
		for _, c := range []struct {
			sc   store.Scope
			want string
		}{
			{store.Scope{}, "[{high acknowledged 1} {medium active 1}]"}, // f-1 counted once, in its latest state
			{store.Scope{Range: store.Range{Since: Base.Add(time.Minute)}}, "[{medium active 1}]"},
			{store.Scope{Tenant: "t2"}, "[]"},
		} {
			got, err := st.FindingCounts(ctx, c.sc)
			if err != nil || fmt.Sprint(got) != c.want && !(c.want == "[]" && got == nil) {
				t.Errorf("finding counts %+v: %v %v, want %s", c.sc, got, err, c.want)
			}
		}
		first, err := st.Findings(ctx, store.FindingQuery{Limit: 1})
		if err != nil || len(first.Findings) != 1 || first.Findings[0].ID != "f-2" || first.Next == "" {
			t.Fatalf("first page of one: %+v %v", first, err)
		}
		second, err := st.Findings(ctx, store.FindingQuery{Limit: 1, Cursor: first.Next})
		if err != nil || len(second.Findings) != 1 || second.Next != "" {
			t.Fatalf("second page: %+v %v", second, err)
		}
		if _, err := st.Findings(ctx, store.FindingQuery{Cursor: "nonsense"}); err == nil {
			t.Error("a bad cursor was taken")
		}
		one := second.Findings
		if g := one[0]; g.State != "acknowledged" || !g.Time.Equal(Base) || fmt.Sprint(g.Entities) != "[ip:10.0.0.5 port:22]" ||
			string(g.Evidence) != `{"count":3}` || g.Severity != "high" || g.DedupeKey != "k" {
			t.Errorf("finding f-1 read back as %+v", g)
		}
	})

	t.Run("retention drops whole days", func(t *testing.T) {
		now := Base.Add(49 * time.Hour) // day 3, 01:00
		if err := st.Retain(ctx, now, store.Retention{Sessions: 24 * time.Hour, Rollups: 24 * time.Hour}); err != nil {
			t.Fatal(err)
		}
		got := searchAll(t, st, store.SearchQuery{Limit: 10000})
		cut := Base.Add(24 * time.Hour)
		var want int
		for _, s := range sessions {
			if s.Tenant == "" && !s.End.Before(cut) {
				want++
			}
		}
		if len(got) != want {
			t.Fatalf("%d sessions after retention, want %d (ended on or after %s)", len(got), want, cut)
		}
		top, err := st.Top(ctx, store.TopQuery{Dimension: "app", Scope: store.Scope{Range: store.Range{Until: cut}}})
		if err != nil || len(top) != 0 {
			t.Fatalf("rollups before the cut: %v %v", top, err)
		}
	})
}

func id(s *schema.Session) string { return fmt.Sprintf("%s/%s/%d", s.Tenant, s.UID, s.Seq) }

func mustParse(t *testing.T, src string) filter.Expr {
	t.Helper()
	e, err := filter.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func searchAll(t *testing.T, st store.Store, q store.SearchQuery) []schema.Session {
	t.Helper()
	var out []schema.Session
	seen := map[string]bool{}
	for page := 0; ; page++ {
		p, err := st.Search(context.Background(), q)
		if err != nil {
			t.Fatalf("search page %d: %v", page, err)
		}
		for i := range p.Sessions {
			if k := id(&p.Sessions[i]); seen[k] {
				t.Fatalf("page %d repeats %s", page, k)
			} else {
				seen[k] = true
			}
		}
		out = append(out, p.Sessions...)
		if p.Next == "" {
			return out
		}
		if len(p.Sessions) != q.Limit {
			t.Fatalf("page %d has %d sessions and a next page", page, len(p.Sessions))
		}
		q.Cursor = p.Next
	}
}
