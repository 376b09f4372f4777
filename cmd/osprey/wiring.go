package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/osprey-ndr/osprey/internal/capture"
	"github.com/osprey-ndr/osprey/internal/config"
	"github.com/osprey-ndr/osprey/internal/dpi"
	"github.com/osprey-ndr/osprey/internal/output"
	"github.com/osprey-ndr/osprey/internal/pipeline"
	"github.com/osprey-ndr/osprey/internal/sensor"
)

// sensorConfig maps the YAML configuration onto the stages' own configs.
func sensorConfig(cfg config.Config, source string) sensor.Config {
	sc := sensor.DefaultConfig()
	sc.Decode.VXLANPorts = cfg.Decode.VXLANPorts
	sc.Decode.GENEVEPorts = cfg.Decode.GENEVEPorts
	sc.Decode.VerifyChecksums = cfg.Decode.VerifyChecksums
	m := &sc.Meter
	m.IdleTCP, m.IdleUDP, m.IdleICMP, m.IdleOther = cfg.Meter.IdleTCP, cfg.Meter.IdleUDP, cfg.Meter.IdleICMP, cfg.Meter.IdleOther
	m.Active = cfg.Meter.Active
	m.MaxFlows = cfg.Meter.MaxFlows
	m.TunnelSessions = cfg.Meter.TunnelSessions
	m.LocalNets = cfg.Meter.LocalNets
	m.CommunityIDSeed = cfg.Meter.CommunityIDSeed
	m.DPI = cfg.DPI.Enabled
	m.DPILimits = dpi.Limits{Bytes: int(cfg.DPI.Bytes), Packets: cfg.DPI.Packets, Flows: cfg.DPI.Flows}
	m.Sensor, m.Tenant, m.Source = cfg.Sensor.Name, cfg.Sensor.Tenant, source
	sc.Shards = cfg.Meter.Shards
	return sc
}

// newSink builds the session writer named by --output.
func newSink(format string, w io.Writer, cfg config.Config) (pipeline.SessionSink, error) {
	switch format {
	case "json":
		return output.NewJSON(w), nil
	case "zeek":
		return output.NewZeekConn(w, output.ZeekOptions{LocalNets: cfg.Meter.LocalNets}), nil
	case "none":
		return output.NewDiscard(), nil
	}
	return nil, fmt.Errorf("--output %q: want json, zeek or none", format)
}

// openOut opens --out (stdout when empty or "-").
func openOut(path string) (io.WriteCloser, error) {
	if path == "" || path == "-" {
		return nopCloser{os.Stdout}, nil
	}
	return os.Create(path)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// errorReporter counts errors by source and logs them at a bounded rate,
// so a corrupt capture cannot flood the log.
type errorReporter struct {
	log     *slog.Logger
	what    string
	mu      sync.Mutex
	count   uint64
	window  time.Time
	inWin   int
	perSec  int
	dropped uint64
}

func newErrorReporter(log *slog.Logger, what string) *errorReporter {
	return &errorReporter{log: log, what: what, perSec: 10}
}

func (r *errorReporter) report(source string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count++
	now := time.Now()
	if now.Sub(r.window) >= time.Second {
		if r.dropped > 0 {
			r.log.Warn("errors not logged (rate limit)", "kind", r.what, "count", r.dropped)
		}
		r.window, r.inWin, r.dropped = now, 0, 0
	}
	if r.inWin >= r.perSec {
		r.dropped++
		return
	}
	r.inWin++
	r.log.Warn(r.what, "source", source, "error", err.Error())
}

// decodeErrors returns the sensor's decode-error hook: log at a bounded
// rate and, with a dead-letter file, keep the frame.
func decodeErrors(log *slog.Logger, rejects *rejectWriter) (*errorReporter, func(string, *capture.Frame, error)) {
	r := newErrorReporter(log, "decode error")
	return r, func(source string, f *capture.Frame, err error) {
		r.report(source, err)
		if rejects != nil {
			if werr := rejects.write(f, err); werr != nil {
				r.report("rejects file", werr)
			}
		}
	}
}

// openRejects opens the --rejects file, if one was asked for.
func openRejects(path string) (*rejectWriter, error) {
	if path == "" {
		return nil, nil
	}
	return newRejectWriter(path)
}

func (r *errorReporter) total() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count
}
