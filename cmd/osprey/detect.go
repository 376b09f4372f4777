package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-ndr/osprey/internal/config"
	"github.com/osprey-ndr/osprey/internal/deliver"
	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/detect/audit"
	"github.com/osprey-ndr/osprey/internal/detect/behave"
	"github.com/osprey-ndr/osprey/internal/detect/policy"
	"github.com/osprey-ndr/osprey/internal/detect/profile"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// detection is the detect engine with the detectors the configuration
// enables, as a session sink. A failure to write findings is logged and
// counted (osprey_detect_sink_errors_total), never returned: it must not
// stop sessions from reaching the store.
type detection struct {
	eng    *detect.Engine
	policy *policy.Detector // nil without policy files
	files  []string
	// supFile is detect.suppression_file, reloaded when it changes.
	supFile string
	errs    *errorReporter
	log     *slog.Logger
}

func newDetection(cfg config.Config, sink detect.FindingSink, reg prometheus.Registerer, log *slog.Logger) (*detection, error) {
	c := cfg.Detect
	dets, err := behave.New(c.Behaviours)
	if err != nil {
		return nil, fmt.Errorf("detect.behaviours: %w", err)
	}
	d := &detection{files: c.Policies, supFile: c.SuppressionFile, errs: newErrorReporter(log, "detection"), log: log}
	if len(c.Policies) > 0 {
		set, err := policy.LoadFiles(c.Policies...)
		if err != nil {
			return nil, err
		}
		d.policy = policy.NewDetector(set)
		dets = append(dets, d.policy)
		if reg != nil {
			reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "osprey_detect_policy_eval_errors_total",
				Help: "CEL conditions of policy rules that failed to evaluate (and did not fire).",
			}, func() float64 { return float64(d.policy.EvalErrors()) }))
		}
	}
	audits, err := audit.New(c.Audits)
	if err != nil {
		return nil, fmt.Errorf("detect.audits: %w", err)
	}
	dets = append(dets, audits...)
	if len(c.Profiles.Files) > 0 {
		pd, err := profile.New(c.Profiles)
		if err != nil {
			return nil, fmt.Errorf("detect.profiles: %w", err)
		}
		dets = append(dets, pd)
	}
	var opts []detect.Option
	if reg != nil {
		opts = append(opts, detect.WithRegisterer(reg))
	}
	if d.eng, err = detect.New(c.Config, dets, sink, opts...); err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	return d, nil
}

func (d *detection) WriteSessions(ctx context.Context, batch []schema.Session) error {
	if err := d.eng.WriteSessions(ctx, batch); err != nil {
		d.errs.report("findings", err)
	}
	return nil
}

// WriteMetrics feeds device metrics to the detectors that take them.
func (d *detection) WriteMetrics(ctx context.Context, batch []schema.DeviceMetric) error {
	if err := d.eng.WriteMetrics(ctx, batch); err != nil {
		d.errs.report("findings", err)
	}
	return nil
}

// Close writes the last findings; the finding sink closes with it.
func (d *detection) Close() error { return d.eng.Close() }

// live, for the daemons, moves the engine on with the clock when the
// traffic is quiet (findings still clear), reloads the policy files when
// they change, and the suppression file when another process (osprey
// findings verdict) changed it, until ctx ends.
func (d *detection) live(ctx context.Context, every time.Duration) {
	policies, sups := stamp(d.files...), stamp(d.supFile)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if err := d.eng.Advance(ctx, now); err != nil && ctx.Err() == nil {
				d.errs.report("findings", err)
			}
			if cur := stamp(d.files...); d.policy != nil && cur != policies {
				policies = cur
				if err := d.policy.Reload(d.files...); err != nil {
					d.log.Error("policy reload failed; the previous policies stay in force", "error", err)
				} else {
					d.log.Info("policies reloaded", "files", d.files, "rules", d.policy.Set().Rules())
				}
			}
			if cur := stamp(d.supFile); d.supFile != "" && cur != sups {
				sups = cur
				if err := d.eng.ReloadSuppressions(ctx); err != nil {
					d.log.Error("suppression reload failed; the previous suppressions stay in force", "error", err)
				}
			}
		}
	}
}

// stamp lists files' sizes and modification times: a change of any is a
// reason to reload.
func stamp(files ...string) string {
	var s string
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			s += fmt.Sprint(fi.Size(), fi.ModTime().UnixNano(), ";")
		}
	}
	return s
}

// readFindings is osprey read's detection: findings go to --findings
// and, with --store, to the store.
type readFindings struct {
	*detection
	file  io.WriteCloser // nil without --findings
	count *findingCount
}

// readDetection returns nil when nothing asks for it: neither
// --findings, nor (with detection enabled) a store or outputs that carry
// findings.
func readDetection(cfg config.Config, log *slog.Logger, o *readOpts, ss *storeSink, outs *outputs) (*readFindings, error) {
	toOutputs := outs != nil && outs.Wants(deliver.KindFinding) && cfg.Detect.Enabled
	if o.findings == "" && !toOutputs && (ss == nil || !cfg.Detect.Enabled) {
		return nil, nil
	}
	r := &readFindings{count: &findingCount{byDetector: map[string]string{}}}
	sinks := []detect.FindingSink{r.count}
	if toOutputs {
		sinks = append(sinks, outs.findings())
	}
	if o.findings != "" {
		f, err := openOut(o.findings)
		if err != nil {
			return nil, fmt.Errorf("--findings: %w", err)
		}
		r.file = f
		sinks = append(sinks, detect.NewJSONSink(f))
	}
	if ss != nil {
		sinks = append(sinks, detect.NewStoreSink(ss.st, 1000))
	}
	var err error
	if r.detection, err = newDetection(cfg, detect.Tee(sinks...), nil, log); err != nil {
		if r.file != nil {
			r.file.Close()
		}
		return nil, err
	}
	return r, nil
}

// closeFile closes --findings once the engine has written to it.
func (r *readFindings) closeFile() error {
	if r.file == nil {
		return nil
	}
	if err := r.file.Close(); err != nil {
		return fmt.Errorf("--findings: %w", err)
	}
	return nil
}

// findingCount counts the findings by detector for --stats.
type findingCount struct {
	byDetector map[string]string // finding id → detector
}

func (c *findingCount) WriteFindings(_ context.Context, batch []schema.Finding) error {
	for _, f := range batch {
		c.byDetector[f.ID] = f.Detector
	}
	return nil
}

func (c *findingCount) Close() error { return nil }

func (c *findingCount) print(w io.Writer) {
	n := map[string]int{}
	for _, d := range c.byDetector {
		n[d]++
	}
	names := slices.Sorted(maps.Keys(n))
	parts := make([]string, len(names))
	for i, d := range names {
		parts[i] = fmt.Sprintf("%s %d", d, n[d])
	}
	fmt.Fprintf(w, "findings: %d", len(c.byDetector))
	if len(parts) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
}
