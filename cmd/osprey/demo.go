package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/osprey-ndr/osprey/internal/api"
	"github.com/osprey-ndr/osprey/internal/config"
	"github.com/osprey-ndr/osprey/internal/detect/scenario"
	"github.com/osprey-ndr/osprey/internal/store"
)

type demoOpts struct {
	api, health string
	serve       bool
	sc          scenario.Config
}

func newDemoCmd(g *globals) *cobra.Command {
	o := &demoOpts{sc: scenario.DefaultConfig()}
	cmd := &cobra.Command{
		Use:   "demo --config examples/demo/site.yaml",
		Short: "Load a synthetic site's last two days into the store and serve the console over it",
		Long: `demo generates a site — IoT devices (sensors, cameras, PLCs), cloud VMs (web,
app, database, Windows), the infrastructure around them — and its traffic
and Device Defender metrics for the hours up to now, with incidents of every
detector kind injected after the first day (the labelled scenario of
docs/detectors.md). The records go through what osprey run does with the
configuration: the detection engine (its policies and profiles, with the
scenario's in examples/demo/site.yaml), the device inventory and the
embedded store, which must be empty. The records come enriched (assets,
segments, tags, intel hits): the enrich section is not used.

Once they are stored it creates an analyst token for sensor.tenant in
api.tokens, prints the console's URL and the token, and serves the API and
console like osprey run --api, with the engine's clock going, until
SIGINT/SIGTERM; with --serve=false it stops there.`,
		Example: `  osprey demo --config examples/demo/site.yaml
  osprey demo --config examples/demo/site.yaml --api 127.0.0.1:8080 --hours 72
  osprey demo --config examples/demo/site.yaml --serve=false && osprey serve --config examples/demo/site.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDemo(cmd, g, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.api, "api", "", "serve the API and console on this address (default api.listen)")
	f.StringVar(&o.health, "health", "", "address of /healthz and /metrics (health.listen, default 127.0.0.1:9780)")
	f.BoolVar(&o.serve, "serve", true, "serve the console once loaded; false stops after loading")
	f.IntVar(&o.sc.Hours, "hours", o.sc.Hours, "hours of traffic, ending now (at least 30: incidents start after a day of learning)")
	f.IntVar(&o.sc.Devices, "devices", o.sc.Devices, "IoT devices (at least 3)")
	f.IntVar(&o.sc.VMs, "vms", o.sc.VMs, "cloud VMs (at least 4)")
	f.IntVar(&o.sc.Incidents, "incidents", o.sc.Incidents, "incidents injected of each kind")
	f.Uint64Var(&o.sc.Seed, "seed", o.sc.Seed, "random seed: the same seed, the same site")
	return cmd
}

func runDemo(cmd *cobra.Command, g *globals, o *demoOpts) error {
	cfg, log, err := g.load()
	if err != nil {
		return err
	}
	if cfg.Store.Backend != "duckdb" {
		return fmt.Errorf("store.backend: %s; the demo loads the embedded store (duckdb)", cfg.Store.Backend)
	}
	if ents, err := os.ReadDir(cfg.Store.Path); err == nil && len(ents) > 0 {
		return fmt.Errorf("store.path: %s is not empty; the demo loads the hours up to now into a new store: remove it first", cfg.Store.Path)
	}
	cfg.Enrich = config.Enrich{}
	cfg.API.Enabled = true
	if o.api != "" {
		cfg.API.Listen = o.api
	}
	if o.health != "" {
		cfg.Health.Listen = o.health
	}
	if o.serve {
		// Better now than after loading.
		for key, addr := range map[string]string{"api.listen": cfg.API.Listen, "health.listen": cfg.Health.Listen} {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			ln.Close()
		}
	}
	sc := o.sc
	sc.Tenant = cfg.Sensor.Tenant // what the API scopes a token of the tenant to
	sc.Start = time.Now().Add(-time.Duration(sc.Hours) * time.Hour).Truncate(time.Minute)
	site, err := scenario.Generate(sc)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	out := cmd.OutOrStdout()
	ctx := cmd.Context()
	fmt.Fprintf(out, "demo site: %d h of %d IoT devices and %d VMs, tenant %s, %s to %s, incidents of every detector kind in the last %d h\n",
		sc.Hours, sc.Devices, sc.VMs, sc.Tenant, sc.Start.Local().Format("Jan 2 15:04"), time.Now().Local().Format("Jan 2 15:04"), sc.Hours-26)
	p, err := newPipe(ctx, cfg, log, pipeOpts{output: "none", outputChanged: true, store: true, holdClock: true})
	if err != nil {
		return err
	}
	began := time.Now()
	sessions, metrics, err := loadDemo(ctx, p, site)
	if err == nil {
		err = p.flush(ctx)
	}
	var byDetector map[string]int
	if err == nil {
		byDetector, err = countFindings(ctx, p.st, sc.Tenant)
	}
	var secret string
	if err == nil {
		secret, err = demoToken(cfg, sc.Tenant)
	}
	if err != nil {
		p.Close()
		return err
	}
	fmt.Fprintf(out, "loaded %d sessions and %d device metrics into %s in %s\n", sessions, metrics, cfg.Store.Path, time.Since(began).Round(100*time.Millisecond))
	printFindingCounts(out, byDetector)
	if !o.serve {
		if err := p.Close(); err != nil {
			return err
		}
		_, err := fmt.Fprintf(out, "token: %s (analyst, tenant %s; kept hashed in %s)\nserve it: %s serve --config %s --listen %s, then open http://%s/\n",
			secret, sc.Tenant, cfg.API.Tokens, os.Args[0], g.configPath, cfg.API.Listen, cfg.API.Listen)
		return err
	}
	p.startClock(ctx, cfg.Detect.TickEvery)
	a, err := newAPI(cfg, p, log)
	if err != nil {
		p.Close()
		return err
	}
	console := demoConsole{apiServer: a, ready: func(url string) {
		fmt.Fprintf(out, "Console: %s/  token: %s\n(analyst, tenant %s; kept hashed in %s; Ctrl-C stops)\n", url, secret, sc.Tenant, cfg.API.Tokens)
	}}
	return p.serve(ctx, cfg.Health.Listen, log, []component{console})
}

// loadDemo writes the site's records, in time order, through the pipe:
// the engine raises findings as osprey run's would, on session time.
func loadDemo(ctx context.Context, p *pipe, site *scenario.Scenario) (sessions, metrics int, err error) {
	for b := range site.Records() {
		if err := ctx.Err(); err != nil {
			return sessions, metrics, err
		}
		if len(b.Sessions) > 0 {
			if err := p.sessions.WriteSessions(ctx, b.Sessions); err != nil {
				return sessions, metrics, err
			}
			sessions += len(b.Sessions)
		}
		if len(b.Metrics) > 0 && p.metrics != nil {
			if err := p.metrics.WriteMetrics(ctx, b.Metrics); err != nil {
				return sessions, metrics, err
			}
			metrics += len(b.Metrics)
		}
	}
	// The last records are now: the engine ticks up to the present and
	// writes out what it holds.
	if p.det != nil {
		if err := p.det.eng.Advance(ctx, time.Now()); err != nil {
			return sessions, metrics, err
		}
	}
	return sessions, metrics, nil
}

// countFindings counts the tenant's stored findings by detector.
func countFindings(ctx context.Context, st store.Store, tenant string) (map[string]int, error) {
	n := map[string]int{}
	q := store.FindingQuery{Scope: store.Scope{Tenant: tenant}, Limit: 10000}
	for {
		page, err := st.Findings(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("count findings: %w", err)
		}
		for _, f := range page.Findings {
			n[f.Detector]++
		}
		if page.Next == "" {
			return n, nil
		}
		q.Cursor = page.Next
	}
}

func printFindingCounts(w io.Writer, n map[string]int) {
	total := 0
	var parts []string
	for _, d := range slices.Sorted(maps.Keys(n)) {
		total += n[d]
		parts = append(parts, fmt.Sprintf("%s %d", d, n[d]))
	}
	fmt.Fprintf(w, "findings: %d (%s)\n", total, strings.Join(parts, ", "))
}

// demoToken creates an analyst token of the tenant in api.tokens, as
// osprey token create does, and returns its secret.
func demoToken(cfg config.Config, tenant string) (string, error) {
	toks, err := api.OpenTokens(cfg.API.Tokens)
	if err != nil {
		return "", fmt.Errorf("api.tokens: %w", err)
	}
	secret, _, err := toks.Create("demo", tenant, api.Analyst, time.Time{}, time.Now())
	if err != nil {
		return "", fmt.Errorf("api.tokens: %w", err)
	}
	return secret, nil
}

// demoConsole is the API server of osprey run, which says where it is
// once it listens.
type demoConsole struct {
	apiServer
	ready func(url string)
}

func (d demoConsole) Run(ctx context.Context) error {
	if err := d.srv.Start(); err != nil {
		return err
	}
	d.log.Info("API", "address", d.srv.URL()+"/api/v1/")
	d.ready(d.srv.URL())
	<-ctx.Done()
	return d.srv.Stop()
}

var _ component = demoConsole{}
