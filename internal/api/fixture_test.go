package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/duckdb"
	"github.com/osprey-ndr/osprey/internal/store/storetest"
)

// now is the fixture's clock: its data lies in the three hours before.
var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// The two tenants, each with markers no record of the other carries:
// its name in every id and label, and its own address range.
var tenants = map[string]struct{ name, net string }{
	"alpha": {"alpha", "10.111."},
	"bravo": {"bravo", "10.222."},
}

func other(tenant string) string {
	if tenant == "alpha" {
		return "bravo"
	}
	return "alpha"
}

// fixture is a server over a real DuckDB store holding both tenants'
// sessions, metrics, devices and findings, with a token per tenant and
// role.
type fixture struct {
	dir     string
	st      store.Store
	tokens  *Tokens
	srv     *Server
	http    *httptest.Server
	secrets map[string]map[Role]string // tenant → role → secret
	policy  string
	sups    string
	audit   string
}

func addr(net string, i int) netip.Addr {
	return netip.MustParseAddr(fmt.Sprintf("%s%d.%d", net, i/250, 1+i%250))
}

func sessionsOf(tenant string, n int) []schema.Session {
	t := tenants[tenant]
	var out []schema.Session
	apps := []string{"tls", "dns", "http", "mqtt"}
	for i := range n {
		end := now.Add(-time.Duration(1+i*7919%10000) * time.Second)
		dev := i % 12
		s := schema.Session{
			Version: schema.SessionVersion, UID: fmt.Sprintf("C%s%05d", t.name, i), Tenant: tenant, Final: true,
			Sensor: t.name + "-sensor", Source: "pcap", Start: end.Add(-time.Duration(i%30) * time.Second), End: end,
			Orig: schema.Endpoint{IP: addr(t.net, dev), Port: uint16(40000 + i%2000), Tags: []string{t.name + "-iot"}, Segment: t.name + "-plant"},
			Resp: schema.Endpoint{IP: addr(t.net, 100+i%5), Port: []uint16{22, 443, 502, 1883}[i%4], Tags: []string{t.name + "-srv"},
				Segment: t.name + "-dc", Asset: fmt.Sprintf("i-%s-%d", t.name, i%5)},
			Proto: 6, Transport: "tcp", ConnState: "SF", History: "ShADadFf", App: apps[i%4], Direction: "internal",
			OrigPkts: 4, RespPkts: 3, OrigBytes: uint64(100 + i%900), RespBytes: uint64(1000 + i%5000),
		}
		out = append(out, s)
	}
	return out
}

// fataler is testing.TB's Fatal, which TestMain has no T for.
type fataler interface{ Fatal(args ...any) }

type panicker struct{}

func (panicker) Fatal(args ...any) { panic(fmt.Sprint(args...)) }

func newFixture(t fataler, dir string) *fixture {
	ctx := context.Background()
	st, err := duckdb.Open(ctx, filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{dir: dir, st: st, secrets: map[string]map[Role]string{}}
	for tenant, tm := range tenants {
		if _, err := st.WriteSessions(ctx, storetest.Records(ctx, sessionsOf(tenant, 400))); err != nil {
			t.Fatal(err)
		}
		var ms []schema.DeviceMetric
		var devs []schema.Device
		var fs []schema.Finding
		for d := range 5 {
			asset := fmt.Sprintf("i-%s-%d", tm.name, d)
			for m := range 36 {
				at := now.Add(-time.Duration(m*5) * time.Minute)
				ms = append(ms,
					schema.DeviceMetric{Tenant: tenant, Device: asset, Time: at, Name: "aws:num-listening-tcp-ports", Value: float64(2 + m%3)},
					schema.DeviceMetric{Tenant: tenant, Device: asset, Time: at, Name: "aws:listening-tcp-ports", Value: float64(2 + m%3),
						List: []string{"22", "443", "502"}[:2+m%2]})
			}
			devs = append(devs, schema.Device{ID: "asset:" + asset, Tenant: tenant, FirstSeen: now.Add(-3 * time.Hour),
				LastSeen: now.Add(-time.Duration(d) * time.Minute), IPs: []string{addr(tm.net, 100+d).String()}, Category: "plc"})
		}
		for i := range 30 {
			sev := []string{"info", "low", "medium", "high", "critical"}[i%5]
			ev, _ := json.Marshal(map[string]any{"summary": tm.name + " finding", "state": "active"})
			fs = append(fs, schema.Finding{ID: fmt.Sprintf("f-%s-%02d", tm.name, i), Tenant: tenant, Time: now.Add(-time.Duration(i) * time.Minute),
				Detector: "policy", Rule: fmt.Sprintf("%s-rule-%d", tm.name, i%3), Severity: sev,
				Entities: []string{"ip:" + addr(tm.net, i%12).String()}, Evidence: ev, State: "active",
				DedupeKey: fmt.Sprintf("%s|%d", tm.name, i)})
		}
		// Kept for the false-positive test: its own detector, so that the
		// walk's verdicts never close it.
		fs = append(fs, schema.Finding{ID: "fp-" + tm.name, Tenant: tenant, Time: now.Add(-time.Hour), Detector: "beaconing",
			Rule: "beacon", Severity: "low", Entities: []string{"ip:" + addr(tm.net, 1).String()}, State: "active", DedupeKey: "fp-" + tm.name})
		if _, err := st.WriteMetrics(ctx, ms); err != nil {
			t.Fatal(err)
		}
		if err := st.UpsertDevices(ctx, devs); err != nil {
			t.Fatal(err)
		}
		if err := st.UpsertFindings(ctx, fs); err != nil {
			t.Fatal(err)
		}
	}
	f.policy = filepath.Join(dir, "baseline.yaml")
	os.WriteFile(f.policy, []byte(`version: 1
name: baseline
rules:
  - name: no-ssh
    severity: high
    deny: {to: {port: 22}}
`), 0o644)
	f.sups = filepath.Join(dir, "suppressions.yaml")
	f.audit = filepath.Join(dir, "audit.jsonl")
	if f.tokens, err = OpenTokens(filepath.Join(dir, "tokens.json")); err != nil {
		t.Fatal(err)
	}
	for tenant := range tenants {
		f.secrets[tenant] = map[Role]string{}
		for _, r := range Roles {
			secret, _, err := f.tokens.Create(tenant+"-"+string(r), tenant, r, time.Time{}, now)
			if err != nil {
				t.Fatal(err)
			}
			f.secrets[tenant][r] = secret
		}
	}
	f.srv, err = New(Config{AuditLog: f.audit}, Deps{
		Store: st, Tokens: f.tokens, SuppressionFile: f.sups, Policies: []string{f.policy},
		Registry: prometheus.NewRegistry(), Now: func() time.Time { return now },
		Sources: func(context.Context) []Source {
			return []Source{
				{Name: "alpha-vxlan", Kind: "vxlan", Tenant: "alpha", Healthy: true, Metrics: map[string]float64{"datagrams": 10}},
				{Name: "bravo-netflow", Kind: "netflow", Tenant: "bravo", Healthy: true, Metrics: map[string]float64{"records": 7}},
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.http = httptest.NewServer(f.srv.Handler())
	return f
}

func (f *fixture) Close() {
	f.http.Close()
	f.srv.Stop()
	f.st.Close()
}

// do calls the API; secret "" sends no token.
func (f *fixture) do(t testing.TB, method, path, secret, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.http.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	resp, err := f.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var shared *fixture

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "osprey-api-")
	if err != nil {
		panic(err)
	}
	shared = newFixture(panicker{}, dir)
	code := m.Run()
	shared.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
