package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-ndr/osprey/internal/config"
	"github.com/osprey-ndr/osprey/internal/deliver"
	"github.com/osprey-ndr/osprey/internal/deliver/hec"
	"github.com/osprey-ndr/osprey/internal/deliver/ocsf"
	"github.com/osprey-ndr/osprey/internal/deliver/syslog"
	"github.com/osprey-ndr/osprey/internal/deliver/webhook"
	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/enrich"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// outputTypes builds each output type's encoder and destination from
// its configuration section (docs/outputs.md, "Adding an output type").
// Errors name keys relative to the section.
var outputTypes = map[string]func(o config.Output) (deliver.Encoder, deliver.Destination, error){
	"webhook": func(o config.Output) (deliver.Encoder, deliver.Destination, error) {
		w, err := webhook.New(*o.Webhook)
		if err != nil {
			return nil, nil, err
		}
		return w.Encoder(), w, nil
	},
	"syslog": func(o config.Output) (deliver.Encoder, deliver.Destination, error) {
		s, err := syslog.New(*o.Syslog)
		if err != nil {
			return nil, nil, err
		}
		return s.Encoder(), s, nil
	},
	"splunk_hec": func(o config.Output) (deliver.Encoder, deliver.Destination, error) {
		h, err := hec.New(*o.SplunkHEC)
		if err != nil {
			return nil, nil, err
		}
		return h.Encoder(), h, nil
	},
	"ocsf": func(o config.Output) (deliver.Encoder, deliver.Destination, error) {
		d, err := ocsf.New(*o.OCSF)
		if err != nil {
			return nil, nil, err
		}
		return d.Encoder(), d, nil
	},
}

// outputs is the configured outputs behind one router, with the sinks
// the pipeline needs; nil when no output is configured.
type outputs struct {
	*deliver.Router
	errs *errorReporter
}

// newOutputs opens the queues of the outputs named (all when names is
// nil) under dataDir/outputs unless an output sets queue.dir. en, when
// it returns an enricher, gives finding entities and metric devices
// their tags for the tags filter. Nothing is started.
func newOutputs(cfg config.Config, names []string, dataDir string, reg prometheus.Registerer, log *slog.Logger, en func() *enrich.Enricher) (*outputs, error) {
	if len(cfg.Outputs) == 0 {
		return nil, nil
	}
	m, err := deliver.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	errs := newErrorReporter(log, "output")
	opts := deliver.Options{
		DataDir: filepath.Join(dataDir, "outputs"),
		Metrics: m,
		Tags:    entityTags(en),
		OnError: func(err error) { errs.report("delivery", err) },
	}
	var outs []*deliver.Output
	closeAll := func() {
		for _, o := range outs {
			o.Stop()
		}
	}
	for i, oc := range cfg.Outputs {
		if names != nil && !slices.Contains(names, oc.Name) {
			continue
		}
		build, ok := outputTypes[oc.Type]
		if !ok { // config validation knows the same types
			closeAll()
			return nil, fmt.Errorf("outputs[%d].type: no builder for %q", i, oc.Type)
		}
		enc, dst, err := build(oc)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("outputs[%d].%s.%w", i, oc.Type, err)
		}
		o, err := deliver.NewOutput(oc.Config, enc, dst, opts)
		if err != nil {
			dst.Close()
			closeAll()
			return nil, err
		}
		outs = append(outs, o)
	}
	for _, n := range names {
		if !slices.ContainsFunc(cfg.Outputs, func(o config.Output) bool { return o.Name == n }) {
			closeAll()
			return nil, fmt.Errorf("--outputs: no output named %q in the configuration", n)
		}
	}
	if len(outs) == 0 {
		return nil, nil
	}
	return &outputs{Router: deliver.NewRouter(outs...), errs: errs}, nil
}

// entityTags resolves "ip:<address>" entities through the enrichment
// (assets and CIDR maps) at the time the event is routed.
func entityTags(en func() *enrich.Enricher) deliver.TagsFunc {
	return func(entity string) []string {
		e := en()
		ip, ok := strings.CutPrefix(entity, "ip:")
		if e == nil || !ok {
			return nil
		}
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return nil
		}
		s := schema.Session{Orig: schema.Endpoint{IP: addr}}
		e.Session(&s)
		return s.Orig.Tags
	}
}

// findings is the router as a finding sink whose Close leaves the
// outputs running: the pipe stops them once every writer is done.
func (o *outputs) findings() detect.FindingSink { return findingsOnly{o.Router} }

type findingsOnly struct{ r *deliver.Router }

func (f findingsOnly) WriteFindings(ctx context.Context, b []schema.Finding) error {
	return f.r.WriteFindings(ctx, b)
}
func (findingsOnly) Close() error { return nil }

// sessions is the router's session sink for the pipeline. A record that
// cannot be queued is counted (osprey_output_dropped_total) and logged
// at a bounded rate, never returned: outputs must not stop sessions from
// reaching the store.
func (o *outputs) sessions() sessionsOnly { return sessionsOnly{o} }

type sessionsOnly struct{ o *outputs }

func (s sessionsOnly) WriteSessions(ctx context.Context, b []schema.Session) error {
	if err := s.o.Sessions().WriteSessions(ctx, b); err != nil {
		s.o.errs.report("sessions", err)
	}
	return nil
}
func (sessionsOnly) Close() error { return nil }

// metrics is the router's device-metric sink, errors handled as for
// sessions.
func (o *outputs) metrics() metricsOnly { return metricsOnly{o} }

type metricsOnly struct{ o *outputs }

func (m metricsOnly) WriteMetrics(ctx context.Context, b []schema.DeviceMetric) error {
	if err := m.o.Metrics().WriteMetrics(ctx, b); err != nil {
		m.o.errs.report("metrics", err)
	}
	return nil
}
func (metricsOnly) Close() error { return nil }

// report says, after a one-off command, what is left undelivered.
func (o *outputs) report(w io.Writer) {
	for _, out := range o.Outputs() {
		if n := out.Left(); n > 0 {
			fmt.Fprintf(w, "output %s: %d records not delivered yet; they stay queued for the next osprey run or read --outputs\n", out.Name(), n)
		}
	}
}

// readOutputs opens the outputs osprey read --outputs names ("all" for
// every one), with their queues under --store or store.path; nil
// without the flag. Replaying a capture reaches no receiver unless
// asked to.
func readOutputs(cfg config.Config, log *slog.Logger, o *readOpts) (*outputs, error) {
	if len(o.outputs) == 0 {
		return nil, nil
	}
	if len(cfg.Outputs) == 0 {
		return nil, fmt.Errorf("the configuration has no outputs")
	}
	names := o.outputs
	if slices.Contains(names, "all") {
		names = nil
	}
	dataDir := o.store
	if dataDir == "" {
		dataDir = cfg.Store.Path
	}
	outs, err := newOutputs(cfg, names, dataDir, nil, log, func() *enrich.Enricher { return nil })
	if err != nil || outs == nil {
		return nil, err
	}
	outs.Start(context.Background())
	return outs, nil
}
