package enrich

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/osprey-ndr/osprey/internal/enrich/intel"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// fixture writes one file of every kind and returns a Config over them.
func fixture(t testing.TB) (Config, string) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := Config{
		Assets: []string{write("assets.yaml", `
assets:
  - {id: i-0db, name: orders-db, account: "111122223333", ips: [10.20.0.5], tags: [datastore]}
  - {id: i-0web, name: web-1, account: "111122223333", interfaces: [eni-web]}
interfaces:
  - {id: eni-web, asset: i-0web, ips: [10.10.0.9]}
mirror_sessions:
  - {id: tmms-1, vni: 4242, interface: eni-web}
`)},
		CIDRs: []string{write("ranges.yaml", `
- {cidr: 10.0.0.0/8, tags: [corp]}
- {cidr: 10.20.0.0/16, tags: [prod], segment: datastores}
- {cidr: 10.10.0.0/16, segment: web}
`)},
		GeoIP: []string{writeMMDB(t, dir)},
		Intel: []intel.FeedConfig{{Name: "c2", Path: write("c2.txt", "203.0.113.7\nevil.example\n")}},
	}
	return cfg, dir
}

// writeMMDB writes a small City-style database with one network.
func writeMMDB(t testing.TB, dir string) string {
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-City", RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	_, n, _ := net.ParseCIDR("203.0.113.0/24")
	rec := mmdbtype.Map{
		"country": mmdbtype.Map{"iso_code": mmdbtype.String("NL")},
		"city":    mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("Amsterdam")}},
	}
	if err := w.Insert(n, rec); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "city.mmdb")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return p
}

func session() schema.Session {
	return schema.Session{
		Orig:   schema.Endpoint{IP: netip.MustParseAddr("10.10.0.9"), Port: 51000},
		Resp:   schema.Endpoint{IP: netip.MustParseAddr("203.0.113.7"), Port: 443},
		Mirror: &schema.Mirror{Kind: "vxlan", Source: netip.MustParseAddr("10.10.0.9"), VNI: 4242},
		L7:     &schema.L7{TLS: &schema.TLS{SNI: "cdn.evil.example"}, HTTP: &schema.HTTP{Host: "Evil.Example:8080"}},
	}
}

func TestSession(t *testing.T) {
	cfg, _ := fixture(t)
	e, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s := session()
	e.Session(&s)
	o, r := s.Orig, s.Resp
	if o.Asset != "i-0web" || o.AssetName != "web-1" || o.Account != "111122223333" || o.Segment != "web" || !slices.Equal(o.Tags, []string{"corp"}) {
		t.Errorf("orig %+v", o)
	}
	if r.Asset != "" || r.Segment != "internet" || r.Geo == nil || r.Geo.Country != "NL" || r.Geo.City != "Amsterdam" {
		t.Errorf("resp %+v geo %+v", r, r.Geo)
	}
	if len(r.Intel) != 1 || r.Intel[0] != (schema.IntelHit{Feed: "c2", Indicator: "203.0.113.7", Field: "ip"}) {
		t.Errorf("resp intel %+v", r.Intel)
	}
	if len(o.Intel) != 0 || o.Geo != nil {
		t.Errorf("private orig got intel %+v or geo %+v", o.Intel, o.Geo)
	}
	want := []schema.IntelHit{{Feed: "c2", Indicator: "evil.example", Field: "tls.sni"}, {Feed: "c2", Indicator: "evil.example", Field: "http.host"}}
	if !slices.Equal(s.Intel, want) {
		t.Errorf("domain hits %+v, want %+v", s.Intel, want)
	}
	if m := s.Mirror; m.Session != "tmms-1" || m.Interface != "eni-web" || m.Asset != "i-0web" {
		t.Errorf("mirror %+v", m)
	}

	db := schema.Session{Orig: schema.Endpoint{IP: netip.MustParseAddr("10.20.0.5")}, Resp: schema.Endpoint{IP: netip.MustParseAddr("192.168.9.9")}}
	e.Session(&db)
	if !slices.Equal(db.Orig.Tags, []string{"corp", "datastore", "prod"}) || db.Orig.Segment != "datastores" {
		t.Errorf("asset and range tags not merged: %+v", db.Orig)
	}
	if db.Resp.Segment != "unknown-private" || db.Resp.Tags != nil {
		t.Errorf("unmatched private address %+v", db.Resp)
	}

	m := schema.DeviceMetric{Device: "orders-db"}
	e.Metric(&m)
	if m.Asset != "i-0db" {
		t.Errorf("metric asset %q", m.Asset)
	}
}

func TestStartFailsOnBrokenSource(t *testing.T) {
	cfg, dir := fixture(t)
	cfg.CIDRs = append(cfg.CIDRs, filepath.Join(dir, "missing.yaml"))
	if _, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a missing file at start was not an error")
	}
}

// TestReload changes a file while sessions are being enriched from
// several goroutines: every session gets the old or the new answer, a
// broken version is reported and the last good one stays.
func TestReload(t *testing.T) {
	cfg, dir := fixture(t)
	cfg.Poll = 50 * time.Millisecond
	e, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.Run(ctx)

	segment := func() string {
		s := session()
		e.Session(&s)
		return s.Orig.Segment
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if seg := segment(); seg != "web" && seg != "frontend" {
					t.Errorf("segment %q during a reload", seg)
					return
				}
			}
		})
	}
	ranges := filepath.Join(dir, "ranges.yaml")
	replace(t, ranges, "- {cidr: 10.10.0.0/16, segment: frontend}\n")
	waitFor(t, "the new ranges", func() bool { return segment() == "frontend" })

	replace(t, ranges, "- {cidr: [not a prefix\n")
	waitFor(t, "the broken file to be reported", func() bool { return failures(e, "cidrs "+ranges) > 0 })
	if segment() != "frontend" {
		t.Error("the last good ranges were dropped after a broken reload")
	}
	replace(t, ranges, "- {cidr: 10.10.0.0/16, segment: web}\n")
	waitFor(t, "the repaired ranges", func() bool { return segment() == "web" })
	close(stop)
	wg.Wait()
}

// replace writes a file the way deployment tools do: a new file renamed
// over the old one.
func replace(t *testing.T, path, body string) {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func failures(e *Enricher, name string) uint64 {
	for _, s := range e.Stats() {
		if s.Name == name {
			return s.Failures
		}
	}
	return 0
}

func TestUnion(t *testing.T) {
	for _, tc := range []struct{ a, b, want []string }{
		{nil, []string{"x"}, []string{"x"}},
		{[]string{"a", "c"}, nil, []string{"a", "c"}},
		{[]string{"a", "c", "e"}, []string{"b", "c", "f"}, []string{"a", "b", "c", "e", "f"}},
		{[]string{"b"}, []string{"a"}, []string{"a", "b"}},
	} {
		if got := union(tc.a, tc.b); !slices.Equal(got, tc.want) {
			t.Errorf("union(%q, %q) = %q", tc.a, tc.b, got)
		}
	}
}
