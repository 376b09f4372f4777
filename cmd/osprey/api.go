package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/spf13/cobra"

	"github.com/osprey-ndr/osprey/internal/api"
	"github.com/osprey-ndr/osprey/internal/config"
)

// apiServer runs the REST API as one of a daemon's parts: it stops with
// them, before the pipe closes the store it reads.
type apiServer struct {
	srv *api.Server
	log *slog.Logger
}

func (a apiServer) Run(ctx context.Context) error {
	if err := a.srv.Start(); err != nil {
		return err
	}
	a.log.Info("API", "address", a.srv.URL()+"/api/v1/")
	<-ctx.Done()
	return a.srv.Stop()
}

func apiConfig(c config.API) api.Config {
	return api.Config{Listen: c.Listen, AuditLog: c.AuditLog, TLSCert: c.TLS.Cert, TLSKey: c.TLS.Key,
		MaxBody: int64(c.MaxBody), Timeout: c.Timeout, CORSOrigins: c.CORSOrigins}
}

// newAPI builds the API over a daemon's pipe: its store, its live
// detection, its metric sink and its registry.
func newAPI(cfg config.Config, p *pipe, log *slog.Logger) (apiServer, error) {
	toks, err := api.OpenTokens(cfg.API.Tokens)
	if err != nil {
		return apiServer{}, fmt.Errorf("api.tokens: %w", err)
	}
	d := api.Deps{Store: p.st, Tokens: toks, SuppressionFile: cfg.Detect.SuppressionFile, SuppressFor: cfg.Detect.SuppressFor,
		Policies: cfg.Detect.Policies, Registry: p.reg, Log: log, Sources: daemonSources(cfg, p), Segmentation: cfg.Segmentation.Config()}
	if p.det != nil {
		d.Engine = p.det.eng
	}
	if p.metrics != nil {
		d.Metrics = p.metrics
	}
	srv, err := api.New(apiConfig(cfg.API), d)
	if err != nil {
		return apiServer{}, err
	}
	return apiServer{srv, log}, nil
}

// sourceKinds name the daemon's sources by the prefix of their metrics.
var sourceKinds = []struct{ prefix, kind string }{
	{"osprey_capture_udp_", "mirror-udp"},
	{"osprey_capture_afpacket_", "interface"},
	{"osprey_netflow_", "netflow"},
	{"osprey_collect_objects_", "flow-logs"},
	{"osprey_defender_", "defender"},
}

// daemonSources lists the listeners and collectors from the counters
// they keep in the registry (summed over labels), with the health
// endpoint's verdict.
func daemonSources(cfg config.Config, p *pipe) func(ctx context.Context) []api.Source {
	return func(ctx context.Context) []api.Source {
		healthy, status := true, ""
		if p.health != nil && p.health.Addr() != "" {
			healthy, status = probeHealth(ctx, p.health.Addr())
		}
		fams, err := p.reg.Gather()
		if err != nil && len(fams) == 0 {
			return nil
		}
		var out []api.Source
		for _, k := range sourceKinds {
			src := api.Source{Name: k.kind, Kind: k.kind, Tenant: cfg.Sensor.Tenant, Healthy: healthy, Status: status,
				Metrics: map[string]float64{}}
			if k.kind == "defender" && cfg.Collect.Defender.Tenant != "" {
				src.Tenant = cfg.Collect.Defender.Tenant
			}
			for _, f := range fams {
				name, ok := strings.CutPrefix(f.GetName(), k.prefix)
				if !ok {
					continue
				}
				for _, m := range f.GetMetric() {
					src.Metrics[name] += metricValue(m)
				}
			}
			if len(src.Metrics) > 0 {
				out = append(out, src)
			}
		}
		return out
	}
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

// probeHealth asks the daemon's own /healthz, as a load balancer would.
func probeHealth(ctx context.Context, addr string) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/healthz", nil)
	if err != nil {
		return false, err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	var h struct {
		Healthy bool              `json:"healthy"`
		Checks  map[string]string `json:"checks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return false, err.Error()
	}
	var bad []string
	for name, s := range h.Checks {
		if s != "ok" {
			bad = append(bad, name+": "+s)
		}
	}
	return h.Healthy, strings.Join(bad, "; ")
}

type serveOpts struct {
	store, listen string
}

func newServeCmd(g *globals) *cobra.Command {
	o := &serveOpts{}
	cmd := &cobra.Command{
		Use:   "serve --store DIR",
		Short: "Serve the REST API over a store without ingesting (docs/api.md)",
		Long: `serve answers the REST API (docs/api.md) from a store that nothing else is
writing: an embedded store copied or left by a stopped daemon, or a ClickHouse
cluster that osprey run processes load. Without a live detection engine,
verdicts change the stored findings and detect.suppression_file, which running
daemons reload. osprey run serves the same API itself with api.enabled.`,
		Example: `  osprey token create --tenant default --role analyst --name laptop
  osprey serve --store osprey-data --listen 127.0.0.1:9782`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, g, o) },
	}
	cmd.Flags().StringVar(&o.store, "store", "", "the embedded store's directory (default: store.path of the configuration)")
	cmd.Flags().StringVar(&o.listen, "listen", "", "address (default api.listen)")
	return cmd
}

func runServe(cmd *cobra.Command, g *globals, o *serveOpts) error {
	cfg, log, err := g.load()
	if err != nil {
		return err
	}
	if o.listen != "" {
		cfg.API.Listen = o.listen
	}
	ctx := cmd.Context()
	st, err := openStore(ctx, cfg, o.store, false)
	if err != nil {
		return fmt.Errorf("--store: %w", err)
	}
	defer st.Close()
	toks, err := api.OpenTokens(cfg.API.Tokens)
	if err != nil {
		return fmt.Errorf("api.tokens: %w", err)
	}
	reg := prometheus.NewRegistry()
	srv, err := api.New(apiConfig(cfg.API), api.Deps{Store: st, Tokens: toks, SuppressionFile: cfg.Detect.SuppressionFile,
		SuppressFor: cfg.Detect.SuppressFor, Policies: cfg.Detect.Policies, Registry: reg, Log: log, Segmentation: cfg.Segmentation.Config()})
	if err != nil {
		return err
	}
	return apiServer{srv, log}.Run(ctx)
}

type tokenOpts struct {
	file, tenant, role, name, expires, output string
}

func newTokenCmd(g *globals) *cobra.Command {
	o := &tokenOpts{}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke API tokens (api.tokens)",
		Long: `token manages the API's bearer tokens (docs/api.md) in the token file
(api.tokens, mode 0600). A token belongs to one tenant and has one role:
viewer (read), analyst (read, triage findings, suppressions, policy what-if),
admin (everything, tokens of its tenant included) or ingest (only writes data
in). The file keeps a SHA-256 of each token, never the token: create prints
it once. A running API picks changes up at once.`,
		Example: `  osprey token create --tenant default --role analyst --name alice --expires 90d
  osprey token list
  osprey token revoke tok_3f2a9c1b0d4e`,
	}
	cmd.PersistentFlags().StringVar(&o.file, "file", "", "token file (default api.tokens)")
	create := &cobra.Command{
		Use:   "create --tenant T --role ROLE --name NAME",
		Short: "Create a token and print it (once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			toks, err := openTokens(g, o)
			if err != nil {
				return err
			}
			role, err := api.ParseRole(o.role)
			if err != nil {
				return fmt.Errorf("--role: %w", err)
			}
			if o.tenant == "" {
				return errors.New("--tenant: required")
			}
			if o.name == "" {
				return errors.New("--name: required")
			}
			now := time.Now()
			var expires time.Time
			if o.expires != "" {
				d, err := api.ParseLifetime(o.expires)
				if err != nil {
					return fmt.Errorf("--expires: %w", err)
				}
				expires = now.Add(d)
			}
			secret, tok, err := toks.Create(o.name, o.tenant, role, expires, now)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "token %s (%s, tenant %s, role %s): shown once, keep it safe\n", tok.ID, tok.Name, tok.Tenant, tok.Role)
			_, err = fmt.Fprintln(cmd.OutOrStdout(), secret)
			return err
		},
	}
	create.Flags().StringVar(&o.tenant, "tenant", "", "the tenant the token reads and changes")
	create.Flags().StringVar(&o.role, "role", "viewer", "viewer, analyst, admin or ingest")
	create.Flags().StringVar(&o.name, "name", "", "who or what it is for")
	create.Flags().StringVar(&o.expires, "expires", "", "lifetime (90d, 2160h); default never")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			toks, err := openTokens(g, o)
			if err != nil {
				return err
			}
			tenant := o.tenant
			if tenant == "" {
				tenant = "*"
			}
			all, err := toks.List(tenant)
			if err != nil {
				return err
			}
			when := func(t time.Time, zero string) string {
				if t.IsZero() {
					return zero
				}
				return t.UTC().Format(time.RFC3339)
			}
			return render(cmd.OutOrStdout(), o.output, all, []string{"id", "name", "tenant", "role", "created", "expires", "last_used"},
				func(t api.Token) []string {
					return []string{t.ID, t.Name, t.Tenant, string(t.Role), when(t.Created, ""), when(t.Expires, "never"), when(t.LastUsed, "never")}
				})
		},
	}
	list.Flags().StringVar(&o.tenant, "tenant", "", "only this tenant's")
	list.Flags().StringVarP(&o.output, "output", "o", "table", "table or json")
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token: the API refuses it at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			toks, err := openTokens(g, o)
			if err != nil {
				return err
			}
			if err := toks.Revoke(args[0], "*"); err != nil {
				return fmt.Errorf("revoke %s: %w", args[0], err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "token %s revoked\n", args[0])
			return err
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func openTokens(g *globals, o *tokenOpts) (*api.Tokens, error) {
	path := o.file
	if path == "" {
		cfg, _, err := g.load()
		if err != nil {
			return nil, err
		}
		path = cfg.API.Tokens
	}
	return api.OpenTokens(path)
}
